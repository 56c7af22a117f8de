/**
 * The application-registration decision, pure: may the caller an
 * authenticating plugin established use this route's Service? Judged on
 * every request against the config in service, never cached with a token,
 * so a revocation applies to the next request that config serves.
 */
import type { Application } from '../../../contract/index.js';
import type { ApplicationRegistrationConfig } from '../../../contract/plugins/application-registration.js';
import type { Principal } from '../registry.js';

export type Reason =
  /** No authenticating plugin let the request through before this one. */
  | 'no_identity'
  /** Verified, but mapped to no Application (`consumer_optional`, or the claim is missing). */
  | 'no_application'
  /** The route serves no Kubernetes Service (nothing to be approved for). */
  | 'no_service'
  /** The Application does not list the Service in `spec.registrations`. */
  | 'not_requested'
  /** Asked for, with no ApplicationRegistration and no `auto_approve`. */
  | 'no_registration'
  | 'pending'
  | 'rejected'
  | 'revoked';

export type Decision =
  | { allowed: true; outcome: 'allowed' | 'consumer_credential' }
  | { allowed: false; status: 401 | 403; reason: Reason };

const REFUSED_STATE: Record<NonNullable<Application['refusedServices']>[string], Reason> = {
  Requested: 'no_registration',
  Pending: 'pending',
  Rejected: 'rejected',
  Revoked: 'revoked',
};

/**
 * - no identity: 401, whatever the config (this plugin authenticates nobody);
 * - an identity without an Application: 401, unless
 *   `enable_proxy_with_consumer_credential`, which lets exactly that through
 *   (Kong: a consumer's own credential instead of an application's);
 * - an Application approved for the Service: allowed; any other: 403.
 */
export function decide(
  principal: Principal | undefined,
  service: string | undefined,
  config: Pick<ApplicationRegistrationConfig, 'enable_proxy_with_consumer_credential'>,
  approved: (application: Application, service: string) => boolean,
): Decision {
  if (!principal) return { allowed: false, status: 401, reason: 'no_identity' };
  const application = principal.application;
  if (!application) {
    return config.enable_proxy_with_consumer_credential
      ? { allowed: true, outcome: 'consumer_credential' }
      : { allowed: false, status: 401, reason: 'no_application' };
  }
  if (!service) return { allowed: false, status: 403, reason: 'no_service' };
  if (approved(application, service)) return { allowed: true, outcome: 'allowed' };
  const state = application.refusedServices?.[service];
  return { allowed: false, status: 403, reason: state ? REFUSED_STATE[state] : 'not_requested' };
}

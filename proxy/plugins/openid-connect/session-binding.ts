import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { AuthMethod, OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';

/**
 * The settings that decide whether a credential is accepted, and so whether
 * a session issued on the strength of one may be. A session cookie's key is
 * derived from their digest: an instance whose rules differ in any of them
 * (another `auth_methods`, claim rule, leeway, allowed issuer, consumer
 * mapping…) cannot even decrypt it, though it shares the issuer, client,
 * secret and cookie name. Changing one of them ends the sessions issued
 * under the old rules, as it should.
 */
export const SESSION_ACCEPTANCE_FIELDS = [
  'issuer',
  'client_id',
  'auth_methods',
  'issuers_allowed',
  'leeway',
  'enable_hs_signatures',
  'extra_jwks_uris',
  'jwks_endpoint',
  'introspection_endpoint',
  'token_endpoint',
  'scopes_claim',
  'scopes_required',
  'audience_claim',
  'audience_required',
  'groups_claim',
  'groups_required',
  'roles_claim',
  'roles_required',
  'claims_forbidden',
  'domains',
  'consumer_claim',
  'consumer_claims',
  'consumer_by',
  'consumer_optional',
  'disable_session',
] as const satisfies readonly (keyof OpenIdConnectConfig)[];

/** A digest of the acceptance settings of a config with its defaults filled in. */
export function sessionBinding(config: OpenIdConnectConfig): string {
  const picked: Record<string, unknown> = {};
  for (const field of SESSION_ACCEPTANCE_FIELDS) picked[field] = config[field] ?? null;
  return createHash('sha256').update(stringify(picked)).digest('base64url');
}

/**
 * Whether an instance accepting `enabled` methods may honour a session
 * started by `method`: besides the key binding, a session never lets in a
 * credential kind the instance does not take: a session started by a
 * bearer token is no login by authorization code.
 */
export function acceptsSessionOf(method: string, enabled: ReadonlySet<AuthMethod>): boolean {
  return method !== 'session' && enabled.has(method as AuthMethod);
}

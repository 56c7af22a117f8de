import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { Source } from '../../../contract/index.js';
import type { AuthMethod, OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';

/**
 * The settings that decide whether a credential is accepted, and so whether
 * a session issued on the strength of one may be. A session cookie's key is
 * derived from their digest: an instance whose rules differ in any of them
 * (a claim rule, leeway, allowed issuer, consumer mapping…) cannot even
 * decrypt it, though it shares the issuer, client, secret and cookie name.
 * Changing one of them ends the sessions issued under the old rules, as it
 * should. `auth_methods` is not among them: which methods may have started
 * a session is `acceptsSessionOf`'s question, so that a session-only
 * instance can take the sessions of its siblings, as in Kong.
 * `client_secret` is bound too when `enable_hs_signatures` is on (then its
 * secrets verify tokens), by digest.
 */
export const SESSION_ACCEPTANCE_FIELDS = [
  'issuer',
  'client_id',
  'issuers_allowed',
  'leeway',
  'enable_hs_signatures',
  'extra_jwks_uris',
  'jwks_endpoint',
  'introspection_endpoint',
  'userinfo_endpoint',
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
  // Who the IdP's keys came from: an instance that does not check the IdP's certificate trusts more.
  'ssl_verify',
] as const satisfies readonly (keyof OpenIdConnectConfig)[];

/** A digest of the acceptance settings of a config with its defaults filled in. */
export function sessionBinding(config: OpenIdConnectConfig): string {
  const picked: Record<string, unknown> = {};
  for (const field of SESSION_ACCEPTANCE_FIELDS) picked[field] = config[field] ?? null;
  // Whoever sets its own client secret can sign HS256 tokens any instance with that secret accepts.
  if (config.enable_hs_signatures) picked.client_secret = digest(stringify(config.client_secret ?? null));
  return digest(stringify(picked));
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * The key material of an instance's session and login cookies: its
 * `session_secret`, else the proxy's fallback secret mixed with the
 * instance's namespace. So without `session_secret` sessions are shared
 * only by instances of one namespace (a KongPlugin's) or among
 * KongClusterPlugins (their authors are the cluster's admins): a tenant
 * that copies another's issuer, client id and rules cannot mint sessions
 * the other accepts. Sharing across namespaces takes one `session_secret`,
 * set deliberately in both.
 */
export function sessionSecret(configured: string | undefined, source: Source, fallback: string): string {
  if (configured !== undefined) return configured;
  // The prefixes keep a namespace named `cluster` apart from the cluster scope.
  const scope =
    source.kind === 'KongClusterPlugin'
      ? 'cluster'
      : source.namespace !== undefined
        ? `namespace:${source.namespace}`
        : `${source.kind}:${source.name}`;
  return `${fallback}|${scope}`;
}

/**
 * Whether an instance accepting `enabled` methods may honour a session
 * started by `method`. An instance that takes other credentials too takes
 * only sessions those credentials started: a session started by a machine's
 * bearer token is no login by authorization code. An instance that takes
 * sessions alone (Kong's `session-auth` example) exists to accept sessions
 * its siblings started, whatever the method; the key binding still
 * requires the same acceptance rules.
 */
export function acceptsSessionOf(method: string, enabled: ReadonlySet<AuthMethod>): boolean {
  if (method === 'session') return false;
  if (enabled.size === 1 && enabled.has('session')) return true;
  return enabled.has(method as AuthMethod);
}

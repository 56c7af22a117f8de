import type { Application } from '../../../contract/index.js';
import { claimAt, type Claims } from './claims.js';

export interface UpstreamHeaderRules {
  upstream_access_token_header: string | null;
  upstream_id_token_header?: string;
  upstream_refresh_token_header?: string;
  upstream_headers_claims?: string[];
  upstream_headers_names?: string[];
  upstream_headers?: { header: string; path: string[] }[];
  credential_claim: string[];
}

export interface Principal {
  claims: Claims;
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  scopes: string[];
  consumer?: Application;
}

/** The identity headers the plugin sets for a mapped Application or a verified token. */
const IDENTITY_HEADERS = [
  'x-consumer-id',
  'x-consumer-custom-id',
  'x-consumer-username',
  'x-credential-identifier',
  'x-authenticated-scope',
];

/**
 * Every header name `upstreamIdentityHeaders` may set under these rules,
 * whatever the token: the proxy owns them on every route, so an absent
 * claim leaves the header absent rather than the client's.
 */
export function upstreamHeaderNames(rules: UpstreamHeaderRules): string[] {
  const names = [
    ...IDENTITY_HEADERS,
    ...(rules.upstream_headers_names ?? []),
    ...(rules.upstream_headers ?? []).map((h) => h.header),
  ];
  for (const spec of [
    rules.upstream_access_token_header,
    rules.upstream_id_token_header,
    rules.upstream_refresh_token_header,
  ]) {
    const name = spec?.split(':')[0];
    if (name) names.push(name);
  }
  return names.map((name) => name.toLowerCase());
}

/** Header values must not smuggle line breaks or other control characters upstream (tab is allowed). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * The identity headers an upstream receives, named like Kong's:
 * X-Consumer-* for the mapped Application, X-Credential-Identifier from
 * `credential_claim`, X-Authenticated-Scope, the configured claim headers,
 * and the access and ID tokens. Pure; lower-case names. A claim that would
 * make an unsafe header value is left out.
 */
export function upstreamIdentityHeaders(
  principal: Principal,
  rules: UpstreamHeaderRules,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '' && !UNSAFE.test(value)) headers[name.toLowerCase()] = value;
  };
  if (principal.consumer) {
    set('x-consumer-id', principal.consumer.id);
    set('x-consumer-custom-id', principal.consumer.clientId);
    set('x-consumer-username', principal.consumer.id);
  }
  set('x-credential-identifier', headerValue(claimAt(principal.claims, rules.credential_claim)));
  if (principal.scopes.length > 0) set('x-authenticated-scope', principal.scopes.join(' '));
  const claims = rules.upstream_headers_claims ?? [];
  const names = rules.upstream_headers_names ?? [];
  for (const [i, claim] of claims.entries()) {
    const name = names[i];
    // Kong reads a top-level claim by its whole name, so namespaced names with dots
    // (Auth0's `https://example.com/roles`) must match as is; the dotted path stays a fallback.
    if (!name) continue;
    const whole = claimAt(principal.claims, [claim]);
    set(name, headerValue(whole ?? claimAt(principal.claims, claim.split('.'))));
  }
  for (const { header, path } of rules.upstream_headers ?? []) {
    set(header, headerValue(claimAt(principal.claims, path)));
  }
  // Tokens get a cheaper check than claims: a kilobyte scanned by the regex on
  // every request was the costliest step here. They are b64token-checked on arrival
  // or come from the IdP; refusing CR, LF and NUL rules out header injection, and the
  // HTTP client refuses any other control character.
  const setToken = (name: string, value: string) => {
    if (value.indexOf('\r') === -1 && value.indexOf('\n') === -1 && value.indexOf('\u0000') === -1) {
      headers[name.toLowerCase()] = value;
    }
  };
  tokenHeader(rules.upstream_access_token_header, principal.accessToken, setToken);
  if (principal.idToken) tokenHeader(rules.upstream_id_token_header ?? null, principal.idToken, setToken);
  if (principal.refreshToken) {
    tokenHeader(rules.upstream_refresh_token_header ?? null, principal.refreshToken, setToken);
  }
  return headers;
}

/** `authorization:bearer` sends `Authorization: Bearer <token>`; a bare name sends the token as it is. */
function tokenHeader(spec: string | null, token: string, set: (name: string, value: string) => void): void {
  if (!spec) return;
  const [name, scheme] = spec.split(':');
  if (!name) return;
  set(name, scheme?.toLowerCase() === 'bearer' ? `Bearer ${token}` : token);
}

/** Strings as they are, numbers and booleans as text, lists comma-joined, objects as JSON. */
function headerValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  return JSON.stringify(value);
}

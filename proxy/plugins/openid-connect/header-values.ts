import { claimAt, type Claims } from './claims.js';

/**
 * How the plugin turns tokens, claims and JSON objects (an introspection
 * answer, a JWK) into header values, Kong's way, for the upstream request
 * and the client's response alike. Pure; lower-case header names.
 */

/** Kong's claim-to-header settings: two parallel lists, or 3.14's records with a claim path. */
export interface ClaimHeaderRules {
  claims?: string[];
  names?: string[];
  headers?: { header: string; path: string[] }[];
}

/** A token or JSON object for the header a spec names; `undefined` sets nothing. */
export type CredentialValue = string | object | undefined;

/** Header values must not smuggle line breaks or other control characters (tab is allowed). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The header name of a spec: `authorization:bearer` names `authorization`. */
export function specName(spec: string | null | undefined): string | undefined {
  const name = spec?.split(':')[0];
  return name ? name.toLowerCase() : undefined;
}

/** Every header name a set of claim rules may set. */
export function claimHeaderNames(rules: ClaimHeaderRules): string[] {
  return [...(rules.names ?? []), ...(rules.headers ?? []).map((h) => h.header)].map((n) => n.toLowerCase());
}

/**
 * Sets a claim's header in `headers` when its value is safe. Kong reads a
 * top-level claim by its whole name, so namespaced names with dots (Auth0's
 * `https://example.com/roles`) match as is; the dotted path stays a fallback.
 */
export function setClaimHeaders(
  headers: Record<string, string>,
  claims: Claims,
  rules: ClaimHeaderRules,
): void {
  const names = rules.names ?? [];
  for (const [i, claim] of (rules.claims ?? []).entries()) {
    const name = names[i];
    if (!name) continue;
    const whole = claimAt(claims, [claim]);
    setSafe(headers, name, claimHeaderValue(whole ?? claimAt(claims, claim.split('.'))));
  }
  for (const { header, path } of rules.headers ?? []) {
    setSafe(headers, header, claimHeaderValue(claimAt(claims, path)));
  }
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Sets `name` when the value is present and has no control character but
 * tab. A value beyond ASCII (a user's name in another script) goes as its
 * UTF-8 bytes, as Kong sends it: Node writes header strings as Latin-1 and
 * refuses characters above U+00FF, which would fail the response after the
 * upstream has acted.
 */
export function setSafe(headers: Record<string, string>, name: string, value: string | undefined): void {
  if (value === undefined || value === '' || UNSAFE.test(value)) return;
  headers[name.toLowerCase()] = NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/**
 * Sets each spec's header: a token as it is, an object as base64 (standard
 * alphabet) of its JSON, as Kong does; `name:bearer` prefixes `Bearer ` and
 * `name:basic` prefixes `Basic `. Tokens get a cheaper check than claims: a
 * kilobyte scanned by the regex on every request was the costliest step
 * here. They are b64token-checked on arrival or come from the IdP; refusing
 * CR, LF and NUL rules out header injection, and the HTTP stack refuses any
 * other control character. Base64 cannot hold one.
 */
export function setCredentialHeaders(
  headers: Record<string, string>,
  entries: readonly (readonly [spec: string | null | undefined, value: CredentialValue])[],
): void {
  for (const [spec, value] of entries) {
    if (!spec || value === undefined || value === '') continue;
    const [name, scheme] = spec.split(':');
    if (!name) continue;
    const text = typeof value === 'string' ? value : Buffer.from(JSON.stringify(value)).toString('base64');
    if (text.indexOf('\r') !== -1 || text.indexOf('\n') !== -1 || text.indexOf('\u0000') !== -1) continue;
    const prefix = SCHEMES[scheme?.toLowerCase() ?? ''] ?? '';
    headers[name.toLowerCase()] = prefix + text;
  }
}

const SCHEMES: Record<string, string> = { bearer: 'Bearer ', basic: 'Basic ' };

/** Strings as they are, numbers and booleans as text, lists comma-joined, objects as JSON. */
export function claimHeaderValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  return JSON.stringify(value);
}

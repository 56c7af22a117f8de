/**
 * Reading and checking token claims the way Kong's openid-connect plugin
 * does. Pure: no I/O, so every rule is tested with tables.
 */

export type Claims = Record<string, unknown>;

/** The value at a claim path (`['realm_access', 'roles']`), or undefined. */
export function claimAt(claims: Claims, path: readonly string[]): unknown {
  let node: unknown = claims;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) {
      return undefined;
    }
    node = (node as Claims)[key];
  }
  return node;
}

/**
 * A claim value as a list of strings: a space-separated string (the OAuth
 * `scope` form) is split, an array keeps its string items, anything else is
 * empty. Okta's `scp` and Azure's `roles` are arrays, RFC 8693's `scope` a string.
 */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((v) => v !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Kong's `*_required` rule: the items are alternatives (OR), and each item
 * lists space-separated values that must all be present (AND). Unset means
 * no requirement.
 */
export function meetsRequirement(
  present: readonly string[],
  required: readonly string[] | undefined,
): boolean {
  if (!required || required.length === 0) return true;
  const have = new Set(present);
  return required.some((alternative) => {
    const words = alternative.split(' ').filter((v) => v !== '');
    // A blank alternative would require nothing: it never matches, so a config typo fails closed.
    return words.length > 0 && words.every((v) => have.has(v));
  });
}

export interface ClaimRules {
  audience_claim: string[];
  audience_required?: string[];
  scopes_claim: string[];
  scopes_required?: string[];
  groups_claim: string[];
  groups_required?: string[];
  roles_claim: string[];
  roles_required?: string[];
}

export type ClaimVerdict =
  | { ok: true; scopes: string[] }
  | { ok: false; status: 401 | 403; error: 'invalid_token' | 'insufficient_scope'; reason: string };

/**
 * The authorization checks on verified claims. A wrong audience means the
 * token is not for this API (401 invalid_token, RFC 6750 §3.1); missing
 * scopes, groups or roles mean it is valid but not enough (403).
 */
export function checkClaimRules(claims: Claims, rules: ClaimRules): ClaimVerdict {
  if (!meetsRequirement(claimValues(claimAt(claims, rules.audience_claim)), rules.audience_required)) {
    return { ok: false, status: 401, error: 'invalid_token', reason: 'audience' };
  }
  const scopes = claimValues(claimAt(claims, rules.scopes_claim));
  if (!meetsRequirement(scopes, rules.scopes_required)) {
    return { ok: false, status: 403, error: 'insufficient_scope', reason: 'scopes' };
  }
  if (!meetsRequirement(claimValues(claimAt(claims, rules.groups_claim)), rules.groups_required)) {
    return { ok: false, status: 403, error: 'insufficient_scope', reason: 'groups' };
  }
  if (!meetsRequirement(claimValues(claimAt(claims, rules.roles_claim)), rules.roles_required)) {
    return { ok: false, status: 403, error: 'insufficient_scope', reason: 'roles' };
  }
  return { ok: true, scopes };
}

/**
 * Whether a verified JWT looks like an ID token rather than an access token.
 * ID tokens are for the client, not for APIs (OpenID Connect Core §2); they
 * carry `nonce` or hashes of the tokens issued with them, which access
 * tokens never do. RFC 9068 access tokens say `typ: at+jwt` outright.
 */
export function looksLikeIdToken(header: { typ?: string }, claims: Claims): boolean {
  const typ = header.typ?.toLowerCase();
  if (typ === 'at+jwt' || typ === 'application/at+jwt') return false;
  return 'nonce' in claims || 'at_hash' in claims || 'c_hash' in claims || 's_hash' in claims;
}

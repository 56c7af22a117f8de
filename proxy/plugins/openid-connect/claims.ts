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
  /** Top-level claims a token must not carry (Kong's `claims_forbidden`). */
  claims_forbidden?: string[];
  /** Allowed values of Google's `hd` (hosted domain) claim (Kong's `domains`). */
  domains?: string[];
}

export type ClaimVerdict =
  | { ok: true; scopes: string[] }
  | { ok: false; status: 401 | 403; error: 'invalid_token' | 'insufficient_scope'; reason: string };

/**
 * The authorization checks on verified claims. A wrong audience or hosted
 * domain means the token is not for this API (401 invalid_token, RFC 6750
 * §3.1); a forbidden claim or missing scopes, groups or roles mean it is
 * valid but not enough (403).
 */
export function checkClaimRules(claims: Claims, rules: ClaimRules): ClaimVerdict {
  if (!meetsRequirement(claimValues(claimAt(claims, rules.audience_claim)), rules.audience_required)) {
    return { ok: false, status: 401, error: 'invalid_token', reason: 'audience' };
  }
  // Compared exactly, as the IdP writes it: `hd` is the user's domain, not a name to normalise.
  if (rules.domains?.length && !(typeof claims.hd === 'string' && rules.domains.includes(claims.hd))) {
    return { ok: false, status: 401, error: 'invalid_token', reason: 'domain' };
  }
  // Present at all counts, whatever the value: `"act": null` still says the token was delegated.
  if (rules.claims_forbidden?.some((claim) => Object.hasOwn(claims, claim))) {
    return { ok: false, status: 403, error: 'insufficient_scope', reason: 'forbidden_claim' };
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

/** Claims only ID tokens carry (OpenID Connect Core §2, §3.3.2.11; FAPI `s_hash`). */
const ID_TOKEN_ONLY = ['nonce', 'at_hash', 'c_hash', 's_hash'];
/**
 * Claims naming the grant an access token carries (RFC 9068 `client_id` and
 * `scope`, Okta `cid`/`scp`, Entra ID `azp`/`appid`/`scp`). ID tokens of the
 * tested IdPs carry none; `roles` and `groups` are not among them, since
 * Entra ID puts them in ID tokens too.
 */
const ACCESS_TOKEN_CLAIMS = ['scope', 'scp', 'client_id', 'cid', 'azp', 'appid'];

/**
 * Whether a verified JWT is an ID token rather than an access token. ID
 * tokens are for the client, not for APIs (OpenID Connect Core §2, RFC 9068
 * §4), and a real one need not carry `nonce` or a token hash: a code flow
 * without nonce yields one with neither. So, unless typed `at+jwt`
 * (RFC 9068 §2.1), a token is an ID token when it has an ID-token-only
 * claim, or when its `aud` names one of the plugin's own `client_ids` (the
 * proxy as relying party) and it has `auth_time` or no access-token claim.
 */
export function looksLikeIdToken(
  header: { typ?: string },
  claims: Claims,
  clientIds: readonly string[],
): boolean {
  const typ = header.typ?.toLowerCase();
  if (typ === 'at+jwt' || typ === 'application/at+jwt') return false;
  if (ID_TOKEN_ONLY.some((claim) => claim in claims)) return true;
  const aud = claims.aud;
  const toClient = Array.isArray(aud)
    ? aud.some((a) => typeof a === 'string' && clientIds.includes(a))
    : typeof aud === 'string' && clientIds.includes(aud);
  if (!toClient) return false;
  return 'auth_time' in claims || !ACCESS_TOKEN_CLAIMS.some((claim) => claim in claims);
}

import { describe, expect, it } from 'vitest';
import {
  checkClaimRules,
  claimAt,
  claimValues,
  looksLikeIdToken,
  meetsRequirement,
  type ClaimRules,
} from '../../../../proxy/plugins/openid-connect/claims.js';

describe('claimAt', () => {
  const claims = {
    sub: 'alice',
    realm_access: { roles: ['admin'] },
    nested: { deeper: { value: 0 } },
    list: [{ a: 1 }],
    nul: null,
  };
  it.each([
    [['sub'], 'alice'],
    [['realm_access', 'roles'], ['admin']],
    [['nested', 'deeper', 'value'], 0],
    [['nul'], null],
    [[], claims],
    [['missing'], undefined],
    [['sub', 'length'], undefined],
    [['list', '0'], undefined],
    [['nul', 'x'], undefined],
    [['realm_access', 'roles', '0'], undefined],
    // Inherited properties are never claims.
    [['constructor'], undefined],
    [['__proto__'], undefined],
    [['toString'], undefined],
    [['nested', 'hasOwnProperty'], undefined],
  ])('%j → %j', (path, expected) => {
    expect(claimAt(claims, path)).toEqual(expected);
  });
});

describe('claimValues', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['', []],
    ['   ', []],
    [
      ['a', 'b c', 1, null, 'd'],
      ['a', 'b c', 'd'],
    ],
    [[], []],
    [42, []],
    [true, []],
    [null, []],
    [undefined, []],
    [{ a: 'b' }, []],
  ])('%j → %j', (value, expected) => {
    expect(claimValues(value)).toEqual(expected);
  });
});

describe('meetsRequirement', () => {
  it.each([
    // Unset or empty: no requirement.
    [[], undefined, true],
    [[], [], true],
    // One alternative: every value in it.
    [['read'], ['read'], true],
    [['read'], ['read write'], false],
    [['read', 'write'], ['read write'], true],
    [['read', 'write'], ['write  read'], true],
    // Several alternatives: any one of them (OR of ANDs).
    [['write'], ['read', 'write'], true],
    [['admin'], ['read', 'write'], false],
    [['a', 'b'], ['a c', 'b'], true],
    [['a'], ['a c', 'b'], false],
    // Exact matches only: no prefixes, no case folding.
    [['reader'], ['read'], false],
    [['READ'], ['read'], false],
    [[], ['read'], false],
    // A blank alternative requires nothing, so it never matches (a config typo fails closed).
    [['read'], [' '], false],
    [[], ['', '  '], false],
  ])('%j against %j → %s', (present, required, expected) => {
    expect(meetsRequirement(present, required)).toBe(expected);
  });
});

describe('checkClaimRules', () => {
  const defaults: ClaimRules = {
    audience_claim: ['aud'],
    scopes_claim: ['scope'],
    groups_claim: ['groups'],
    roles_claim: ['roles'],
  };
  const claims = { aud: ['api://default', 'other'], scope: 'read write', groups: ['staff'], roles: 'Admin' };

  it.each([
    ['no requirements', {}, { ok: true, scopes: ['read', 'write'] }],
    ['audience met', { audience_required: ['api://default'] }, { ok: true, scopes: ['read', 'write'] }],
    [
      'wrong audience: 401 invalid_token',
      { audience_required: ['api://payments'] },
      { ok: false, status: 401, error: 'invalid_token', reason: 'audience' },
    ],
    [
      'missing scope: 403',
      { scopes_required: ['admin'] },
      { ok: false, status: 403, error: 'insufficient_scope', reason: 'scopes' },
    ],
    [
      'missing group: 403',
      { groups_required: ['admins'] },
      { ok: false, status: 403, error: 'insufficient_scope', reason: 'groups' },
    ],
    [
      'missing role: 403',
      { roles_required: ['Reader'] },
      { ok: false, status: 403, error: 'insufficient_scope', reason: 'roles' },
    ],
    [
      'all met',
      {
        audience_required: ['other'],
        scopes_required: ['write read'],
        groups_required: ['staff'],
        roles_required: ['Admin'],
      },
      { ok: true, scopes: ['read', 'write'] },
    ],
    [
      'audience is checked before scopes',
      { audience_required: ['x'], scopes_required: ['admin'] },
      { ok: false, status: 401, error: 'invalid_token', reason: 'audience' },
    ],
    // Kong's claims_forbidden: a token that carries any of them is refused, whatever its value.
    [
      'a forbidden claim present: 403',
      { claims_forbidden: ['act', 'groups'] },
      { ok: false, status: 403, error: 'insufficient_scope', reason: 'forbidden_claim' },
    ],
    ['no forbidden claim present', { claims_forbidden: ['act'] }, { ok: true, scopes: ['read', 'write'] }],
    // Kong's domains: Google's `hd` claim must name one of them; a token without `hd` fails.
    [
      'no hd claim: 401',
      { domains: ['example.com'] },
      { ok: false, status: 401, error: 'invalid_token', reason: 'domain' },
    ],
    [
      'claim paths',
      { scopes_claim: ['scp'], scopes_required: ['read'] },
      { ok: false, status: 403, error: 'insufficient_scope', reason: 'scopes' },
    ],
  ] as [string, Partial<ClaimRules>, unknown][])('%s', (_name, rules, expected) => {
    expect(checkClaimRules(claims, { ...defaults, ...rules })).toEqual(expected);
  });

  it.each([
    ['example.com', true],
    ['EXAMPLE.com', false],
    ['evil.com', false],
    [['example.com'], false],
    ['', false],
  ])('domains [example.com, corp.example]: hd %j passes %s', (hd, passes) => {
    const verdict = checkClaimRules({ hd }, { ...defaults, domains: ['example.com', 'corp.example'] });
    expect(verdict.ok).toBe(passes);
  });

  it('a forbidden claim counts even when null or false', () => {
    for (const value of [null, false, '', 0]) {
      expect(checkClaimRules({ act: value }, { ...defaults, claims_forbidden: ['act'] }).ok).toBe(false);
    }
  });

  it('reads a nested claim path', () => {
    const verdict = checkClaimRules(
      { realm_access: { roles: ['admin'] } },
      { ...defaults, roles_claim: ['realm_access', 'roles'], roles_required: ['admin'] },
    );
    expect(verdict.ok).toBe(true);
  });

  it('a missing audience claim fails a required audience', () => {
    expect(checkClaimRules({}, { ...defaults, audience_required: ['api://default'] }).ok).toBe(false);
  });
});

describe('looksLikeIdToken', () => {
  const CLIENTS = ['gateway', 'gateway-2'];
  // What the test IdP (oidc-provider) issues from a code flow without nonce: no nonce, no hashes, no auth_time.
  const codeFlowIdToken = { iss: 'i', sub: 'u', aud: 'gateway', iat: 1, exp: 2, email: 'alice@example.test' };
  it.each([
    [{}, { sub: 'a' }, false],
    [{ typ: 'JWT' }, { sub: 'a', scope: 'read' }, false],
    // Claims only ID tokens have (OpenID Connect Core §2, §3.3.2.11; FAPI s_hash), whatever the audience.
    [{}, { nonce: 'n' }, true],
    [{}, { at_hash: 'h' }, true],
    [{}, { c_hash: 'h' }, true],
    [{}, { s_hash: 'h' }, true],
    [{ typ: 'JWT' }, { nonce: 'n' }, true],
    [{}, { aud: 'api://default', nonce: 'n', cid: 'app' }, true],
    // RFC 9068 access tokens say so outright, in any case.
    [{ typ: 'at+jwt' }, { nonce: 'n' }, false],
    [{ typ: 'AT+JWT' }, { at_hash: 'h' }, false],
    [{ typ: 'application/at+jwt' }, { nonce: 'n' }, false],
    [{ typ: 'at+jwt' }, { ...codeFlowIdToken, auth_time: 1 }, false],
    // Addressed to the proxy's own client: an ID token unless it carries an access-token claim.
    [{}, codeFlowIdToken, true],
    [{ typ: 'JWT' }, codeFlowIdToken, true],
    [{}, { ...codeFlowIdToken, aud: ['other', 'gateway-2'] }, true],
    [{}, { ...codeFlowIdToken, aud: 'gateway', roles: ['admin'], groups: ['g'] }, true],
    [{}, { ...codeFlowIdToken, auth_time: 1, scope: 'openid' }, true],
    [{}, { ...codeFlowIdToken, auth_time: 1, cid: 'gateway' }, true],
    // Access tokens whose audience is the client itself (Entra ID for an app's own API) carry grant claims.
    [{ typ: 'JWT' }, { ...codeFlowIdToken, azp: 'gateway', scp: 'access_as_user' }, false],
    [{ typ: 'JWT' }, { ...codeFlowIdToken, azp: 'app-billing', roles: ['Billing.Read'] }, false],
    [{ typ: 'JWT' }, { ...codeFlowIdToken, appid: 'app-billing' }, false],
    [{}, { ...codeFlowIdToken, client_id: 'gateway' }, false],
    [{}, { ...codeFlowIdToken, cid: 'gateway', scp: [] }, false],
    [{}, { ...codeFlowIdToken, scope: 'api:read' }, false],
    // Another audience: the API's (Okta access tokens carry auth_time; their aud is the API).
    [{}, { ...codeFlowIdToken, aud: 'api://default' }, false],
    [{}, { ...codeFlowIdToken, aud: 'api://default', auth_time: 1, cid: 'spa' }, false],
    [{}, { ...codeFlowIdToken, aud: ['api://default'], auth_time: 1 }, false],
    // Not an exact match, not a prefix, not a non-string.
    [{}, { ...codeFlowIdToken, aud: 'gateway-3' }, false],
    [{}, { ...codeFlowIdToken, aud: 'Gateway' }, false],
    [{}, { ...codeFlowIdToken, aud: [1, null] }, false],
  ])('%j %j → %s', (header, claims, expected) => {
    expect(looksLikeIdToken(header, claims, CLIENTS)).toBe(expected);
  });

  it('without client ids only the ID-token-only claims count', () => {
    expect(looksLikeIdToken({}, codeFlowIdToken, [])).toBe(false);
    expect(looksLikeIdToken({}, { ...codeFlowIdToken, nonce: 'n' }, [])).toBe(true);
  });
});

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
    [
      'claim paths',
      { scopes_claim: ['scp'], scopes_required: ['read'] },
      { ok: false, status: 403, error: 'insufficient_scope', reason: 'scopes' },
    ],
  ] as [string, Partial<ClaimRules>, unknown][])('%s', (_name, rules, expected) => {
    expect(checkClaimRules(claims, { ...defaults, ...rules })).toEqual(expected);
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
  it.each([
    [{}, { sub: 'a' }, false],
    [{ typ: 'JWT' }, { sub: 'a', scope: 'read' }, false],
    [{}, { nonce: 'n' }, true],
    [{}, { at_hash: 'h' }, true],
    [{}, { c_hash: 'h' }, true],
    [{}, { s_hash: 'h' }, true],
    [{ typ: 'JWT' }, { nonce: 'n' }, true],
    // RFC 9068 access tokens say so outright, in any case.
    [{ typ: 'at+jwt' }, { nonce: 'n' }, false],
    [{ typ: 'AT+JWT' }, { at_hash: 'h' }, false],
    [{ typ: 'application/at+jwt' }, { nonce: 'n' }, false],
  ])('%j %j → %s', (header, claims, expected) => {
    expect(looksLikeIdToken(header, claims)).toBe(expected);
  });
});

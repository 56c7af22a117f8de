import { describe, expect, it } from 'vitest';
import type { Application } from '../../../../contract/index.js';
import {
  anonymousHeaders,
  upstreamHeaderNames,
  upstreamIdentityHeaders,
  type Principal,
  type UpstreamHeaderRules,
} from '../../../../proxy/plugins/openid-connect/upstream-headers.js';

const defaults: UpstreamHeaderRules = {
  upstream_access_token_header: 'authorization:bearer',
  credential_claim: ['sub'],
};
const consumer: Application = {
  id: 'billing/billing',
  clientId: 'app-billing',
  approvedServices: [],
  source: { kind: 'Application', namespace: 'billing', name: 'billing' },
};

function principal(overrides: Partial<Principal> = {}): Principal {
  return { claims: { sub: 'alice' }, accessToken: 'AT', scopes: [], ...overrides };
}

describe('upstreamIdentityHeaders', () => {
  it('sets the credential identifier and the access token by default', () => {
    expect(upstreamIdentityHeaders(principal(), defaults)).toEqual({
      'x-credential-identifier': 'alice',
      authorization: 'Bearer AT',
    });
  });

  it('sets the consumer headers of the mapped Application', () => {
    expect(upstreamIdentityHeaders(principal({ consumer }), defaults)).toMatchObject({
      'x-consumer-id': 'billing/billing',
      'x-consumer-custom-id': 'app-billing',
      'x-consumer-username': 'billing/billing',
    });
  });

  it('sets no consumer header without a consumer', () => {
    const headers = upstreamIdentityHeaders(principal(), defaults);
    expect(Object.keys(headers).filter((h) => h.startsWith('x-consumer-'))).toEqual([]);
  });

  it('joins the scopes, and omits the header without any', () => {
    expect(
      upstreamIdentityHeaders(principal({ scopes: ['a', 'b'] }), defaults)['x-authenticated-scope'],
    ).toBe('a b');
    expect(upstreamIdentityHeaders(principal(), defaults)).not.toHaveProperty('x-authenticated-scope');
  });

  it.each([
    ['authorization:bearer', { authorization: 'Bearer AT' }],
    ['Authorization:Bearer', { authorization: 'Bearer AT' }],
    ['x-access-token', { 'x-access-token': 'AT' }],
    ['x-access-token:other', { 'x-access-token': 'AT' }],
    [null, {}],
  ])('upstream_access_token_header %j', (spec, expected) => {
    const headers = upstreamIdentityHeaders(principal({ claims: {} }), {
      ...defaults,
      upstream_access_token_header: spec,
    });
    expect(headers).toEqual(expected);
  });

  it('sends the ID token only when configured and present', () => {
    const rules = { ...defaults, upstream_id_token_header: 'x-id-token' };
    expect(upstreamIdentityHeaders(principal({ idToken: 'IDT' }), rules)['x-id-token']).toBe('IDT');
    expect(upstreamIdentityHeaders(principal(), rules)).not.toHaveProperty('x-id-token');
    expect(upstreamIdentityHeaders(principal({ idToken: 'IDT' }), defaults)).not.toHaveProperty('x-id-token');
  });

  it.each([
    ['a string', 'alice@example.test', 'alice@example.test'],
    ['a number', 42, '42'],
    ['a boolean', false, 'false'],
    ['a list of strings', ['a', 'b'], 'a,b'],
    ['a mixed list', ['a', 1], '["a",1]'],
    ['an object', { a: 1 }, '{"a":1}'],
    ['a tab', 'a\tb', 'a\tb'],
    // As its UTF-8 bytes (Node writes header strings as Latin-1), as Kong sends it.
    ['non-ASCII', 'Zoë 李雷', Buffer.from('Zoë 李雷', 'utf8').toString('latin1')],
  ])('copies a claim that is %s', (_name, value, expected) => {
    const headers = upstreamIdentityHeaders(principal({ claims: { sub: 'a', email: value } }), {
      ...defaults,
      upstream_headers_claims: ['email'],
      upstream_headers_names: ['X-User-Email'],
    });
    expect(headers['x-user-email']).toBe(expected);
  });

  it('reads dotted claim paths', () => {
    const headers = upstreamIdentityHeaders(principal({ claims: { realm: { roles: ['r1', 'r2'] } } }), {
      ...defaults,
      upstream_headers_claims: ['realm.roles'],
      upstream_headers_names: ['x-roles'],
    });
    expect(headers['x-roles']).toBe('r1,r2');
  });

  it('reads a top-level claim whose name holds dots (Auth0 namespaced claims)', () => {
    const headers = upstreamIdentityHeaders(
      principal({ claims: { 'https://example.com/roles': ['admin', 'ops'] } }),
      {
        ...defaults,
        upstream_headers_claims: ['https://example.com/roles'],
        upstream_headers_names: ['x-roles'],
      },
    );
    expect(headers['x-roles']).toBe('admin,ops');
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
  ])('leaves out a claim that is %s', (_name, value) => {
    const headers = upstreamIdentityHeaders(principal({ claims: { sub: value } }), {
      ...defaults,
      upstream_headers_claims: ['sub'],
      upstream_headers_names: ['x-sub'],
    });
    expect(headers).not.toHaveProperty('x-sub');
    expect(headers).not.toHaveProperty('x-credential-identifier');
  });

  describe('control characters never become header values', () => {
    const unsafe = [
      ['CR/LF', 'alice\r\nx-consumer-id: admin'],
      ['LF', 'alice\nx-admin: 1'],
      ['CR', 'alice\rx'],
      ['NUL', 'alice\u0000'],
      ['DEL', 'alice\u007f'],
      ['ESC', '\u001b[31m'],
      ['a list holding CR/LF', ['a', 'b\r\nx-evil: 1']],
    ] as const;

    it.each(unsafe)('%s in the credential claim', (_name, value) => {
      const headers = upstreamIdentityHeaders(principal({ claims: { sub: value } }), defaults);
      expect(headers).not.toHaveProperty('x-credential-identifier');
      for (const v of Object.values(headers)) {
        expect(v).not.toMatch(/[\r\n]/);
        expect(v.includes('\u0000')).toBe(false);
      }
    });

    it.each(unsafe)('%s in a configured claim header', (_name, value) => {
      const headers = upstreamIdentityHeaders(principal({ claims: { sub: 'a', name: value } }), {
        ...defaults,
        upstream_headers_claims: ['name'],
        upstream_headers_names: ['x-user-name'],
      });
      expect(headers).not.toHaveProperty('x-user-name');
      expect(headers['x-credential-identifier']).toBe('a');
    });

    it('an object holding CR/LF is sent as JSON, its line breaks escaped', () => {
      const headers = upstreamIdentityHeaders(principal({ claims: { sub: { a: 'b\r\nc' } } }), defaults);
      expect(headers['x-credential-identifier']).toBe('{"a":"b\\r\\nc"}');
      expect(headers['x-credential-identifier']).not.toMatch(/[\r\n]/);
    });

    it('CR/LF in scopes or tokens', () => {
      const headers = upstreamIdentityHeaders(
        principal({ scopes: ['read\r\nx-evil: 1'], accessToken: 'AT\r\nx-evil: 1', idToken: 'I\nD' }),
        { ...defaults, upstream_id_token_header: 'x-id-token' },
      );
      expect(headers).toEqual({ 'x-credential-identifier': 'alice' });
    });
  });

  it('configured names are lower-cased; a header without a name is skipped', () => {
    const headers = upstreamIdentityHeaders(principal({ claims: { sub: 'a', b: 'B', c: 'C' } }), {
      ...defaults,
      upstream_headers_claims: ['b', 'c'],
      upstream_headers_names: ['X-B'],
    });
    expect(headers['x-b']).toBe('B');
    expect(Object.values(headers)).not.toContain('C');
  });

  it('upstream_headers (Kong 3.14) read nested claims by path; a missing claim sets nothing', () => {
    const headers = upstreamIdentityHeaders(
      principal({ claims: { sub: 'alice', org: { id: 'o-1' }, 'a.b': 'whole' } }),
      {
        ...defaults,
        upstream_headers: [
          { header: 'X-Org-Id', path: ['org', 'id'] },
          { header: 'x-dotted', path: ['a.b'] },
          { header: 'x-missing', path: ['org', 'name'] },
        ],
      },
    );
    expect(headers['x-org-id']).toBe('o-1');
    expect(headers['x-dotted']).toBe('whole');
    expect(headers).not.toHaveProperty('x-missing');
  });

  it('upstream_headers names are owned by the proxy on every route', () => {
    expect(
      upstreamHeaderNames({ ...defaults, upstream_headers: [{ header: 'X-Org-Id', path: ['org'] }] }),
    ).toContain('x-org-id');
  });

  it('sends the refresh token only where upstream_refresh_token_header says, and owns that name', () => {
    const rules = { ...defaults, upstream_refresh_token_header: 'refresh_token' };
    expect(upstreamIdentityHeaders(principal({ refreshToken: 'RT' }), rules)).toMatchObject({
      refresh_token: 'RT',
    });
    expect(upstreamIdentityHeaders(principal({ refreshToken: 'RT' }), defaults)).not.toHaveProperty(
      'refresh_token',
    );
    expect(upstreamIdentityHeaders(principal({ refreshToken: 'R\r\nX: y' }), rules)).not.toHaveProperty(
      'refresh_token',
    );
    expect(upstreamHeaderNames(rules)).toContain('refresh_token');
  });
});

describe('upstreamIdentityHeaders: introspection and JWK headers', () => {
  const jwk = { kty: 'RSA', n: 'N', e: 'AQAB', kid: 'k1' };
  const introspection = { active: true, sub: 'alice' };
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

  it.each<[string, Partial<UpstreamHeaderRules>, Partial<Principal>, Record<string, string>]>([
    [
      'the introspection answer as base64 JSON',
      { upstream_introspection_header: 'X-Introspection' },
      { introspection },
      { 'x-introspection': b64(introspection) },
    ],
    ['no introspection header without an introspection', { upstream_introspection_header: 'x-i' }, {}, {}],
    [
      'the userinfo answer as base64 JSON',
      { upstream_user_info_header: 'X-Userinfo' },
      { userinfo: { sub: 'alice', email: 'a@example.test' } },
      { 'x-userinfo': b64({ sub: 'alice', email: 'a@example.test' }) },
    ],
    ['no userinfo header without an answer', { upstream_user_info_header: 'x-userinfo' }, {}, {}],
    [
      'a userinfo answer with a line break in a claim, safely as base64',
      { upstream_user_info_header: 'x-userinfo' },
      { userinfo: { sub: 'a\r\nx-evil: 1' } },
      { 'x-userinfo': b64({ sub: 'a\r\nx-evil: 1' }) },
    ],
    [
      "the access token's JWK",
      { upstream_access_token_jwk_header: 'x-at-jwk' },
      { accessTokenJwk: jwk },
      { 'x-at-jwk': b64(jwk) },
    ],
    [
      "the ID token's JWK",
      { upstream_id_token_jwk_header: 'x-idt-jwk' },
      { idTokenJwk: jwk },
      { 'x-idt-jwk': b64(jwk) },
    ],
    ['no JWK header without a key (an HS token)', { upstream_access_token_jwk_header: 'x-at-jwk' }, {}, {}],
    [
      'authorization:basic',
      { upstream_access_token_header: 'authorization:basic' },
      {},
      { authorization: 'Basic AT' },
    ],
  ])('%s', (_name, rules, overrides, expected) => {
    const headers = upstreamIdentityHeaders(principal({ claims: {}, ...overrides }), {
      ...defaults,
      upstream_access_token_header: null,
      ...rules,
    });
    expect(headers).toEqual(expected);
  });

  it('owns the names of the new headers on every route', () => {
    const names = upstreamHeaderNames({
      ...defaults,
      upstream_introspection_header: 'X-Introspection',
      upstream_access_token_jwk_header: 'x-at-jwk',
      upstream_id_token_jwk_header: 'x-idt-jwk:bearer',
      upstream_user_info_header: 'X-Userinfo',
    });
    expect(names).toEqual(expect.arrayContaining(['x-introspection', 'x-at-jwk', 'x-idt-jwk', 'x-userinfo']));
  });
});

describe('anonymousHeaders (Kong anonymous consumer)', () => {
  it("is the Application's X-Consumer-* headers and X-Anonymous-Consumer: true, nothing else", () => {
    expect(anonymousHeaders(consumer)).toEqual({
      'x-consumer-id': 'billing/billing',
      'x-consumer-custom-id': 'app-billing',
      'x-consumer-username': 'billing/billing',
      'x-anonymous-consumer': 'true',
    });
  });
});

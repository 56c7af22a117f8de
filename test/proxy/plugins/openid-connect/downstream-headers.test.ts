import { describe, expect, it } from 'vitest';
import {
  downstreamHeaders,
  type DownstreamHeaderRules,
} from '../../../../proxy/plugins/openid-connect/downstream-headers.js';
import { publicMembers } from '../../../../proxy/plugins/openid-connect/provider.js';
import type { Principal } from '../../../../proxy/plugins/openid-connect/upstream-headers.js';

const jwk = { kty: 'EC', crv: 'P-256', x: 'X', y: 'Y', kid: 'k1' };
const introspection = { active: true, sub: 'alice', scope: 'read' };
const userinfo = { sub: 'alice', email: 'a@example.test' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    claims: { sub: 'alice', email: 'a@example.test', 'https://example.com/roles': ['admin', 'ops'] },
    accessToken: 'AT',
    idToken: 'IDT',
    introspection,
    userinfo,
    accessTokenJwk: jwk,
    idTokenJwk: jwk,
    scopes: [],
    ...overrides,
  };
}

describe('downstreamHeaders', () => {
  it.each<[string, DownstreamHeaderRules, Record<string, string>]>([
    ['nothing configured', {}, {}],
    [
      'the access token as it is',
      { downstream_access_token_header: 'X-Access-Token' },
      { 'x-access-token': 'AT', 'cache-control': 'no-store' },
    ],
    [
      'authorization:bearer',
      { downstream_access_token_header: 'authorization:bearer' },
      { authorization: 'Bearer AT', 'cache-control': 'no-store' },
    ],
    [
      'authorization:basic',
      { downstream_id_token_header: 'authorization:basic' },
      { authorization: 'Basic IDT', 'cache-control': 'no-store' },
    ],
    [
      'the ID token',
      { downstream_id_token_header: 'x-id-token' },
      { 'x-id-token': 'IDT', 'cache-control': 'no-store' },
    ],
    [
      'the introspection answer as base64 JSON',
      { downstream_introspection_header: 'x-introspection' },
      { 'x-introspection': b64(introspection), 'cache-control': 'no-store' },
    ],
    [
      'the userinfo answer as base64 JSON, no-store: it is personal data',
      { downstream_user_info_header: 'x-userinfo' },
      { 'x-userinfo': b64(userinfo), 'cache-control': 'no-store' },
    ],
    [
      'the JWKs as base64 JSON, with no no-store: a public key is no secret',
      { downstream_access_token_jwk_header: 'x-at-jwk', downstream_id_token_jwk_header: 'x-idt-jwk' },
      { 'x-at-jwk': b64(jwk), 'x-idt-jwk': b64(jwk) },
    ],
    [
      'claims by name, a namespaced one whole',
      {
        downstream_headers_claims: ['email', 'https://example.com/roles'],
        downstream_headers_names: ['X-Email', 'x-roles'],
      },
      // The caller's claims make the response theirs: private, so no shared cache keeps it.
      { 'x-email': 'a@example.test', 'x-roles': 'admin,ops', 'cache-control': 'private' },
    ],
    [
      'claims by path (Kong 3.14)',
      { downstream_headers: [{ header: 'X-Sub', path: ['sub'] }] },
      { 'x-sub': 'alice', 'cache-control': 'private' },
    ],
  ])('%s', (_name, rules, expected) => {
    expect(downstreamHeaders(principal(), rules)).toEqual(expected);
  });

  it('sets nothing for a credential the request did not have', () => {
    const rules = {
      downstream_id_token_header: 'x-id-token',
      downstream_introspection_header: 'x-introspection',
      downstream_user_info_header: 'x-userinfo',
      downstream_access_token_jwk_header: 'x-jwk',
    };
    const bare: Principal = { claims: {}, accessToken: 'AT', scopes: [] };
    expect(downstreamHeaders(bare, rules)).toEqual({});
  });

  it.each([
    ['a line break', 'alice\r\nset-cookie: session=attacker'],
    ['a NUL', 'alice\u0000'],
  ])('leaves out a claim with %s (response splitting)', (_name, value) => {
    const headers = downstreamHeaders(principal({ claims: { sub: value } }), {
      downstream_headers: [{ header: 'x-sub', path: ['sub'] }],
    });
    expect(headers).toEqual({});
  });

  it('sends a claim beyond ASCII as its UTF-8 bytes, which Node can write (it refuses code points above U+00FF)', async () => {
    const headers = downstreamHeaders(principal({ claims: { name: '李雷 Zoë' } }), {
      downstream_headers: [{ header: 'x-user-name', path: ['name'] }],
    });
    const value = headers['x-user-name']!;
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('李雷 Zoë');
    const { validateHeaderValue } = await import('node:http');
    expect(() => validateHeaderValue('x-user-name', value)).not.toThrow();
  });

  it('leaves out a token with a line break', () => {
    const rules = { downstream_access_token_header: 'x-access-token' };
    expect(downstreamHeaders(principal({ accessToken: 'AT\r\nx-evil: 1' }), rules)).toEqual({});
  });

  it.each(['set-cookie', 'Content-Length', 'transfer-encoding', 'connection'])(
    'never sets %s, even from a config the contract did not check',
    (name) => {
      const headers = downstreamHeaders(principal(), {
        downstream_access_token_header: name,
        downstream_headers: [{ header: name, path: ['sub'] }],
      });
      expect(headers).toEqual({});
    },
  );

  it('a later setting wins over a claim header of the same name', () => {
    const headers = downstreamHeaders(principal(), {
      downstream_headers: [{ header: 'x-token', path: ['sub'] }],
      downstream_access_token_header: 'x-token',
    });
    expect(headers['x-token']).toBe('AT');
  });
});

describe('publicMembers', () => {
  it('keeps the public members of a key and drops every private one', () => {
    const rsa = {
      kty: 'RSA',
      kid: 'k',
      alg: 'RS256',
      use: 'sig',
      n: 'N',
      e: 'AQAB',
      d: 'D',
      p: 'P',
      q: 'Q',
      dp: 'DP',
      dq: 'DQ',
      qi: 'QI',
      oth: [],
    };
    expect(publicMembers(rsa)).toEqual({ kty: 'RSA', kid: 'k', alg: 'RS256', use: 'sig', n: 'N', e: 'AQAB' });
    const okp = { kty: 'OKP', crv: 'Ed25519', x: 'X', d: 'D' };
    expect(publicMembers(okp)).toEqual({ kty: 'OKP', crv: 'Ed25519', x: 'X' });
    expect(publicMembers({ kty: 'oct', k: 'secret' })).toEqual({ kty: 'oct' });
  });
});

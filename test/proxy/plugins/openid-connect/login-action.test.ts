import { describe, expect, it } from 'vitest';
import type { LoginToken } from '../../../../contract/plugins/openid-connect.js';
import {
  loginRedirectTarget,
  loginResponseBody,
  type LoginTokens,
} from '../../../../proxy/plugins/openid-connect/login-action.js';

const TOKENS: LoginTokens = { access_token: 'at', id_token: 'it', refresh_token: 'rt', expires_in: 300 };
const INTROSPECTED: LoginTokens = { access_token: 'opaque', introspection: { active: true, sub: 'alice' } };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('loginResponseBody', () => {
  it.each([
    ['nothing asked for (null)', TOKENS, null, {}],
    ['nothing asked for (empty)', TOKENS, [], {}],
    ["Kong's default: the ID token", TOKENS, ['id_token'], { id_token: 'it' }],
    ['named tokens', TOKENS, ['access_token', 'refresh_token'], { access_token: 'at', refresh_token: 'rt' }],
    ['a named token the login does not have is left out', { access_token: 'at' }, ['id_token'], {}],
    [
      'tokens: the token response',
      TOKENS,
      ['tokens'],
      { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: 'it', refresh_token: 'rt' },
    ],
    [
      'introspection wins when there is one',
      INTROSPECTED,
      ['tokens', 'introspection'],
      INTROSPECTED.introspection,
    ],
    [
      'introspection without an answer falls back to tokens',
      TOKENS,
      ['introspection', 'tokens'],
      { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: 'it', refresh_token: 'rt' },
    ],
  ] as [string, LoginTokens, LoginToken[] | null, unknown][])('%s', (_name, tokens, wanted, expected) => {
    expect(loginResponseBody(tokens, wanted)).toEqual(expected);
  });
});

describe('loginRedirectTarget', () => {
  it.each([
    ['no tokens asked for', 'https://app.example/', null, 'https://app.example/'],
    [
      'the ID token in the fragment',
      'https://app.example/done',
      ['id_token'],
      'https://app.example/done#id_token=it',
    ],
    [
      'after an existing fragment',
      'https://app.example/#/home',
      ['id_token', 'access_token'],
      'https://app.example/#/home&id_token=it&access_token=at',
    ],
    [
      'tokens as base64url JSON',
      'https://app.example/',
      ['tokens'],
      `https://app.example/#tokens=${b64({ access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: 'it', refresh_token: 'rt' })}`,
    ],
  ] as [string, string, LoginToken[] | null, string][])('%s', (_name, uri, wanted, expected) => {
    expect(loginRedirectTarget(uri, TOKENS, wanted)).toBe(expected);
  });

  it('never touches the query string', () => {
    const target = new URL(loginRedirectTarget('https://app.example/done?x=1', TOKENS, ['access_token']));
    expect(target.search).toBe('?x=1');
    expect(target.hash).toBe('#access_token=at');
  });

  it('encodes what could break the fragment', () => {
    expect(loginRedirectTarget('https://a.example/', { access_token: 'a&b=c#d' }, ['access_token'])).toBe(
      'https://a.example/#access_token=a%26b%3Dc%23d',
    );
  });
});

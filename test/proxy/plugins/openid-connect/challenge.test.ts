import { describe, expect, it } from 'vitest';
import {
  redirectResponse,
  refusalRedirect,
  refusalResponse,
  type Refusal,
} from '../../../../proxy/plugins/openid-connect/challenge.js';

describe('refusalResponse', () => {
  it.each([
    [
      'no credentials: a challenge without an error code',
      { status: 401, message: 'Unauthorized' },
      'Bearer realm="idp.example"',
    ],
    [
      'a bad credential: invalid_token',
      { status: 401, error: 'invalid_token', message: 'Unauthorized' },
      'Bearer realm="idp.example", error="invalid_token"',
    ],
    [
      'not enough scope: insufficient_scope',
      { status: 403, error: 'insufficient_scope', message: 'Forbidden' },
      'Bearer realm="idp.example", error="insufficient_scope"',
    ],
    ['a plain 403 has no challenge', { status: 403, message: 'Forbidden' }, undefined],
    [
      'ambiguous credentials: invalid_request',
      { status: 400, error: 'invalid_request', message: 'Unauthorized' },
      'Bearer realm="idp.example", error="invalid_request"',
    ],
  ] as [string, Refusal, string | undefined][])('%s', (_name, refusal, challenge) => {
    const response = refusalResponse(refusal, 'idp.example');
    expect(response.status).toBe(refusal.status);
    expect(response.headers['www-authenticate']).toBe(challenge);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(response.body)).toEqual({ message: refusal.message });
  });

  it.each([
    ['a quote', 'a"b', 'ab'],
    ['a backslash', 'a\\b', 'ab'],
    ['CR/LF', 'a\r\nx-injected: 1', 'ax-injected: 1'],
  ])('keeps %s out of the quoted realm', (_name, realm, kept) => {
    const header = refusalResponse({ status: 401, message: 'x' }, realm).headers['www-authenticate']!;
    expect(header).toBe(`Bearer realm="${kept}"`);
    expect(header).not.toMatch(/[\r\n]/);
  });

  it('the body is the configured message as JSON, whatever it holds', () => {
    const message = '"}<script>alert(1)</script>\r\n';
    const response = refusalResponse({ status: 401, message }, 'r');
    expect(response.body).toBe(JSON.stringify({ message }));
    expect(JSON.parse(response.body)).toEqual({ message });
  });
});

describe('refusalRedirect', () => {
  const config = {
    unauthorized_redirect_uri: ['https://app.example.test/sign-in', 'https://other.example.test/'],
    forbidden_redirect_uri: ['https://app.example.test/denied'],
    unexpected_redirect_uri: ['https://app.example.test/sorry'],
  };
  const page = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };

  it.each([
    ['a page refused with 401: the first unauthorized URL', 401, page, 'https://app.example.test/sign-in'],
    ['a page refused with 403: the forbidden URL', 403, page, 'https://app.example.test/denied'],
    ['a page the IdP outage answers 503: the unexpected URL', 503, page, 'https://app.example.test/sorry'],
    ['an upper-case Accept', 401, { accept: 'TEXT/HTML' }, 'https://app.example.test/sign-in'],
    [
      'an API client (JSON): no redirect, the challenge stays',
      401,
      { accept: 'application/json' },
      undefined,
    ],
    ['fetch() with its default Accept: no redirect', 403, { accept: '*/*' }, undefined],
    ['no Accept at all: no redirect', 401, {}, undefined],
    ['ambiguous credentials (400): never redirected', 400, page, undefined],
  ])('%s', (_name, status, headers, expected) => {
    expect(refusalRedirect(config, status, headers)).toBe(expected);
  });

  it('redirects nowhere when the field for that status is unset', () => {
    expect(refusalRedirect({}, 401, page)).toBeUndefined();
    expect(refusalRedirect({ unauthorized_redirect_uri: ['https://a.test/'] }, 403, page)).toBeUndefined();
  });

  it('answers 302 to the configured URL exactly, never cached, with no body', () => {
    expect(redirectResponse('https://app.example.test/denied?x=1')).toEqual({
      status: 302,
      headers: { location: 'https://app.example.test/denied?x=1', 'cache-control': 'no-store' },
      body: '',
    });
  });
});

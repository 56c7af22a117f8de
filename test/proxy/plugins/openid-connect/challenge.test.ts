import { describe, expect, it } from 'vitest';
import { refusalResponse, type Refusal } from '../../../../proxy/plugins/openid-connect/challenge.js';

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

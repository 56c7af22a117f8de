import { describe, expect, it } from 'vitest';
import {
  deriveCookieKey,
  parseCookies,
  requiresSecure,
  sealJson,
  serializeCookie,
  unsealJson,
} from '../../../../proxy/plugins/openid-connect/cookies.js';

describe('parseCookies', () => {
  it.each([
    { header: undefined, expected: {} },
    { header: '', expected: {} },
    { header: 'a=1', expected: { a: '1' } },
    { header: 'a=1; b=2', expected: { a: '1', b: '2' } },
    { header: 'a=1;b=2', expected: { a: '1', b: '2' } },
    { header: '  a = 1 ;\tb=2\t', expected: { a: '1', b: '2' } },
    { header: 'a=1; a=2', expected: { a: '1' } },
    { header: 'a="quoted"', expected: { a: 'quoted' } },
    { header: 'a=', expected: { a: '' } },
    { header: 'a=x=y', expected: { a: 'x=y' } },
    { header: 'novalue; b=2', expected: { b: '2' } },
    { header: '=orphan; b=2', expected: { b: '2' } },
    { header: 'bad name=1; b=2', expected: { b: '2' } },
    { header: 'a=has space; b=2', expected: { b: '2' } },
    { header: 'a=back\\slash; b=2', expected: { b: '2' } },
    { header: 'a=com,ma; b=2', expected: { b: '2' } },
    { header: 'a="unbalanced; b=2', expected: { b: '2' } },
    { header: 'a=caf\u00e9; b=2', expected: { b: '2' } },
    // A malformed first occurrence does not shadow a valid later one.
    { header: 'a=x y; a=ok', expected: { a: 'ok' } },
  ])('parses $header', ({ header, expected }) => {
    expect(Object.fromEntries(parseCookies(header))).toEqual(expected);
  });

  it('keeps names that are Object.prototype keys as ordinary cookies', () => {
    const parsed = parseCookies('__proto__=1; constructor=2');
    expect(parsed.get('__proto__')).toBe('1');
    expect(parsed.get('constructor')).toBe('2');
  });
});

describe('serializeCookie', () => {
  it('writes every attribute in a fixed order', () => {
    expect(
      serializeCookie('sid', 'abc', {
        maxAge: 60,
        expires: new Date(0),
        domain: 'example.com',
        path: '/app',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      }),
    ).toBe(
      'sid=abc; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Lax',
    );
  });

  it('omits absent and false attributes', () => {
    expect(serializeCookie('sid', 'abc', { secure: false, httpOnly: false })).toBe('sid=abc');
    expect(serializeCookie('sid', '')).toBe('sid=');
  });

  it.each([
    ['empty name', () => serializeCookie('', 'v')],
    ['name with space', () => serializeCookie('a b', 'v')],
    ['name with =', () => serializeCookie('a=b', 'v')],
    ['value with ;', () => serializeCookie('a', 'v; Domain=evil.com')],
    ['value with CRLF', () => serializeCookie('a', 'v\r\nSet-Cookie: x=y')],
    ['value with space', () => serializeCookie('a', 'v w')],
    ['value with DQUOTE', () => serializeCookie('a', 'v"')],
    ['value with non-ASCII', () => serializeCookie('a', 'caf\u00e9')],
    ['negative Max-Age', () => serializeCookie('a', 'v', { maxAge: -1 })],
    ['fractional Max-Age', () => serializeCookie('a', 'v', { maxAge: 1.5 })],
    ['invalid Expires', () => serializeCookie('a', 'v', { expires: new Date(Number.NaN) })],
    ['Path without /', () => serializeCookie('a', 'v', { path: 'app' })],
    ['Path with ;', () => serializeCookie('a', 'v', { path: '/a; Secure' })],
    ['Path with CTL', () => serializeCookie('a', 'v', { path: '/a\n' })],
    ['Domain with ;', () => serializeCookie('a', 'v', { domain: 'a.com; Path=/' })],
    ['Domain with space', () => serializeCookie('a', 'v', { domain: 'a .com' })],
  ])('throws on %s', (_, serialize) => {
    expect(serialize).toThrow(TypeError);
  });

  it('accepts a leading-dot Domain', () => {
    expect(serializeCookie('a', 'v', { domain: '.example.com' })).toBe('a=v; Domain=.example.com');
  });
});

describe('requiresSecure', () => {
  it.each([
    ['__Secure-sid', true],
    ['__Host-sid', true],
    ['__host-sid', true],
    ['sid', false],
    ['_Secure-sid', false],
  ])('%s -> %s', (name, expected) => {
    expect(requiresSecure(name)).toBe(expected);
  });
});

describe('sealJson / unsealJson', () => {
  const key = deriveCookieKey('s'.repeat(32), 'test|a');

  it('round-trips a JSON object', async () => {
    const token = await sealJson({ a: 1, b: ['x'] }, key);
    expect(token.split('.')).toHaveLength(5);
    expect(await unsealJson(token, key)).toEqual({ a: 1, b: ['x'] });
  });

  it('does not decrypt under a key with other info or secret', async () => {
    const token = await sealJson({ a: 1 }, key);
    expect(await unsealJson(token, deriveCookieKey('s'.repeat(32), 'test|b'))).toBeUndefined();
    expect(await unsealJson(token, deriveCookieKey('t'.repeat(32), 'test|a'))).toBeUndefined();
  });

  it.each(['', 'garbage', 'a.b.c.d.e', '....'])('returns undefined for %j', async (token) => {
    expect(await unsealJson(token, key)).toBeUndefined();
  });

  it('rejects an empty secret', () => {
    expect(() => deriveCookieKey('', 'x')).toThrow(TypeError);
  });
});

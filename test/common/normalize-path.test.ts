import { describe, expect, it } from 'vitest';
import { normalizePath, normalizeRequestTarget, withoutPathParameters } from '../../common/normalize-path.js';

describe('normalizeRequestTarget', () => {
  it.each([
    // Already normal: returned as is.
    ['/', '/', ''],
    ['/api/v1/users', '/api/v1/users', ''],
    ['/api/v1/users/', '/api/v1/users/', ''],
    ['/a.b/..c/...', '/a.b/..c/...', ''], // dots inside or beyond a segment are names, not dot segments
    ['/caf\u00e9', '/caf\u00e9', ''], // non-ASCII passes through untouched
    // Query: split at the first `?`, passed through untouched.
    ['/search?q=a/../b&x=%2F#', '/search', '?q=a/../b&x=%2F#'],
    ['/a/../b?', '/b', '?'],
    ['/?a?b', '/', '?a?b'],
    // Dot segments (RFC 3986 §5.2.4).
    ['/pub/../admin', '/admin', ''],
    ['/pub/%2e%2e/admin', '/admin', ''],
    ['/pub/%2E%2E/admin', '/admin', ''],
    ['/pub/.%2e/admin', '/admin', ''],
    ['/../x', '/x', ''],
    ['/../../..', '/', ''],
    ['/a/./b', '/a/b', ''],
    ['/a/.', '/a/', ''],
    ['/a/..', '/', ''],
    ['/a/b/..', '/a/', ''],
    ['/a/b/../', '/a/', ''],
    ['/.', '/', ''],
    ['/%2e', '/', ''],
    // Repeated slashes.
    ['//admin', '/admin', ''],
    ['/a//b///c//', '/a/b/c/', ''],
    ['/a//../b', '/b', ''], // merged first, so `..` removes `a`, not an empty segment
    // Escapes: unreserved decoded, others kept with upper-case hex, decoded only once.
    ['/%7Euser', '/~user', ''],
    ['/%7euser', '/~user', ''],
    ['/%41%5a%30%2D%5F', '/AZ0-_', ''],
    ['/a%3Fb', '/a%3Fb', ''],
    ['/a%3fb', '/a%3Fb', ''],
    ['/a%23b', '/a%23b', ''],
    ['/a%20b', '/a%20b', ''],
    ['/%c3%a9', '/%C3%A9', ''],
    ['/%252e%252e/x', '/%252e%252e/x', ''],
    ['/a%25', '/a%25', ''],
    // Path parameters outside dot segments are names here; resolveRequest checks the route they reach.
    ['/payments;jsessionid=1', '/payments;jsessionid=1', ''],
    ['/a;x/b;y=1,2', '/a;x/b;y=1,2', ''],
    ['/a/;x', '/a/;x', ''],
    ['/a/...;x', '/a/...;x', ''], // three dots are a name, also to Tomcat
    ['/a/..x;y/.x;', '/a/..x;y/.x;', ''],
    ['/a/b;..', '/a/b;..', ''],
    ['/a/b%3b..', '/a/b%3B..', ''],
    ['/a;x/../b', '/b', ''], // `a;x` is removed like any other segment
    ['/a?x=/..;/b', '/a', '?x=/..;/b'],
  ])('%s → path %s, query %s', (raw, path, query) => {
    expect(normalizeRequestTarget(raw)).toEqual({ ok: true, path, query });
  });

  it.each(['http://internal/', 'https://a.example.com/x', 'internal:443', '*', '', '?x', 'a/b'])(
    '%s → PCS_BAD_REQUEST_TARGET',
    (raw) => {
      expect(normalizeRequestTarget(raw)).toEqual({ ok: false, code: 'PCS_BAD_REQUEST_TARGET' });
    },
  );

  it.each([
    // Encoded separators: the upstream may decode them into a path we never routed.
    '/admin%2Fx',
    '/admin%2fx',
    '/a%5cb',
    '/a%5Cb',
    // Encoded control characters.
    '/%00',
    '/a%0d%0aX-Injected:1',
    '/%1F',
    '/%7f',
    // Raw characters that are not allowed in a path.
    '/a\\b',
    '/a#frag',
    '/a b',
    '/a\tb',
    '/\u0000',
    '/a\u007f',
    '/a\r\nb',
    // Malformed escapes.
    '/%zz',
    '/%',
    '/a%',
    '/a%4',
    '/a%4g',
    '/a%4?x=1', // the query does not complete an escape cut short by it
    // Dot segments with path parameters: Tomcat, Jetty and Spring drop `;...` and then resolve them.
    '/public/..;/payments',
    '/public/..;x=1/payments',
    '/public/.;/payments',
    '/public/.;x/payments',
    '/..;/payments',
    '/a/..;',
    '/a/.;',
    // The same once `%2e` is decoded.
    '/public/%2e%2e;/payments',
    '/public/%2E%2E;x/payments',
    '/public/.%2e;/payments',
    '/public/%2e;/payments',
    // An encoded semicolon after dots: stacks that decode before they split parameters read it as one.
    '/public/..%3B/payments',
    '/public/..%3bx/payments',
    '/public/.%3B/payments',
    '/public/%2e%2e%3b/payments',
  ])('%j → PCS_BAD_PATH', (raw) => {
    expect(normalizeRequestTarget(raw)).toEqual({ ok: false, code: 'PCS_BAD_PATH' });
  });

  it('checks only the path for forbidden characters; the query passes untouched', () => {
    expect(normalizeRequestTarget('/a?b\\c%zz%2F')).toEqual({ ok: true, path: '/a', query: '?b\\c%zz%2F' });
  });

  it('returns the input string itself when nothing needs rewriting', () => {
    const raw = '/api/v1/users/42';
    const result = normalizeRequestTarget(raw);
    expect(result.ok && result.path).toBe(raw);
  });

  it('is idempotent', () => {
    const samples = ['/pub/%2e%2e/admin', '/a//b/./c/../d/', '/%7e%3f%c3%a9/%252e', '/a/.', '/x%41y/../../z'];
    for (const raw of samples) {
      const once = normalizeRequestTarget(raw);
      if (!once.ok) throw new Error(`refused ${raw}`);
      expect(normalizeRequestTarget(once.path)).toEqual(once);
    }
  });
});

describe('normalizePath', () => {
  it('normalises a bare path without splitting a query', () => {
    expect(normalizePath('/a/../b?c')).toBe('/b?c');
    expect(normalizePath('/pub/%7euser/')).toBe('/pub/~user/');
  });

  it('is undefined for a path a request could not have', () => {
    expect(normalizePath('/a%2Fb')).toBeUndefined();
    expect(normalizePath('relative')).toBeUndefined();
  });
});

describe('withoutPathParameters', () => {
  it.each([
    ['/', '/'],
    ['/payments', '/payments'],
    ['/payments/', '/payments/'],
    ['/payments;jsessionid=1', '/payments'],
    ['/payments;a;b=1/list', '/payments/list'],
    ['/payments%3Bx/list', '/payments/list'],
    ['/payments%3bx/list', '/payments/list'],
    ['/a;x/b;y', '/a/b'],
    ['/a/;x/b', '/a/b'], // a segment of parameters only is empty, and merged away
    ['/a/;x', '/a/'],
    ['/a;x/', '/a/'],
    ['/;x', '/'],
    ['/a%3', '/a%3'],
    ['/a%3C', '/a%3C'],
  ])('%s → %s', (path, expected) => {
    expect(withoutPathParameters(path)).toBe(expected);
  });

  it('returns the path itself when it has no parameters', () => {
    const path = '/api/v1/users/42';
    expect(withoutPathParameters(path)).toBe(path);
  });
});

import { describe, expect, it } from 'vitest';
import {
  MAX_RETURN_PATH_LENGTH,
  safeReturnPath,
} from '../../../../proxy/plugins/openid-connect/return-path.js';

describe('safeReturnPath', () => {
  it.each([
    // Ordinary same-origin paths are kept as they are.
    ['/', true],
    ['/a/b?x=1', true],
    ['/a/b/', true],
    ['/a/b?x=1&y=2#frag', true],
    ['/search?q=a%20b', true],
    ['/caf%C3%A9', true],
    ['/a:b@c', true],
    // Queries cannot change the origin, so encoded slashes are fine there.
    ['/login?next=%2F%2Fevil.com', true],
    ['/a?b=//evil.com', true],
    ['/a?b=..', true],
    // Network-path references and absolute URLs leave the origin.
    ['//evil.com', false],
    ['///evil.com', false],
    ['/\\evil.com', false],
    ['\\\\evil.com', false],
    ['/a\\b', false],
    ['https://evil.com', false],
    ['http:evil.com', false],
    ['javascript:alert(1)', false],
    ['evil.com', false],
    ['a/b', false],
    ['?x=1', false],
    ['#x', false],
    ['', false],
    // Whitespace and controls, raw or encoded: browsers strip some, so "/\t/evil.com" becomes "//evil.com".
    [' /x', false],
    ['/x ', false],
    ['/\t/evil.com', false],
    ['/\n/evil.com', false],
    ['/x\u0000', false],
    ['/x\u007f', false],
    ['/%09/evil.com', false],
    ['/%0a/evil.com', false],
    ['/%0D/evil.com', false],
    ['/%00', false],
    ['/%7f', false],
    ['/x%0d%0aSet-Cookie:a=b', false],
    ['/x?a=%0d%0a', false],
    // Malformed percent-encoding.
    ['/%', false],
    ['/%zz', false],
    ['/%2', false],
    // Encoded delimiters in the path: a decoding server could produce "//evil.com" or "/..".
    // Browsers resolve "/%2F/evil.com" on this origin, but refusing it costs nothing, since a
    // browser would not send an encoded slash in a path it navigated to.
    ['/%2F/evil.com', false],
    ['/%2f/evil.com', false],
    ['/%5C/evil.com', false],
    ['/%2e%2e/x', false],
    ['/%252F/evil.com', false],
    // Unnormalised paths: browsers never send them.
    ['/a//b', false],
    ['/./', false],
    ['/.//evil.com', false],
    ['/../x', false],
    ['/a/..', false],
    ['/a/.', false],
    ['/a/.b', true],
    ['/a/...', true],
    // Raw non-ASCII: browsers percent-encode it.
    ['/caf\u00e9', false],
    ['/\u3002evil.com', false],
  ])('%j safe: %s', (candidate, safe) => {
    expect(safeReturnPath(candidate)).toBe(safe ? candidate : '/');
  });

  it('refuses paths longer than the limit', () => {
    const atLimit = '/' + 'a'.repeat(MAX_RETURN_PATH_LENGTH - 1);
    expect(safeReturnPath(atLimit)).toBe(atLimit);
    expect(safeReturnPath(atLimit + 'a')).toBe('/');
  });
});

import { describe, expect, it } from 'vitest';
import { upstreamPath } from '../../../proxy/routing/upstream-path.js';
import { route } from './fixtures.js';

describe('upstreamPath', () => {
  it.each([
    // [stripPath, upstreamPath, request path, matchedPrefix, expected]
    [false, undefined, '/foo/bar', '/foo', '/foo/bar'],
    [true, undefined, '/foo/bar', '/foo', '/bar'],
    [true, undefined, '/foo/', '/foo', '/'],
    [true, undefined, '/foo', '/foo', '/'],
    [true, undefined, '/foo/bar', '/', '/foo/bar'], // root prefix strips nothing
    [true, undefined, '/foo/bar', '', '/foo/bar'], // default backend
    [true, undefined, '/foo/bar', '/foo/ba', '/r'], // a regex match may end mid-segment
    [true, undefined, '/items/42/parts', '/items/42', '/parts'],
    [false, '/api', '/bar', '/bar', '/api/bar'],
    [false, '/api/', '/bar', '/bar', '/api/bar'],
    [false, '/', '/bar', '/bar', '/bar'],
    [false, '/api', '/', '/', '/api'],
    [false, '/api/', '/', '/', '/api/'],
    [false, '/api', '/bar/', '/bar', '/api/bar/'],
    [true, '/api', '/foo/bar', '/foo', '/api/bar'],
    [true, '/api/', '/foo/bar', '/foo', '/api/bar'],
    [true, '/api', '/foo', '/foo', '/api'],
    [true, '/api/', '/foo', '/foo', '/api/'],
    [true, '/api/v2', '/foo/', '/foo', '/api/v2'],
    [true, '/', '/foo', '/foo', '/'],
  ])('strip=%s upstream=%s: %s matched %s → %s', (stripPath, base, path, matchedPrefix, expected) => {
    const r = route('/foo', 'Prefix', { stripPath, ...(base === undefined ? {} : { upstreamPath: base }) });
    expect(upstreamPath(r, path, matchedPrefix)).toBe(expected);
  });
});

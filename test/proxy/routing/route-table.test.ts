import { describe, expect, it } from 'vitest';
import type { Route } from '../../../contract/compiled-config.js';
import { validateConfig } from '../../../contract/validate.js';
import { normalizeHost } from '../../../proxy/routing/host.js';
import { normalizeRequestTarget } from '../../../common/normalize-path.js';
import { RouteTable } from '../../../proxy/routing/route-table.js';
import { config, exact, prefix, regex, route, vhost } from './fixtures.js';

const HOST = 'api.example.com';
const fallback = () => route('/', 'Prefix', { id: 'default-backend' });

/** The id of the route a request reaches, or undefined for 404. */
function routeFor(table: RouteTable, host: string, rawUrl: string, method = 'GET'): string | undefined {
  const target = normalizeRequestTarget(rawUrl);
  if (!target.ok) throw new Error(`bad target ${rawUrl}`);
  return table.match(normalizeHost(host), target.path, method)?.route.id;
}

describe('fixtures', () => {
  it('build configs that pass validation', () => {
    const result = validateConfig(
      config([vhost(HOST, [prefix('/a'), exact('/b'), regex('/c/\\d+', { methods: ['GET'] })])], fallback()),
    );
    expect(result.ok ? [] : result.problems).toEqual([]);
  });
});

// Every row of the examples table in the Kubernetes Ingress documentation
// (concepts/services-networking/ingress, "Examples"). `expected` is the index
// of the winning path in `paths`, or 'default' when no path matches.
type Row = { paths: [Route['pathType'], string][]; request: string; expected: number | 'default' };
const kubernetesExamples: Row[] = [
  { paths: [['Prefix', '/']], request: '/', expected: 0 },
  { paths: [['Prefix', '/']], request: '/foo', expected: 0 },
  { paths: [['Prefix', '/']], request: '/aaa/bbb/ccc/', expected: 0 },
  { paths: [['Exact', '/foo']], request: '/foo', expected: 0 },
  { paths: [['Exact', '/foo']], request: '/bar', expected: 'default' },
  { paths: [['Exact', '/foo']], request: '/foo/', expected: 'default' },
  { paths: [['Exact', '/foo/']], request: '/foo', expected: 'default' },
  { paths: [['Prefix', '/foo']], request: '/foo', expected: 0 },
  { paths: [['Prefix', '/foo']], request: '/foo/', expected: 0 },
  { paths: [['Prefix', '/foo/']], request: '/foo', expected: 0 },
  { paths: [['Prefix', '/foo/']], request: '/foo/', expected: 0 },
  { paths: [['Prefix', '/aaa/bb']], request: '/aaa/bbb', expected: 'default' },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbb', expected: 0 },
  { paths: [['Prefix', '/aaa/bbb/']], request: '/aaa/bbb', expected: 0 },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbb/', expected: 0 },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbb/ccc', expected: 0 },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbbxyz', expected: 'default' },
  {
    paths: [
      ['Prefix', '/'],
      ['Prefix', '/aaa'],
    ],
    request: '/aaa/ccc',
    expected: 1,
  },
  {
    paths: [
      ['Prefix', '/'],
      ['Prefix', '/aaa'],
      ['Prefix', '/aaa/bbb'],
    ],
    request: '/aaa/bbb',
    expected: 2,
  },
  {
    paths: [
      ['Prefix', '/'],
      ['Prefix', '/aaa'],
      ['Prefix', '/aaa/bbb'],
    ],
    request: '/ccc',
    expected: 0,
  },
  { paths: [['Prefix', '/aaa']], request: '/ccc', expected: 'default' },
  {
    paths: [
      ['Prefix', '/foo'],
      ['Exact', '/foo'],
    ],
    request: '/foo',
    expected: 1,
  },
];

describe('Kubernetes Ingress path matching examples', () => {
  for (const { paths, request, expected } of kubernetesExamples) {
    const configured = paths.map(([type, path]) => `${type} ${path}`).join(', ');
    const winner = expected === 'default' ? 'the default backend' : paths[expected]!.join(' ');
    it(`${configured}: ${request} → ${winner}`, () => {
      const routes = paths.map(([pathType, path], i) => route(path, pathType, { id: `path-${i}` }));
      const table = RouteTable.build(config([vhost(HOST, routes)], fallback()));
      expect(routeFor(table, HOST, request)).toBe(
        expected === 'default' ? 'default-backend' : `path-${expected}`,
      );
    });
  }
});

describe('matchedPrefix', () => {
  it.each([
    { route: prefix('/foo'), request: '/foo/bar', matched: '/foo' },
    { route: prefix('/foo/'), request: '/foo/bar', matched: '/foo' },
    { route: prefix('/foo/'), request: '/foo', matched: '/foo' },
    { route: prefix('/'), request: '/foo/bar', matched: '/' },
    { route: exact('/foo/'), request: '/foo/', matched: '/foo/' },
    { route: regex('/items/\\d+'), request: '/items/42/parts', matched: '/items/42' },
  ])('$route.pathType $route.path on $request → $matched', ({ route: r, request, matched }) => {
    const table = RouteTable.build(config([vhost(HOST, [r])]));
    expect(table.match(HOST, request, 'GET')).toEqual({ route: r, vhost: HOST, matchedPrefix: matched });
  });

  it('is empty for the default backend', () => {
    const table = RouteTable.build(config([], fallback()));
    expect(table.match(HOST, '/anything', 'GET')).toMatchObject({ vhost: '', matchedPrefix: '' });
  });
});

describe('virtual hosts', () => {
  const table = RouteTable.build(
    config(
      [
        vhost('api.example.com', [prefix('/', { id: 'exact-host' })]),
        vhost('*.example.com', [prefix('/', { id: 'wildcard' })]),
        vhost('*', [prefix('/public', { id: 'catch-all' })]),
      ],
      fallback(),
    ),
  );

  it.each([
    ['api.example.com', 'exact-host'],
    ['API.Example.COM', 'exact-host'],
    ['api.example.com:8443', 'exact-host'],
    ['api.example.com.', 'exact-host'],
    ['Api.Example.Com.:443', 'exact-host'],
    ['www.example.com', 'wildcard'],
    ['WWW.EXAMPLE.COM:80', 'wildcard'],
    ['a.b.example.com', 'default-backend'], // one label only
    ['example.com', 'default-backend'], // the wildcard needs a label
    ['.example.com', 'default-backend'], // an empty label is not a label
    ['other.test', 'default-backend'],
    ['[::1]:8000', 'default-backend'],
    ['', 'default-backend'],
  ])('GET %s/ → %s', (host, expected) => {
    expect(routeFor(table, host, '/')).toBe(expected);
  });

  it.each([
    ['a.b.example.com', 'catch-all'],
    ['[::1]:8000', 'catch-all'],
    ['', 'catch-all'],
    ['api.example.com', 'exact-host'], // the exact host wins even where `*` also matches
  ])('GET %s/public → %s', (host, expected) => {
    expect(routeFor(table, host, '/public/x')).toBe(expected);
  });

  it('reports the configured name of the virtual host', () => {
    expect(table.match('www.example.com', '/', 'GET')?.vhost).toBe('*.example.com');
    expect(table.match('nowhere', '/public', 'GET')?.vhost).toBe('*');
  });

  it('falls through each level whose paths do not match', () => {
    const layered = RouteTable.build(
      config(
        [
          vhost('api.example.com', [prefix('/exact-only', { id: 'exact-host' })]),
          vhost('*.example.com', [prefix('/wild', { id: 'wildcard' })]),
          vhost('*', [prefix('/any', { id: 'catch-all' })]),
        ],
        fallback(),
      ),
    );
    expect(routeFor(layered, HOST, '/exact-only')).toBe('exact-host');
    expect(routeFor(layered, HOST, '/wild/x')).toBe('wildcard');
    expect(routeFor(layered, HOST, '/any')).toBe('catch-all');
    expect(routeFor(layered, HOST, '/none')).toBe('default-backend');
  });

  it('answers nothing without a default backend', () => {
    const bare = RouteTable.build(config([vhost(HOST, [exact('/only')])]));
    expect(bare.match(HOST, '/other', 'GET')).toBeUndefined();
    expect(bare.match('elsewhere', '/only', 'GET')).toBeUndefined();
  });

  it('matches nothing for an empty config', () => {
    expect(RouteTable.build(config([])).match(HOST, '/', 'GET')).toBeUndefined();
  });
});

describe('methods', () => {
  const table = RouteTable.build(
    config(
      [
        vhost(HOST, [
          exact('/items', { id: 'exact-post', methods: ['POST'] }),
          prefix('/items', { id: 'prefix-get', methods: ['GET', 'HEAD'] }),
          prefix('/items', { id: 'prefix-put', methods: ['PUT'] }),
          prefix('/items/special', { id: 'special-delete', methods: ['DELETE'] }),
          prefix('/', { id: 'root-any' }),
        ]),
        vhost('*', [prefix('/items', { id: 'catch-all-patch', methods: ['PATCH'] })]),
      ],
      route('/', 'Prefix', { id: 'default-options', methods: ['OPTIONS'] }),
    ),
  );

  it.each([
    ['POST', '/items', 'exact-post'],
    ['GET', '/items', 'prefix-get'], // the Exact route does not take GET: next precedence
    ['HEAD', '/items', 'prefix-get'],
    ['PUT', '/items', 'prefix-put'], // same prefix: first in config order that takes the method
    ['POST', '/items/x', 'root-any'],
    ['DELETE', '/items/special/1', 'special-delete'],
    ['GET', '/items/special/1', 'prefix-get'], // a longer prefix without the method: shorter ones next
    ['PATCH', '/', 'root-any'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(table.match(HOST, path, method)?.route.id).toBe(expected);
  });

  it('falls through to the next host level and the default backend by method', () => {
    const noRoot = RouteTable.build(
      config(
        [
          vhost(HOST, [prefix('/items', { id: 'prefix-get', methods: ['GET'] })]),
          vhost('*', [prefix('/items', { id: 'catch-all-patch', methods: ['PATCH'] })]),
        ],
        route('/', 'Prefix', { id: 'default-options', methods: ['OPTIONS'] }),
      ),
    );
    expect(noRoot.match(HOST, '/items', 'PATCH')?.route.id).toBe('catch-all-patch');
    expect(noRoot.match(HOST, '/items', 'OPTIONS')?.route.id).toBe('default-options');
    expect(noRoot.match(HOST, '/items', 'DELETE')).toBeUndefined();
  });

  it('compares methods case-sensitively', () => {
    expect(table.match(HOST, '/items', 'post')?.route.id).toBe('root-any');
  });

  it('treats an empty methods list as any method', () => {
    const any = RouteTable.build(config([vhost(HOST, [exact('/x', { id: 'any', methods: [] })])]));
    expect(any.match(HOST, '/x', 'BREW')?.route.id).toBe('any');
  });
});

describe('regex routes', () => {
  const table = RouteTable.build(
    config([
      vhost(HOST, [
        exact('/users/me', { id: 'exact-me' }),
        regex('/users/\\d+$', { id: 'user-by-id' }),
        regex('/users/[a-z]+', { id: 'user-by-name', methods: ['GET'] }),
        regex('/users/admin', { id: 'admin' }),
        regex('/v\\d+|/legacy', { id: 'versioned' }),
        regex('^/caret', { id: 'caret' }),
        prefix('/users', { id: 'users-prefix' }),
        prefix('/users/42/long', { id: 'long-prefix' }),
        prefix('/users/bob/profile', { id: 'bob-profile' }),
        route('/docs', 'ImplementationSpecific', { id: 'impl-prefix' }),
      ]),
    ]),
  );

  it.each([
    ['GET', '/users/me', 'exact-me'], // Exact beats regex
    ['GET', '/users/42', 'user-by-id'],
    ['GET', '/users/%34%32', 'user-by-id'], // regexes see the normalised path
    ['GET', '/users/42/long/x', 'long-prefix'], // `$` stops user-by-id: falls to prefixes
    ['GET', '/users/bob/profile', 'user-by-name'], // regex beats even a longer prefix
    ['POST', '/users/bob/profile', 'bob-profile'], // method mismatch: next precedence
    ['GET', '/users/admin', 'user-by-name'], // first regex in config order wins
    ['POST', '/users/admin', 'admin'],
    ['GET', '/v2/items', 'versioned'],
    ['GET', '/legacy', 'versioned'],
    ['GET', '/caret/x', 'caret'],
    ['GET', '/users', 'users-prefix'],
    ['GET', '/docs/guide', 'impl-prefix'], // ImplementationSpecific without `~` is a Prefix
    ['GET', '/docsx', undefined],
    ['GET', '/api/users/42', undefined], // anchored at the start of the path
    ['GET', '/x/legacy', undefined], // the anchor covers every alternative
  ])('%s %s → %s', (method, path, expected) => {
    expect(routeFor(table, HOST, path, method)).toBe(expected);
  });

  it('refuses to build a table with a regex that does not compile', () => {
    expect(() => RouteTable.build(config([vhost(HOST, [regex('/(unclosed')])]))).toThrow(
      expect.objectContaining({ code: 'PCS_CONFIG_INVALID' }),
    );
  });
});

describe('config paths', () => {
  it('are normalised like request paths', () => {
    const table = RouteTable.build(
      config([
        vhost(HOST, [
          exact('/pub/%7euser', { id: 'tilde' }),
          prefix('/a//b/./c/', { id: 'messy-prefix' }),
          exact('/x%3fy', { id: 'escaped-question' }),
        ]),
      ]),
    );
    expect(routeFor(table, HOST, '/pub/~user')).toBe('tilde');
    expect(routeFor(table, HOST, '/pub/%7Euser')).toBe('tilde');
    expect(routeFor(table, HOST, '/a/b/c/d')).toBe('messy-prefix');
    expect(routeFor(table, HOST, '/x%3Fy')).toBe('escaped-question');
  });

  it('that a request path could never equal are left out', () => {
    const table = RouteTable.build(config([vhost(HOST, [exact('/a%2Fb'), prefix('/a')])]));
    expect(table.match(HOST, '/a', 'GET')?.route.path).toBe('/a');
  });
});

describe('broken routes', () => {
  it('still match, so they answer 503 instead of falling through to a wider route', () => {
    const broken = prefix('/admin', { id: 'broken', unavailable: { code: 'PLUGIN_MISSING', message: 'x' } });
    const table = RouteTable.build(config([vhost(HOST, [prefix('/', { id: 'open' }), broken])]));
    expect(table.match(HOST, '/admin/users', 'GET')?.route.id).toBe('broken');
  });
});

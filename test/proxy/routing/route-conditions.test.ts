/**
 * Header and SNI conditions (konghq.com/headers.*, konghq.com/snis) in the
 * route table: a condition narrows its route and never widens it.
 */
import { describe, expect, it } from 'vitest';
import type { Route } from '../../../contract/compiled-config.js';
import { validateConfig } from '../../../contract/validate.js';
import { RouteTable, type RequestHeaders } from '../../../proxy/routing/route-table.js';
import { config, exact, prefix, regex, vhost } from './fixtures.js';

const HOST = 'api.example.com';

const tenantA = (overrides: Partial<Route> = {}) =>
  prefix('/orders', { id: 'tenant-a', headers: [{ name: 'x-tenant', values: ['a'] }], ...overrides });

function tableOf(routes: Route[], defaultBackend?: Route): RouteTable {
  const built = config([vhost(HOST, routes)], defaultBackend);
  const checked = validateConfig(built);
  expect(checked.ok ? [] : checked.problems).toEqual([]);
  return RouteTable.build(built);
}

function routeFor(
  table: RouteTable,
  headers: RequestHeaders | undefined,
  sni?: string,
  path = '/orders/1',
  method = 'GET',
): string | undefined {
  return table.match(HOST, path, method, headers, sni)?.route.id;
}

describe('header conditions: the attack', () => {
  // The only route for the path is restricted to tenant a: nothing else may reach it.
  const table = tableOf([tenantA()]);

  it.each<[string, RequestHeaders | undefined]>([
    ['no headers at all', undefined],
    ['no x-tenant header', { 'user-agent': 'curl' }],
    ['another tenant', { 'x-tenant': 'b' }],
    ['an empty value', { 'x-tenant': '' }],
    ['a longer value', { 'x-tenant': 'ab' }],
    ['a prefix of the value', { 'x-tenant': 'a ' + 'b' }],
    ['the allowed value sent again with another (repeated header)', { 'x-tenant': 'a, b' }],
    ['the other tenant first', { 'x-tenant': 'b, a' }],
    ['a list with an empty element', { 'x-tenant': 'a,' }],
    ['an array of values with one not allowed', { 'x-tenant': ['a', 'b'] }],
    ['an empty array', { 'x-tenant': [] }],
    ['the value under another header', { 'x-tenant-id': 'a' }],
  ])('%s: 404', (_, headers) => {
    expect(routeFor(table, headers)).toBeUndefined();
  });

  it.each<[string, RequestHeaders]>([
    ['the value', { 'x-tenant': 'a' }],
    ['the value in another case (Kong compares values case-insensitively)', { 'x-tenant': 'A' }],
    ['the value repeated', { 'x-tenant': 'a, a' }],
    ['an array of allowed values', { 'x-tenant': ['a', 'A'] }],
  ])('%s: served', (_, headers) => {
    expect(routeFor(table, headers)).toBe('tenant-a');
  });

  it('does not fall through to the default backend when the default backend has its own condition', () => {
    const fallback = prefix('/', { id: 'default', headers: [{ name: 'x-tenant', values: ['c'] }] });
    const withDefault = tableOf([tenantA()], fallback);
    expect(routeFor(withDefault, { 'x-tenant': 'b' })).toBeUndefined();
    expect(routeFor(withDefault, { 'x-tenant': 'c' })).toBe('default');
  });
});

describe('header conditions: which route wins', () => {
  const open = () => prefix('/orders', { id: 'open' });

  it.each<[string, () => Route[], RequestHeaders | undefined, string | undefined]>([
    [
      'conditional route listed after the open one still wins',
      () => [open(), tenantA()],
      { 'x-tenant': 'a' },
      'tenant-a',
    ],
    ['conditional route listed first wins', () => [tenantA(), open()], { 'x-tenant': 'a' }, 'tenant-a'],
    ['no match falls to the open route', () => [tenantA(), open()], { 'x-tenant': 'b' }, 'open'],
    ['no header falls to the open route', () => [open(), tenantA()], undefined, 'open'],
    [
      'more headers win over fewer',
      () => [
        tenantA(),
        tenantA({
          id: 'tenant-a-beta',
          headers: [
            { name: 'x-channel', values: ['beta'] },
            { name: 'x-tenant', values: ['a'] },
          ],
        }),
      ],
      { 'x-tenant': 'a', 'x-channel': 'beta' },
      'tenant-a-beta',
    ],
    [
      'every header must match',
      () => [
        tenantA({
          id: 'tenant-a-beta',
          headers: [
            { name: 'x-channel', values: ['beta'] },
            { name: 'x-tenant', values: ['a'] },
          ],
        }),
      ],
      { 'x-tenant': 'a' },
      undefined,
    ],
    [
      'any of the values matches',
      () => [tenantA({ headers: [{ name: 'x-tenant', values: ['a', 'b'] }] })],
      { 'x-tenant': 'b' },
      'tenant-a',
    ],
    [
      'a value with a comma (custom separator) matches whole',
      () => [tenantA({ headers: [{ name: 'x-tenant', values: ['a,b'] }] })],
      { 'x-tenant': 'a,b' },
      'tenant-a',
    ],
    [
      'path precedence comes first: the longer open prefix beats a shorter conditional one',
      () => [prefix('/', { id: 'root-a', headers: [{ name: 'x-tenant', values: ['a'] }] }), open()],
      { 'x-tenant': 'a' },
      'open',
    ],
    [
      'a failed condition goes on to a shorter prefix',
      () => [tenantA(), prefix('/', { id: 'root' })],
      { 'x-tenant': 'b' },
      'root',
    ],
    [
      'exact routes obey conditions',
      () => [exact('/orders/1', { id: 'exact-a', headers: [{ name: 'x-tenant', values: ['a'] }] })],
      { 'x-tenant': 'b' },
      undefined,
    ],
    [
      'regex routes obey conditions',
      () => [regex('/orders/\\d+', { id: 'regex-a', headers: [{ name: 'x-tenant', values: ['a'] }] })],
      { 'x-tenant': 'b' },
      undefined,
    ],
    [
      'a conditional regex route wins over an earlier open one',
      () => [
        regex('/orders/\\d+', { id: 'regex-open' }),
        regex('/orders/\\d+', { id: 'regex-a', headers: [{ name: 'x-tenant', values: ['a'] }] }),
      ],
      { 'x-tenant': 'a' },
      'regex-a',
    ],
    [
      'methods still apply to a conditional route',
      () => [tenantA({ methods: ['POST'] })],
      { 'x-tenant': 'a' },
      undefined,
    ],
  ])('%s', (_, routes, headers, expected) => {
    expect(routeFor(tableOf(routes()), headers)).toBe(expected);
  });
});

describe('SNI conditions', () => {
  const sniRoute = () => prefix('/orders', { id: 'sni', snis: ['orders.example.com'] });

  it.each<[string, string | undefined, string | undefined]>([
    ['plain http (no SNI) never matches', undefined, undefined],
    ['another SNI', 'other.example.com', undefined],
    ['a subdomain of the SNI', 'x.orders.example.com', undefined],
    ['the SNI', 'orders.example.com', 'sni'],
    ['the SNI in another case', 'Orders.Example.COM', 'sni'],
    ['the SNI with the root dot', 'orders.example.com.', 'sni'],
  ])('%s', (_, sni, expected) => {
    expect(routeFor(tableOf([sniRoute()]), { 'x-tenant': 'a' }, sni)).toBe(expected);
  });

  it('falls to the open route on plain http, and wins over it with the SNI', () => {
    const table = tableOf([prefix('/orders', { id: 'open' }), sniRoute()]);
    expect(routeFor(table, undefined, undefined)).toBe('open');
    expect(routeFor(table, undefined, 'orders.example.com')).toBe('sni');
  });

  it('needs the headers too when it has both', () => {
    const table = tableOf([sniRoute(), tenantA({ id: 'both', snis: ['orders.example.com'] })]);
    expect(routeFor(table, { 'x-tenant': 'a' }, 'orders.example.com')).toBe('both');
    expect(routeFor(table, { 'x-tenant': 'b' }, 'orders.example.com')).toBe('sni');
    expect(routeFor(table, { 'x-tenant': 'a' }, undefined)).toBeUndefined();
  });
});

describe('header conditions: names that Object.prototype also has (the attack)', () => {
  // Node's req.headers inherits from Object.prototype: `constructor` reads a
  // function there, `__proto__` an object. A route naming one must answer 404
  // (or its condition's answer), never throw and break the whole host.
  const inherited = (name: string) =>
    // Built around validation, as a config that slipped past it would be.
    RouteTable.build(
      config([
        vhost(HOST, [
          prefix('/orders', { id: 'narrowed', headers: [{ name, values: ['a'] }] }),
          prefix('/', { id: 'open' }),
        ]),
      ]),
    );

  it.each(['constructor', '__proto__', 'hasownproperty', 'tostring', 'valueof'])(
    'a route on header %s neither throws nor matches a request without it',
    (name) => {
      const table = inherited(name);
      expect(routeFor(table, { 'user-agent': 'curl' })).toBe('open');
      expect(routeFor(table, {})).toBe('open');
    },
  );

  it('a header value that is neither a string nor an array of strings never matches', () => {
    const table = inherited('x-tenant');
    const odd = { 'x-tenant': { length: 1, 0: 'a' } } as unknown as RequestHeaders;
    expect(routeFor(table, odd)).toBe('open');
    expect(routeFor(table, { 'x-tenant': [1] } as unknown as RequestHeaders)).toBe('open');
  });

  it('the header sent as an own property still matches', () => {
    const table = inherited('constructor');
    expect(routeFor(table, { constructor: 'a' } as unknown as RequestHeaders)).toBe('narrowed');
  });
});

describe('conditions never put one namespace ahead of another (the attack)', () => {
  const ns = (namespace: string) => ({ source: { kind: 'Ingress', namespace, name: namespace } });
  const TLS = { 'user-agent': 'curl' };

  it("a newer namespace's regex with snis does not outrank an older namespace's regex for the same paths", () => {
    const table = tableOf([
      regex('/payments/.*', { id: 'payments', ...ns('payments') }),
      regex('/payments/.+', { id: 'attacker', snis: [HOST], ...ns('attacker') }),
    ]);
    expect(routeFor(table, TLS, HOST, '/payments/1')).toBe('payments');
  });

  it('a prefix route with headers of a newer namespace stays behind the older one', () => {
    const table = tableOf([
      prefix('/orders', { id: 'shop', ...ns('shop') }),
      prefix('/orders', { id: 'attacker', headers: [{ name: 'x-a', values: ['1'] }], ...ns('attacker') }),
    ]);
    expect(routeFor(table, { 'x-a': '1' })).toBe('shop');
  });

  it('within one namespace the route with conditions still goes first', () => {
    const table = tableOf([
      regex('/payments/.*', { id: 'open', ...ns('payments') }),
      regex('/payments/.+', { id: 'narrowed', snis: [HOST], ...ns('payments') }),
    ]);
    expect(routeFor(table, TLS, HOST, '/payments/1')).toBe('narrowed');
    expect(routeFor(table, TLS, undefined, '/payments/1')).toBe('open');
  });

  it("a namespace's route with conditions does not jump over another namespace's route to reach its own", () => {
    const table = tableOf([
      regex('/a/.*', { id: 'a-open', ...ns('a') }),
      regex('/a/b.*', { id: 'b-open', ...ns('b') }),
      regex('/a/b/c.*', { id: 'a-narrowed', snis: [HOST], ...ns('a') }),
    ]);
    expect(routeFor(table, TLS, HOST, '/a/b/c')).toBe('a-open');
  });
});

describe('a request a narrowed route turned away never falls through to another namespace (the attack)', () => {
  const ns = (namespace: string) => ({ source: { kind: 'Ingress', namespace, name: namespace } });
  const narrowed = { snis: [HOST], ...ns('payments') };
  const other = (id = 'other') => prefix('/', { id, ...ns('other') });
  const PLAIN = { authorization: 'Bearer secret' };

  it("a narrowed prefix: plain http gets 404, not the other namespace's / route", () => {
    const table = tableOf([prefix('/payments', { id: 'payments', ...narrowed }), other()]);
    expect(routeFor(table, PLAIN, undefined, '/payments/1')).toBeUndefined();
    expect(routeFor(table, PLAIN, undefined, '/payments')).toBeUndefined();
    expect(routeFor(table, PLAIN, HOST, '/payments/1')).toBe('payments');
    expect(routeFor(table, PLAIN, undefined, '/shop')).toBe('other');
  });

  it('a narrowed exact path: 404', () => {
    const table = tableOf([exact('/payments', { id: 'payments', ...narrowed }), other()]);
    expect(routeFor(table, PLAIN, undefined, '/payments')).toBeUndefined();
  });

  it('a narrowed regex path: 404', () => {
    const table = tableOf([regex('/payments/.*', { id: 'payments', ...narrowed }), other()]);
    expect(routeFor(table, PLAIN, undefined, '/payments/1')).toBeUndefined();
    expect(routeFor(table, PLAIN, undefined, '/pay')).toBe('other');
  });

  it('nor to another host level: the * host or the default backend', () => {
    const built = config(
      [vhost(HOST, [prefix('/payments', { id: 'payments', ...narrowed })]), vhost('*', [other('any')])],
      prefix('/', { id: 'fallback', ...ns('other') }),
    );
    const table = RouteTable.build(built);
    expect(routeFor(table, PLAIN, undefined, '/payments/1')).toBeUndefined();
    const onlyDefault = RouteTable.build(
      config(
        [vhost(HOST, [prefix('/payments', { id: 'payments', ...narrowed })])],
        prefix('/', { id: 'fallback', ...ns('other') }),
      ),
    );
    expect(routeFor(onlyDefault, PLAIN, undefined, '/payments/1')).toBeUndefined();
  });

  it("the same namespace's shorter prefix still takes it", () => {
    const table = tableOf([
      prefix('/payments', { id: 'payments', ...narrowed }),
      prefix('/', { id: 'payments-root', ...ns('payments') }),
    ]);
    expect(routeFor(table, PLAIN, undefined, '/payments/1')).toBe('payments-root');
  });
});

describe('contract', () => {
  it.each<[string, Partial<Route>]>([
    ['a header named constructor', { headers: [{ name: 'constructor', values: ['a'] }] }],
    ['a header named __proto__', { headers: [{ name: '__proto__', values: ['a'] }] }],
    ['a header named prototype', { headers: [{ name: 'prototype', values: ['a'] }] }],
    ['an upper-case header name', { headers: [{ name: 'X-Tenant', values: ['a'] }] }],
    ['an empty value list', { headers: [{ name: 'x-tenant', values: [] }] }],
    ['an empty header list', { headers: [] }],
    ['a control character in a value', { headers: [{ name: 'x-tenant', values: ['a\nb'] }] }],
    ['a wildcard SNI', { snis: ['*.example.com'] }],
    ['an empty SNI list', { snis: [] }],
  ])('refuses %s', (_, overrides) => {
    const result = validateConfig(config([vhost(HOST, [prefix('/orders', overrides)])]));
    expect(result.ok).toBe(false);
  });
});

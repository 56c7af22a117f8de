/**
 * Micro-benchmarks for the per-request routing work:
 * `npx vitest bench --run test/proxy/routing`.
 */
import { bench, describe } from 'vitest';
import type { Route } from '../../../contract/compiled-config.js';
import { normalizeHost } from '../../../proxy/routing/host.js';
import { normalizeRequestTarget } from '../../../common/normalize-path.js';
import { RouteTable } from '../../../proxy/routing/route-table.js';
import { config, exact, prefix, vhost } from './fixtures.js';

const HOST = 'api.example.com';
const PATH = '/payments/v1/invoices/42';

/** `count` routes in one vhost; the one requests hit is the last, so nothing favours a scan. */
function tableWith(count: number): RouteTable {
  const routes: Route[] = [];
  for (let i = 1; i < count; i++) {
    routes.push(i % 3 === 0 ? exact(`/svc${i}/v1/items`) : prefix(`/svc${i}/v${i % 7}`));
  }
  routes.push(prefix('/payments/v1'));
  return RouteTable.build(config([vhost(HOST, routes), vhost(`*.example${count}.com`, routes.slice(0, 5))]));
}

describe('normalizeRequestTarget', () => {
  bench('fast path', () => {
    normalizeRequestTarget('/payments/v1/invoices/42?expand=lines');
  });
  bench('slow path (escapes, dot segments)', () => {
    normalizeRequestTarget('/payments/%7euser/../v1//invoices/%2e/42?expand=lines');
  });
});

describe('normalizeHost', () => {
  bench('host with port', () => {
    normalizeHost('API.example.com:8443');
  });
});

describe('RouteTable.match', () => {
  const one = tableWith(1);
  const many = tableWith(10_000);
  bench('1 route', () => {
    one.match(HOST, PATH, 'GET');
  });
  bench('10,000 routes', () => {
    many.match(HOST, PATH, 'GET');
  });
});

describe('RouteTable.match with header conditions', () => {
  // A conditional route for the same path as the open one: the open one is reached after one failed test.
  const table = RouteTable.build(
    config([
      vhost(HOST, [
        prefix('/payments/v1'),
        prefix('/payments/v1', { headers: [{ name: 'x-tenant', values: ['a', 'b'] }] }),
      ]),
    ]),
  );
  const matching = { 'x-tenant': 'b' };
  const other = { 'x-tenant': 'c' };
  bench('header matches', () => {
    table.match(HOST, PATH, 'GET', matching);
  });
  bench('header does not match (falls to the open route)', () => {
    table.match(HOST, PATH, 'GET', other);
  });
});

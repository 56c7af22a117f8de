/**
 * The indexed route table against a linear-scan reference matcher written
 * straight from the spec, on a large random vhost with heavy overlap, some
 * routes narrowed by a header condition.
 */
import { describe, expect, it } from 'vitest';
import type { Route } from '../../../contract/compiled-config.js';
import { RouteTable } from '../../../proxy/routing/route-table.js';
import { config, route, vhost } from './fixtures.js';
import { seededRandom } from '../../support/random.js';

const HOST = 'api.example.com';
// Few enough words that routes overlap heavily near the root, enough that deep paths are sparse.
const WORDS = [...'abcdefghijklmnopqrstuvwxyz', 'aa', 'ab', 'ba', 'bb', 'x1', 'v2'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const REGEXES = ['/a/b/\\d+', '/v2/(aa|ab)$', '/c/[a-c]+/x1', '/b+a'];
const TENANTS = ['a', 'b', 'c'];

function randomPath(next: () => number, minDepth: number, maxDepth: number): string {
  const depth = minDepth + Math.floor(next() * (maxDepth - minDepth + 1));
  const words = Array.from({ length: depth }, () => WORDS[Math.floor(next() * WORDS.length)]);
  const path = '/' + words.join('/');
  return depth > 0 && next() < 0.3 ? path + '/' : path;
}

function randomRoutes(next: () => number, count: number): Route[] {
  return Array.from({ length: count }, (_, i) => {
    const methods = next() < 0.25 ? METHODS.filter(() => next() < 0.5) : undefined;
    const tenant = next() < 0.2 ? TENANTS[Math.floor(next() * 2)]! : undefined;
    const overrides = {
      id: `r${i}`,
      ...(methods ? { methods } : {}),
      ...(tenant ? { headers: [{ name: 'x-tenant', values: [tenant] }] } : {}),
    };
    const kind = next();
    if (kind < 0.002) return route(`~${REGEXES[i % REGEXES.length]}`, 'ImplementationSpecific', overrides);
    if (kind < 0.35) return route(randomPath(next, 1, 4), 'Exact', overrides);
    if (kind < 0.5) return route(randomPath(next, 1, 4), 'ImplementationSpecific', overrides);
    return route(randomPath(next, 1, 4), 'Prefix', overrides);
  });
}

const elements = (path: string) => path.split('/').filter((element) => element !== '');

interface Reference {
  route: Route;
  regex: RegExp | undefined;
  elements: string[];
}

/** Precomputes only what is per route (regex, elements); the matching itself stays a plain scan. */
const prepare = (routes: Route[]): Reference[] =>
  routes.map((route) => ({
    route,
    regex: route.path.startsWith('~') ? new RegExp(`^(?:${route.path.slice(1)})`) : undefined,
    elements: elements(route.path),
  }));

/**
 * The spec, as a linear scan: Exact, then regex, then the longest
 * element-wise prefix; at each step a route with a header condition before
 * one without, then config order.
 */
function referenceMatch(references: Reference[], path: string, method: string, tenant: string | undefined) {
  const allows = (r: Route) =>
    (!r.methods?.length || r.methods.includes(method)) &&
    (r.headers === undefined || r.headers[0]!.values.includes(tenant ?? ''));
  const narrowed = (r: Route) => (r.headers ? 1 : 0);
  let best: { id: string; matchedPrefix: string } | undefined;
  let bestRank = -1;
  const consider = (r: Route, matchedPrefix: string, rank: number) => {
    if (rank > bestRank) [best, bestRank] = [{ id: r.id, matchedPrefix }, rank];
  };
  for (const { route: r } of references) {
    if (r.pathType === 'Exact' && r.path === path && allows(r)) consider(r, path, narrowed(r));
  }
  if (best) return best;
  for (const { route: r, regex } of references) {
    const found = regex && allows(r) ? regex.exec(path) : null;
    if (found) consider(r, found[0], narrowed(r));
  }
  if (best) return best;
  const requested = elements(path);
  for (const { route: r, regex, elements: prefix } of references) {
    if (r.pathType === 'Exact' || regex || !allows(r)) continue;
    const isPrefix =
      prefix.length <= requested.length && prefix.every((element, i) => element === requested[i]);
    if (isPrefix) consider(r, '/' + prefix.join('/'), prefix.length * 2 + narrowed(r));
  }
  return best;
}

function outcome(r: Route | undefined): 'exact' | 'regex' | 'prefix' | 'none' {
  if (r === undefined) return 'none';
  if (r.pathType === 'Exact') return 'exact';
  return r.path.startsWith('~') ? 'regex' : 'prefix';
}

describe('RouteTable with 10,000 routes in one vhost', () => {
  const next = seededRandom(20240601);
  const routes = randomRoutes(next, 10_000);
  const table = RouteTable.build(config([vhost(HOST, routes)]));
  const references = prepare(routes);

  it('agrees with the reference matcher on a sample of requests', () => {
    const pick = () => routes[Math.floor(next() * routes.length)]!.path.replace(/^~.*/, '/');
    const requests = [
      ...Array.from({ length: 800 }, () => randomPath(next, 0, 6)),
      // Below a route's path, so that longest-prefix and fall-back to shorter prefixes both happen.
      ...Array.from({ length: 800 }, () => pick().replace(/\/$/, '') + randomPath(next, 0, 2)),
      // Route paths themselves, so that Exact hits are frequent too.
      ...Array.from({ length: 400 }, pick),
      '/a/b/123/c',
      '/v2/ab',
      '/c/abc/x1/a',
      '/bbba/x',
    ];
    const seen = { exact: 0, regex: 0, prefix: 0, none: 0 };
    let narrowedHits = 0;
    for (const path of requests) {
      const method = METHODS[Math.floor(next() * METHODS.length)]!;
      const tenant = TENANTS[Math.floor(next() * (TENANTS.length + 1))];
      const found = table.match(HOST, path, method, tenant === undefined ? {} : { 'x-tenant': tenant });
      const actual = found && { id: found.route.id, matchedPrefix: found.matchedPrefix };
      expect(actual, `${method} ${path} x-tenant: ${tenant}`).toEqual(
        referenceMatch(references, path, method, tenant),
      );
      if (found?.route.headers) narrowedHits += 1;
      seen[outcome(found?.route)] += 1;
    }
    // The sample must exercise every kind of outcome to mean anything.
    expect(Object.values(seen).every((count) => count > 10)).toBe(true);
    expect(narrowedHits).toBeGreaterThan(10);
  });
});

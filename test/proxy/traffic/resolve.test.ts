import { describe, expect, it } from 'vitest';
import { RouteTable } from '../../../proxy/routing/route-table.js';
import type { RuntimeConfig } from '../../../proxy/runtime-config.js';
import { resolveRequest } from '../../../proxy/traffic/resolve.js';
import { config, exact, prefix, route, vhost } from '../routing/fixtures.js';

const HOST = 'api.example.test';

/** resolveRequest reads only the route table and each route's runtime. */
function runtimeOf(...virtualHosts: Parameters<typeof config>[0]): RuntimeConfig {
  const routes = RouteTable.build(config(virtualHosts));
  return { routes, runtimeOf: () => ({}) } as unknown as RuntimeConfig;
}

const routes = runtimeOf(
  vhost(HOST, [
    route('/', 'Prefix', { id: 'root' }),
    prefix('/payments', { id: 'payments' }),
    exact('/admin', { id: 'admin' }),
    prefix('/api', { id: 'api', stripPath: true }),
  ]),
  vhost('*', [route('/', 'Prefix', { id: 'any' })]),
);

function resolve(rawUrl: string) {
  return resolveOn(HOST, rawUrl);
}

function resolveOn(host: string | undefined, rawUrl: string) {
  const result = resolveRequest(routes, rawUrl, host, 'GET', 'http', 443);
  return result.ok ? { route: result.route.id, upstreamPath: result.upstreamPath } : { code: result.code };
}

describe('resolveRequest: Host syntax', () => {
  it.each([
    'api.example.test:@evil.test',
    'api.example.test@evil.test',
    'api.example.test/x',
    'api.example.test#x',
    'api.example.test%00',
    'api.example.test x',
    'api.example.test:80:80',
    '',
  ])('%j → PCS_BAD_HOST, before routing', (host) => {
    expect(resolveOn(host, '/payments')).toEqual({ code: 'PCS_BAD_HOST' });
  });

  it.each([
    [HOST, 'payments'],
    ['API.Example.Test.:8000', 'payments'],
    ['[::1]:8000', 'any'],
    [undefined, 'any'], // HTTP/1.0 without Host: the catch-all host, as before
  ])('%j routes to %s', (host, id) => {
    expect(resolveOn(host, '/payments')).toMatchObject({ route: id });
  });
});

describe('resolveRequest: path parameters must not change the route', () => {
  it.each([
    // A Tomcat, Jetty or Spring upstream drops `;...` and serves the route the proxy did not pick.
    ['/payments;jsessionid=1', 'root', 'payments'],
    ['/payments;x/list', 'root', 'payments'],
    ['/payments%3Bx/list', 'root', 'payments'],
    ['/admin;x', 'root', 'admin'],
    ['/api;v=2/users', 'root', 'api'],
  ])('%s (routed as %s, read upstream as %s) → PCS_BAD_PATH', (rawUrl) => {
    expect(resolve(rawUrl)).toEqual({ code: 'PCS_BAD_PATH' });
  });

  it.each([
    ['/payments/list;jsessionid=1', 'payments', '/payments/list;jsessionid=1'],
    ['/payments/;x/list', 'payments', '/payments/;x/list'],
    ['/public;x/page', 'root', '/public;x/page'],
    ['/api/users;v=2', 'api', '/users;v=2'],
    ['/admin/x;y', 'root', '/admin/x;y'],
    [';x', undefined, undefined],
  ])('%s → route %s, forwarded as %s', (rawUrl, id, upstreamPath) => {
    if (id === undefined) expect(resolve(rawUrl)).toEqual({ code: 'PCS_BAD_REQUEST_TARGET' });
    else expect(resolve(rawUrl)).toEqual({ route: id, upstreamPath });
  });

  it('applies on every host, including the catch-all', () => {
    const any = runtimeOf(vhost('*', [route('/', 'Prefix', { id: 'any' }), prefix('/private', { id: 'p' })]));
    expect(resolveRequest(any, '/private;x', 'other.test', 'GET', 'http', 443)).toMatchObject({
      ok: false,
      code: 'PCS_BAD_PATH',
    });
  });
});

/**
 * Request targets that an upstream could read differently from the proxy are
 * normalised once (and routed as normalised) or refused with 400. Sent over
 * raw sockets, since HTTP client libraries normalise or refuse them first.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, rawGet, rawHttp, type RawResult } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

let proxy: ProxyProcess;
let pub: EchoServer;
let admin: EchoServer;

beforeAll(async () => {
  [pub, admin] = await Promise.all([startEcho({ name: 'pub' }), startEcho({ name: 'admin' })]);
  const config = new ConfigBuilder()
    .upstream('pub', [pub.port])
    .upstream('admin', [admin.port])
    .route('pub', '/pub', 'pub')
    .route('admin', '/admin', 'admin')
    .build();
  // Path handling is the same in every worker; one keeps the suite quick.
  proxy = await startProxy({ config, workers: 1 });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([pub?.close(), admin?.close()]);
});

beforeEach(() => {
  pub.reset();
  admin.reset();
});

function expectRefused(res: RawResult, code: string): void {
  expect(res.status, res.raw).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toMatchObject({ error: code });
  expect(pub.requests).toHaveLength(0);
  expect(admin.requests).toHaveLength(0);
}

describe('normalised once, then routed as normalised', () => {
  it.each([
    ['/pub/../admin', '/admin'],
    ['/pub/%2e%2e/admin', '/admin'],
    ['/pub/%2E%2E/admin', '/admin'],
    ['/pub/.%2e/admin/', '/admin/'],
    ['/pub/./../admin/./x', '/admin/x'],
    ['//admin', '/admin'],
    ['///admin//x', '/admin/x'],
    ['/pub/../admin?next=/../pub', '/admin?next=/../pub'],
  ])('%s reaches the /admin route as %s', async (target, forwarded) => {
    const res = await rawGet(proxy.httpPort, target);
    expect(res.status, res.raw).toBe(200);
    expect(res.json<EchoResponse>()).toMatchObject({ upstream: 'admin', url: forwarded });
    expect(admin.requests.map((r) => r.url)).toEqual([forwarded]);
    expect(pub.requests).toHaveLength(0);
  });

  it('climbs no higher than the root, and decodes only once', async () => {
    const above = await rawGet(proxy.httpPort, '/../../pub/x');
    expect(above.json<EchoResponse>()).toMatchObject({ upstream: 'pub', url: '/pub/x' });
    // %252e is an escaped `%`, not a dot: it stays escaped and is no dot segment.
    const double = await rawGet(proxy.httpPort, '/pub/%252e%252e/admin');
    expect(double.json<EchoResponse>()).toMatchObject({ upstream: 'pub', url: '/pub/%252e%252e/admin' });
    expect(admin.requests).toHaveLength(0);
  });

  it('decodes escaped unreserved characters before routing', async () => {
    const res = await rawGet(proxy.httpPort, '/%61dmin/%7Euser');
    expect(res.json<EchoResponse>()).toMatchObject({ upstream: 'admin', url: '/admin/~user' });
  });
});

describe('refused with 400, never forwarded', () => {
  it.each([
    ['an encoded slash', '/admin%2Fx', 'PCS_BAD_PATH'],
    ['an encoded slash (lower case)', '/pub/..%2fadmin', 'PCS_BAD_PATH'],
    ['an encoded NUL', '/admin%00', 'PCS_BAD_PATH'],
    ['an encoded control character', '/admin/%0d%0aX-Injected:%201', 'PCS_BAD_PATH'],
    ['an encoded backslash', '/pub/..%5cadmin', 'PCS_BAD_PATH'],
    ['a malformed escape', '/admin/%zz', 'PCS_BAD_PATH'],
    ['a raw backslash', '/pub\\..\\admin', 'PCS_BAD_PATH'],
    ['a raw fragment', '/admin#frag', 'PCS_BAD_PATH'],
    ['a path that is not UTF-8 when decoded', '/admin/%FF', 'PCS_BAD_PATH'],
    ['an absolute-form target', 'http://internal/', 'PCS_BAD_REQUEST_TARGET'],
    ['an absolute-form target naming a routed path', 'http://internal/admin', 'PCS_BAD_REQUEST_TARGET'],
  ])('%s: %s', async (_what, target, code) => {
    expectRefused(await rawGet(proxy.httpPort, target), code);
  });

  it('an asterisk-form target', async () => {
    const res = await rawHttp(proxy.httpPort, 'OPTIONS * HTTP/1.1\nHost: localhost\nConnection: close\n\n');
    expectRefused(res, 'PCS_BAD_REQUEST_TARGET');
  });

  it('the same over https', async () => {
    for (const path of ['/admin%2Fx', '/admin%00']) {
      const res = await http({ port: proxy.httpsPort, https: true, path });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'PCS_BAD_PATH' });
    }
    expect(admin.requests).toHaveLength(0);
  });

  it('a refused target does not disturb the workers', async () => {
    for (let i = 0; i < 4; i++) expect((await rawGet(proxy.httpPort, '/admin/%C3')).status).toBe(400);
    for (let i = 0; i < 6; i++)
      expect((await http({ port: proxy.httpPort, path: '/admin' })).status).toBe(200);
    expect(proxy.output()).not.toMatch(/worker exited|TypeError/);
  });
});

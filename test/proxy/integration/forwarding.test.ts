/**
 * Forwarding through the real proxy (2 workers) to real upstreams: what the
 * upstream receives, what the client gets back, balancing, retries, timeouts
 * and the error answers.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../../contract/compiled-config.js';
import { ConfigBuilder, target } from '../../support/config-builder.js';
import { http, type HttpResult } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import {
  deadPort,
  startEcho,
  startUnacceptingServer,
  type EchoResponse,
  type EchoServer,
  type UnacceptingServer,
} from '../../support/upstreams.js';

let proxy: ProxyProcess;
let echo: EchoServer;
let echo2: EchoServer;
let weighted: EchoServer[];
let keepAlive: EchoServer;
let blackhole: UnacceptingServer;
let dead: number;
let dead2: number;

/** The config most tests run on; `nonce` changes the hash so balancers start fresh. */
function baseConfig(nonce = '', extend?: (builder: ConfigBuilder) => void): CompiledConfig {
  const builder = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .upstream('echo2', [echo2.port])
    .upstream('half-dead', [dead, echo2.port])
    .upstream('all-dead', [dead, dead2])
    .upstream('empty', [])
    .upstream('weighted', [
      target(weighted[0]!.port, 1),
      target(weighted[1]!.port, 2),
      target(weighted[2]!.port, 3),
      target(weighted[3]!.port, 0),
    ])
    .upstream('keep-alive', [keepAlive.port])
    .upstream('blackhole', [blackhole.port])
    .upstream('blackhole-then-live', [blackhole.port, echo2.port])
    .plugin('unknown-plugin', 'no-such-plugin', { anything: true })
    .route(`fwd${nonce}`, '/fwd', 'echo')
    .route('no-host', '/no-host', 'echo', { preserveHost: false })
    .route('strip', '/svc', 'echo', { stripPath: true, upstreamPath: '/api' })
    .route('slow', '/slow', 'echo', { timeouts: { connectMs: 1_000, readMs: 300, writeMs: 1_000 } })
    .route('connect-timeout', '/connect-timeout', 'blackhole', {
      timeouts: { connectMs: 300, readMs: 5_000, writeMs: 5_000 },
      retries: 0,
    })
    .route('connect-timeout-retry', '/connect-timeout-retry', 'blackhole-then-live', {
      timeouts: { connectMs: 300, readMs: 5_000, writeMs: 5_000 },
      retries: 1,
    })
    .route('half-dead', '/half-dead', 'half-dead', { retries: 2 })
    .route('all-dead', '/all-dead', 'all-dead', { retries: 3 })
    .route('empty', '/empty', 'empty')
    .route('unavailable', '/unavailable', 'echo', {
      unavailable: { code: 'PLUGIN_CONFIG_INVALID', message: 'okta: issuer missing' },
    })
    .route('plugged', '/plugged', 'echo', { plugins: ['unknown-plugin'] })
    .route('weighted', '/weighted', 'weighted')
    .route('keep-alive', '/keep-alive', 'keep-alive')
    .route('https-only', '/secure', 'echo', { protocols: ['https'] })
    .route('redirect-301', '/', 'echo', {
      host: 'r301.example.test',
      protocols: ['https'],
      httpsRedirectStatusCode: 301,
    })
    .route('redirect-308', '/', 'echo', {
      host: 'r308.example.test',
      protocols: ['https'],
      httpsRedirectStatusCode: 308,
    });
  extend?.(builder);
  return builder.build();
}

beforeAll(async () => {
  [echo, echo2, keepAlive, ...weighted] = await Promise.all([
    startEcho({ name: 'echo' }),
    startEcho({ name: 'echo2' }),
    startEcho({ name: 'keep-alive' }),
    ...['w1', 'w2', 'w3', 'w0'].map((name) => startEcho({ name })),
  ]);
  [dead, dead2] = await Promise.all([deadPort(), deadPort()]);
  blackhole = await startUnacceptingServer();
  // 127.0.0.2 is a trusted proxy; the tests' usual peer, 127.0.0.1, is not.
  proxy = await startProxy({ config: baseConfig(), trustedProxies: '127.0.0.2/32' });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all(
    [echo, echo2, keepAlive, blackhole, ...(weighted ?? [])].map((server) => server?.close()),
  );
});

beforeEach(async () => {
  await proxy.pushOk(baseConfig());
  for (const server of [echo, echo2, keepAlive, ...weighted]) server.reset();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  http({ port: proxy.httpPort, path, headers });
const seen = (res: HttpResult) => res.json<EchoResponse>();

function expectError(res: HttpResult, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toMatchObject({ error: code, message: expect.any(String) });
}

describe('what the upstream receives', () => {
  it.each(['GET', 'DELETE', 'OPTIONS', 'PATCH', 'PUT', 'POST', 'PROPFIND'])(
    'forwards %s with path and query byte for byte',
    async (method) => {
      const path =
        '/fwd/a%20b/c;v=1/%C3%A9/x.y~z/{id}|^`/"q"/...x/..y?b=2&a=%2F&flag&a=1&q=\'it\'s\'&r="<>{}"';
      const res = await http({ port: proxy.httpPort, method, path });
      expect(res.status).toBe(200);
      expect(seen(res)).toMatchObject({ upstream: 'echo', method, url: path });
    },
  );

  it('forwards a query that is not percent-decodable, and one holding dot segments, untouched', async () => {
    for (const path of ['/fwd?discount=50%', '/fwd?next=/../admin&x=%E0%A4%A', '/fwd?u=%FF%00']) {
      const res = await get(path);
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      expect(seen(res).url).toBe(path);
    }
  });

  it('forwards HEAD without a body', async () => {
    const res = await http({ port: proxy.httpPort, method: 'HEAD', path: '/fwd/head' });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(echo.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('streams a chunked request body to the upstream as it arrives', async () => {
    const parts = ['first;', 'second;', 'third;', 'fourth;'];
    async function* slowly() {
      for (const part of parts) {
        yield Buffer.from(part);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    }
    const res = await http({
      port: proxy.httpPort,
      method: 'POST',
      path: '/fwd/upload',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.from(slowly()),
    });
    expect(res.status).toBe(200);
    const received = seen(res);
    expect(received.body).toBe(parts.join(''));
    expect(received.headers['transfer-encoding']).toBe('chunked');
    expect(received.headers['content-type']).toBe('application/octet-stream');
  });

  it('forwards a 1 MiB body with its content-length intact', async () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const res = await http({
      port: proxy.httpPort,
      method: 'PUT',
      path: '/fwd/blob',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    const received = seen(res);
    expect(received.bodyLength).toBe(body.length);
    expect(received.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(received.headers['content-length']).toBe(String(body.length));
    // Not parsed and re-encoded as JSON: the bytes are not JSON at all.
    expect(received.headers['content-type']).toBe('application/json');
  });

  it('keeps the client Host with preserveHost, and sends the target host:port without it', async () => {
    const kept = seen(await get('/fwd', { host: 'Client.Example.test:8080' }));
    expect(kept.headers.host).toBe('Client.Example.test:8080');
    expect(kept.headers['x-forwarded-host']).toBe('Client.Example.test:8080');

    const replaced = seen(await get('/no-host', { host: 'client.example.test' }));
    expect(replaced.headers.host).toBe(`127.0.0.1:${echo.port}`);
    expect(replaced.headers['x-forwarded-host']).toBe('client.example.test');
  });

  it('strips the matched prefix and prepends the upstream path', async () => {
    const res = seen(await get('/svc/users/7?expand=1'));
    expect(res.url).toBe('/api/users/7?expand=1');
    expect(res.headers['x-forwarded-prefix']).toBe('/svc');
    expect(seen(await get('/svc')).url).toBe('/api');
    // A bare `/` adds nothing to the upstream path (proxy/routing/upstream-path.ts).
    expect(seen(await get('/svc/')).url).toBe('/api');
    // Prefix matching is element-wise: /svcx is not under /svc.
    expectError(await get('/svcx'), 404, 'PCS_ROUTE_NOT_FOUND');
  });
});

describe('X-Forwarded-* and identity headers', () => {
  const spoofed = {
    'x-forwarded-for': '203.0.113.9',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-port': '1',
    'x-forwarded-prefix': '/evil',
    'x-real-ip': '203.0.113.9',
    forwarded: 'for=203.0.113.9',
  };

  it('sets its own X-Forwarded-* for a plain request', async () => {
    const headers = seen(await get('/fwd', { host: 'app.example.test' })).headers;
    expect(headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example.test',
      'x-forwarded-port': String(proxy.httpPort),
      'x-real-ip': '127.0.0.1',
    });
    expect(headers['x-forwarded-prefix']).toBeUndefined();
  });

  it('says https and the https port for a TLS request', async () => {
    const res = await http({
      port: proxy.httpsPort,
      https: true,
      path: '/fwd',
      headers: { host: 'app.example.test' },
    });
    expect(seen(res).headers).toMatchObject({
      'x-forwarded-proto': 'https',
      'x-forwarded-port': String(proxy.httpsPort),
      'x-forwarded-for': '127.0.0.1',
    });
  });

  it('ignores client-sent X-Forwarded-* from an untrusted peer', async () => {
    const headers = seen(await get('/fwd', { host: 'app.example.test', ...spoofed })).headers;
    expect(headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example.test',
      'x-forwarded-port': String(proxy.httpPort),
      'x-real-ip': '127.0.0.1',
    });
    expect(headers.forwarded).toBeUndefined();
    expect(headers['x-forwarded-prefix']).toBeUndefined();
  });

  it('keeps X-Forwarded-* from a trusted peer and appends the peer to X-Forwarded-For', async () => {
    const res = await http({
      port: proxy.httpPort,
      path: '/fwd',
      localAddress: '127.0.0.2',
      headers: { host: 'app.example.test', ...spoofed, 'x-forwarded-for': '203.0.113.9, 198.51.100.1' },
    });
    expect(seen(res).headers).toMatchObject({
      'x-forwarded-for': '203.0.113.9, 198.51.100.1, 127.0.0.2',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-port': '1',
      'x-forwarded-prefix': '/evil',
      'x-real-ip': '203.0.113.9',
    });
  });

  it('removes identity headers a client tries to assert', async () => {
    const headers = seen(
      await get('/fwd', {
        'x-consumer-id': 'admin',
        'x-consumer-custom-id': 'billing',
        'x-credential-identifier': 'client-1',
        'x-authenticated-scope': 'admin:all',
        'x-authenticated-userid': 'root',
        'x-anonymous-consumer': 'false',
        'x-ordinary': 'kept',
      }),
    ).headers;
    for (const name of Object.keys(headers))
      expect(name).not.toMatch(/^x-(consumer|credential|authenticated|anonymous)-/);
    expect(headers['x-ordinary']).toBe('kept');
  });
});

describe('hop-by-hop headers', () => {
  it('strips them from the request, including the names Connection lists', async () => {
    const headers = seen(
      await get('/fwd', {
        connection: 'keep-alive, X-Secret',
        'x-secret': 'must-not-pass',
        'keep-alive': 'timeout=30',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        'proxy-connection': 'keep-alive',
        'x-end-to-end': 'kept',
      }),
    ).headers;
    for (const name of [
      'x-secret',
      'keep-alive',
      'te',
      'upgrade',
      'proxy-authorization',
      'proxy-connection',
    ]) {
      expect(headers[name], name).toBeUndefined();
    }
    expect(headers['x-end-to-end']).toBe('kept');
  });

  it('does not let Connection remove the headers the proxy sets', async () => {
    const headers = seen(
      await get('/svc/x', {
        connection:
          'X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Prefix, X-Real-IP, Host',
        host: 'app.example.test',
      }),
    ).headers;
    expect(headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example.test',
      'x-forwarded-port': String(proxy.httpPort),
      'x-forwarded-prefix': '/svc',
      'x-real-ip': '127.0.0.1',
      host: 'app.example.test',
    });
  });

  it('strips them from the response, and passes the rest of the response back', async () => {
    const res = await get(
      '/fwd/answer?hop=1&status=201&set=x-custom:abc&set=set-cookie:a=1&set=set-cookie:b=2',
    );
    expect(res.status).toBe(201);
    expect(res.headers['x-custom']).toBe('abc');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-upstream-kept']).toBe('end-to-end');
    expect(res.headers['x-upstream-secret']).toBeUndefined();
    expect(res.headers['proxy-connection']).toBeUndefined();
    expect(res.headers['keep-alive']).not.toBe('timeout=7, max=3');
    expect(seen(res).url).toBe(
      '/fwd/answer?hop=1&status=201&set=x-custom:abc&set=set-cookie:a=1&set=set-cookie:b=2',
    );
  });

  it('streams a chunked response back', async () => {
    const res = await get('/fwd/stream?chunks=5');
    expect(res.status).toBe(200);
    expect(res.text).toBe('chunk-0;chunk-1;chunk-2;chunk-3;chunk-4;');
  });
});

describe('balancing and retries', () => {
  it('spreads requests over targets by weight and never to weight 0', async () => {
    await proxy.pushOk(baseConfig('-wrr'));
    const counts: Record<string, number> = { w1: 0, w2: 0, w3: 0, w0: 0 };
    for (let i = 0; i < 60; i++) {
      const res = await get('/weighted');
      expect(res.status).toBe(200);
      counts[seen(res).upstream]! += 1;
    }
    // Smooth weighted round-robin per worker: 60 picks of weights 1:2:3 are 10:20:30,
    // give or take one per worker when the two workers split them unevenly.
    expect(Math.abs(counts.w1! - 10)).toBeLessThanOrEqual(2);
    expect(Math.abs(counts.w2! - 20)).toBeLessThanOrEqual(2);
    expect(Math.abs(counts.w3! - 30)).toBeLessThanOrEqual(2);
    expect(counts.w0).toBe(0);
    expect(weighted[3]!.requests).toHaveLength(0);
  });

  it('retries an idempotent request on the next target when the first refuses the connection', async () => {
    // A fresh balancer: the first pick on each worker is the dead target.
    await proxy.pushOk(baseConfig('-retry'));
    for (let i = 0; i < 6; i++) {
      const res = await get(`/half-dead/${i}`);
      expect(res.status, res.text).toBe(200);
      expect(seen(res).upstream).toBe('echo2');
    }
    expect(echo2.requests.map((r) => r.url)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `/half-dead/${i}`));
  });

  it.each(['POST', 'PUT'])(
    'answers 502 to a %s with a body whose target is dead; no other target gets it',
    async (method) => {
      await proxy.pushOk(baseConfig(`-no-retry-${method}`));
      const res = await http({
        port: proxy.httpPort,
        method,
        path: '/half-dead/order',
        headers: { 'content-type': 'text/plain' },
        body: 'charge the card once',
      });
      expectError(res, 502, 'PCS_UPSTREAM_CONNECT_FAILED');
      expect(echo2.requests).toHaveLength(0);
    },
  );

  it('answers 502 as JSON when every target is dead', async () => {
    expectError(await get('/all-dead'), 502, 'PCS_UPSTREAM_CONNECT_FAILED');
  });

  it('answers 504 as JSON when the upstream is slower than the route read timeout', async () => {
    const started = Date.now();
    const res = await get('/slow?delay=3000');
    expectError(res, 504, 'PCS_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(echo.requests.map((r) => r.url)).toEqual(['/slow?delay=3000']);
  });

  it('answers 504 as JSON when the connect timeout passes, long before the read timeout', async () => {
    const started = Date.now();
    expectError(await get('/connect-timeout'), 504, 'PCS_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('tries the next target after a connect timeout on an idempotent request', async () => {
    // A fresh balancer: the first pick on each worker is the target that never accepts.
    await proxy.pushOk(baseConfig('-connect-timeout'));
    const started = Date.now();
    const res = await get('/connect-timeout-retry/x');
    expect(res.status, res.text).toBe(200);
    expect(seen(res)).toMatchObject({ upstream: 'echo2', url: '/connect-timeout-retry/x' });
    // It waited for the connect timeout first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('reuses upstream connections: 50 sequential requests take a handful of connections', async () => {
    for (let i = 0; i < 50; i++) expect((await get(`/keep-alive/${i}`)).status).toBe(200);
    expect(keepAlive.requests).toHaveLength(50);
    // One pooled connection per worker is enough for sequential requests.
    expect(keepAlive.connections).toBeGreaterThanOrEqual(1);
    expect(keepAlive.connections).toBeLessThanOrEqual(4);
  });
});

describe('answers without an upstream', () => {
  it('503 when the upstream has no targets', async () => {
    expectError(await get('/empty'), 503, 'PCS_NO_UPSTREAM_TARGETS');
  });

  it('503 for a route marked unavailable, never forwarded', async () => {
    expectError(await get('/unavailable'), 503, 'PCS_ROUTE_UNAVAILABLE');
    expect(echo.requests).toHaveLength(0);
  });

  it('503 for a route naming a plugin this proxy does not run, never forwarded', async () => {
    expectError(await get('/plugged'), 503, 'PCS_ROUTE_UNAVAILABLE');
    const post = await http({ port: proxy.httpPort, method: 'POST', path: '/plugged/x', body: 'data' });
    expectError(post, 503, 'PCS_ROUTE_UNAVAILABLE');
    expect(echo.requests).toHaveLength(0);
  });

  it('404 as JSON when nothing matches', async () => {
    expectError(await get('/no-such-route', { host: 'nowhere.example.test' }), 404, 'PCS_ROUTE_NOT_FOUND');
    expect(echo.requests).toHaveLength(0);
  });

  it('sends what nothing else matches to the default backend', async () => {
    await proxy.pushOk(baseConfig('', (b) => b.defaultBackend('fallback', 'echo2')));
    const res = await get('/no-such-route', { host: 'nowhere.example.test' });
    expect(res.status).toBe(200);
    expect(seen(res)).toMatchObject({ upstream: 'echo2', url: '/no-such-route' });
    // Routes that do match still win over the default backend.
    expect(seen(await get('/fwd')).upstream).toBe('echo');
  });
});

describe('https-only routes on plain http', () => {
  it('426 as JSON without a redirect code, and served over https', async () => {
    const res = await get('/secure/page');
    expectError(res, 426, 'PCS_PROTOCOL_NOT_ALLOWED');
    expect(res.headers.location).toBeUndefined();
    expect(echo.requests).toHaveLength(0);
    const tls = await http({ port: proxy.httpsPort, https: true, path: '/secure/page' });
    expect(tls.status).toBe(200);
    expect(seen(tls).url).toBe('/secure/page');
  });

  it('redirects with the configured status and a Location on the https port', async () => {
    const moved = await get('/a/b?c=1', { host: 'R301.example.test' });
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('https://r301.example.test/a/b?c=1');

    const permanent = await http({
      port: proxy.httpPort,
      method: 'POST',
      path: '/pay/../x',
      headers: { host: 'r308.example.test:8080' },
      body: 'x',
    });
    expect(permanent.status).toBe(308);
    expect(permanent.headers.location).toBe('https://r308.example.test/x');
    expect(echo.requests).toHaveLength(0);
  });
});

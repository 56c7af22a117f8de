/**
 * Path parameters (`;x`) that a Java upstream (Tomcat, Jetty, Spring) strips
 * before resolving the path: a request must not reach, through a public
 * route, a handler that the proxy protects behind another route. Sent over
 * raw sockets, since HTTP client libraries normalise targets first.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { rawGet, rawHttp } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

let proxy: ProxyProcess;
let site: EchoServer;
let pub: EchoServer;
let payments: EchoServer;

beforeAll(async () => {
  [site, pub, payments] = await Promise.all([
    startEcho({ name: 'site' }),
    startEcho({ name: 'pub' }),
    startEcho({ name: 'payments' }),
  ]);
  const config = new ConfigBuilder()
    .upstream('site', [site.port])
    .upstream('pub', [pub.port])
    .upstream('payments', [payments.port])
    .route('site', '/', 'site')
    .route('pub', '/public', 'pub')
    .route('payments', '/payments', 'payments')
    .build();
  proxy = await startProxy({ config, workers: 1 });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([site?.close(), pub?.close(), payments?.close()]);
});

beforeEach(() => {
  for (const upstream of [site, pub, payments]) upstream.reset();
});

const received = () => site.requests.length + pub.requests.length + payments.requests.length;

describe('refused with 400 PCS_BAD_PATH, never forwarded', () => {
  it.each([
    ['a dot segment with parameters', '/public/..;/payments'],
    ['a dot segment with a named parameter', '/public/..;x=1/payments/refund'],
    ['a single dot with parameters', '/public/.;/../payments'],
    ['encoded dots with parameters', '/public/%2e%2e;/payments'],
    ['dots with an encoded semicolon', '/public/..%3B/payments'],
    ['dots with an encoded semicolon, lower case', '/public/..%3bx/payments'],
    ['parameters that move the request off the /payments route', '/payments;jsessionid=0123'],
    ['parameters that move it off /payments deeper down', '/payments;x/refund'],
    ['an encoded semicolon that would move it off /payments', '/payments%3Bx/refund'],
  ])('%s: %s', async (_what, target) => {
    const res = await rawGet(proxy.httpPort, target);
    expect(res.status, res.raw).toBe(400);
    expect(res.json()).toMatchObject({ error: 'PCS_BAD_PATH' });
    expect(received()).toBe(0);
  });

  it('the same on a WebSocket upgrade', async () => {
    const res = await rawHttp(
      proxy.httpPort,
      'GET /public/..;/payments HTTP/1.1\nHost: localhost\nConnection: Upgrade\nUpgrade: websocket\n' +
        'Sec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n',
    );
    expect(res.status, res.raw).toBe(400);
    expect(res.raw).toContain('PCS_BAD_PATH');
    expect(received()).toBe(0);
  });
});

describe('parameters that do not change the route pass untouched', () => {
  it.each([
    ['/payments/refund;jsessionid=0123', 'payments'],
    ['/payments/;v=2/refund', 'payments'],
    ['/public/page;lang=en', 'pub'],
    ['/about;lang=en', 'site'],
  ])('%s reaches %s as sent', async (target, upstream) => {
    const res = await rawGet(proxy.httpPort, target);
    expect(res.status, res.raw).toBe(200);
    expect(res.json<EchoResponse>()).toMatchObject({ upstream, url: target });
    expect(received()).toBe(1);
  });
});

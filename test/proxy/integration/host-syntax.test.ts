/**
 * A Host header that is not a valid `host[:port]` is refused with 400
 * PCS_BAD_HOST before routing, on plain requests and WebSocket upgrades.
 * Sent over raw sockets, since HTTP clients will not send such headers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { rawGet, rawHttp, type RawResult } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

const PROTECTED = 'api.example.test';

let proxy: ProxyProcess;
let api: EchoServer;
let other: EchoServer;

beforeAll(async () => {
  [api, other] = await Promise.all([startEcho({ name: 'api' }), startEcho({ name: 'other' })]);
  const config = new ConfigBuilder()
    .upstream('api', [api.port])
    .upstream('other', [other.port])
    .route('api', '/', 'api', { host: PROTECTED })
    .route('other', '/', 'other')
    .build();
  proxy = await startProxy({ config, workers: 1 });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([api?.close(), other?.close()]);
});

beforeEach(() => {
  api.reset();
  other.reset();
});

function expectBadHost(res: RawResult): void {
  expect(res.status, res.raw).toBe(400);
  expect(res.raw).toContain('PCS_BAD_HOST');
  expect(res.headers.location).toBeUndefined();
  expect(api.requests).toHaveLength(0);
  expect(other.requests).toHaveLength(0);
}

describe('refused with 400 PCS_BAD_HOST, never routed', () => {
  it.each([
    ['userinfo after an empty port', `${PROTECTED}:@evil.test`],
    ['userinfo', `${PROTECTED}@evil.test`],
    ['a slash', `${PROTECTED}/evil.test`],
    ['a fragment', `${PROTECTED}#@evil.test`],
    ['an encoded NUL', `${PROTECTED}%00`],
    ['a space', `${PROTECTED} evil.test`],
    ['a second colon', `${PROTECTED}:80:81`],
    ['a port above 65535', `${PROTECTED}:65536`],
    ['an empty port', `${PROTECTED}:`],
    ['an IPv6 zone id', '[fe80::1%25eth0]'],
  ])('%s: %j', async (_what, host) => {
    expectBadHost(await rawGet(proxy.httpPort, '/', host));
  });

  it('an empty Host on HTTP/1.1', async () => {
    expectBadHost(await rawHttp(proxy.httpPort, 'GET / HTTP/1.1\nHost:\nConnection: close\n\n'));
  });

  it('on a WebSocket upgrade', async () => {
    const res = await rawHttp(
      proxy.httpPort,
      `GET / HTTP/1.1\nHost: ${PROTECTED}:@evil.test\nConnection: Upgrade\nUpgrade: websocket\n` +
        'Sec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n',
    );
    expectBadHost(res);
  });
});

describe('valid hosts route as before', () => {
  it.each([
    [PROTECTED, 'api'],
    [`${PROTECTED.toUpperCase()}.:8000`, 'api'],
    ['[::1]:8000', 'other'],
    ['my_service.internal', 'other'],
  ])('%j reaches %s', async (host, upstream) => {
    const res = await rawGet(proxy.httpPort, '/x', host);
    expect(res.status, res.raw).toBe(200);
    expect(res.json<EchoResponse>()).toMatchObject({ upstream });
  });

  it('no Host at all (HTTP/1.0) reaches the catch-all host', async () => {
    const res = await rawHttp(proxy.httpPort, 'GET /x HTTP/1.0\n\n');
    expect(res.status, res.raw).toBe(200);
    expect(res.json<EchoResponse>()).toMatchObject({ upstream: 'other' });
  });
});

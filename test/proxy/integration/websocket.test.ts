/**
 * WebSocket upgrades pass through the proxy, over http and https, routed
 * and path-checked like any request; routes that must not be served refuse
 * the upgrade.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigBuilder } from '../../support/config-builder.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { selfSignedCertificate, startWebSocketEcho, type WebSocketEcho } from '../../support/upstreams.js';

interface Hello {
  hello: string;
  url: string;
  headers: Record<string, string>;
}

let proxy: ProxyProcess;
let wsA: WebSocketEcho;
let wsB: WebSocketEcho;
let wsSecure: WebSocketEcho;
const open: WebSocket[] = [];

beforeAll(async () => {
  const upstreamPem = await selfSignedCertificate(['localhost']);
  [wsA, wsB, wsSecure] = await Promise.all([
    startWebSocketEcho({ name: 'a' }),
    startWebSocketEcho({ name: 'b' }),
    startWebSocketEcho({ name: 'secure', tls: upstreamPem }),
  ]);
  const config = new ConfigBuilder()
    .upstream('a', [wsA.port])
    .upstream('b', [wsB.port])
    .upstream('secure', [wsSecure.port], 'https')
    .plugin('unknown', 'no-such-plugin')
    .route('ws-a', '/ws/a', 'a')
    .route('ws-b', '/ws/b', 'b', { stripPath: true, upstreamPath: '/socket', preserveHost: false })
    .route('ws-secure-upstream', '/ws/tls-upstream', 'secure')
    .route('ws-locked', '/ws/locked', 'a', { plugins: ['unknown'] })
    .route('ws-broken', '/ws/broken', 'a', { unavailable: { code: 'X', message: 'broken' } })
    .route('ws-https-only', '/ws/https-only', 'a', { protocols: ['https'] })
    .build();
  // Upgrades are handled alike in every worker; one keeps the suite quick.
  proxy = await startProxy({ config, workers: 1 });
});

afterAll(async () => {
  for (const socket of open) socket.terminate();
  await proxy?.dispose();
  await Promise.all([wsA?.close(), wsB?.close(), wsSecure?.close()]);
});

/** Opens a WebSocket and resolves with it and the upstream's hello message. */
function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ socket: WebSocket; hello: Hello }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, rejectUnauthorized: false, handshakeTimeout: 5_000 });
    open.push(socket);
    socket.once('message', (data) => resolve({ socket, hello: JSON.parse(String(data)) as Hello }));
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade answered ${res.statusCode}`)),
    );
    socket.once('error', reject);
  });
}

function roundTrip(socket: WebSocket, data: string | Buffer): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => {
    socket.once('message', (reply, binary) => resolve({ data: reply as Buffer, binary }));
    socket.send(data, { binary: Buffer.isBuffer(data) });
  });
}

/** The answer to an upgrade the proxy is expected to refuse (status and body). */
function refusedUpgrade(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: proxy.httpPort,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
      },
      timeout: 5_000,
    });
    req.on('upgrade', () => reject(new Error(`${path} was upgraded`)));
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('pass-through', () => {
  it('echoes text and binary messages over ws://', async () => {
    const { socket, hello } = await connect(`ws://127.0.0.1:${proxy.httpPort}/ws/a/chat?room=1`);
    expect(hello).toMatchObject({ hello: 'a', url: '/ws/a/chat?room=1' });
    expect(String((await roundTrip(socket, 'hello through the proxy')).data)).toBe('hello through the proxy');
    const binary = Buffer.from([0, 1, 2, 253, 254, 255]);
    const echoed = await roundTrip(socket, binary);
    expect(echoed.binary).toBe(true);
    expect(Buffer.compare(echoed.data, binary)).toBe(0);
    const large = 'x'.repeat(256 * 1024);
    expect(String((await roundTrip(socket, large)).data)).toBe(large);
    socket.close();
  });

  it('echoes over wss://, and to an upstream over TLS', async () => {
    const { socket, hello } = await connect(`wss://127.0.0.1:${proxy.httpsPort}/ws/a/secure`);
    expect(hello).toMatchObject({ hello: 'a', url: '/ws/a/secure' });
    expect(hello.headers['x-forwarded-proto']).toBe('https');
    expect(String((await roundTrip(socket, 'over tls')).data)).toBe('over tls');
    socket.close();

    const upstreamTls = await connect(`ws://127.0.0.1:${proxy.httpPort}/ws/tls-upstream`);
    expect(upstreamTls.hello).toMatchObject({ hello: 'secure', url: '/ws/tls-upstream' });
    expect(String((await roundTrip(upstreamTls.socket, 'to tls upstream')).data)).toBe('to tls upstream');
    upstreamTls.socket.close();
  });

  it('routes by path, with strip-path, upstream path and host rewriting', async () => {
    const { socket, hello } = await connect(`ws://127.0.0.1:${proxy.httpPort}/ws/b/feed?x=1`, {
      host: 'app.example.test',
    });
    expect(hello).toMatchObject({ hello: 'b', url: '/socket/feed?x=1' });
    expect(hello.headers.host).toBe(`127.0.0.1:${wsB.port}`);
    expect(hello.headers['x-forwarded-host']).toBe('app.example.test');
    expect(hello.headers['x-forwarded-prefix']).toBe('/ws/b');
    socket.close();
    expect(wsA.upgrades.some((u) => u.url.includes('feed'))).toBe(false);
  });

  it('sets its own forwarding headers and drops spoofed identity headers', async () => {
    const { socket, hello } = await connect(`ws://127.0.0.1:${proxy.httpPort}/ws/a/headers`, {
      'x-forwarded-for': '203.0.113.9',
      'x-consumer-id': 'admin',
      'x-authenticated-scope': 'all',
    });
    expect(hello.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(hello.headers['x-consumer-id']).toBeUndefined();
    expect(hello.headers['x-authenticated-scope']).toBeUndefined();
    socket.close();
  });

  it('normalises the upgrade path before routing it', async () => {
    const before = wsA.upgrades.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: proxy.httpPort,
        path: '/ws/b/../a/%2e%2e/a/normalised',
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(101);
    expect(wsA.upgrades.slice(before).map((u) => u.url)).toEqual(['/ws/a/normalised']);
  });
});

describe('refused upgrades', () => {
  it('503 for a route naming a plugin this proxy does not run; the upstream sees nothing', async () => {
    const before = wsA.upgrades.length;
    const res = await refusedUpgrade('/ws/locked/x');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'PCS_ROUTE_UNAVAILABLE' });
    await expect(connect(`ws://127.0.0.1:${proxy.httpPort}/ws/locked`)).rejects.toThrow(
      'upgrade answered 503',
    );
    expect(wsA.upgrades.length).toBe(before);
  });

  it('503 for an unavailable route, 404 for no route, 426 for an https-only route on http, 400 for a bad path', async () => {
    const before = wsA.upgrades.length + wsB.upgrades.length;
    expect((await refusedUpgrade('/ws/broken')).status).toBe(503);
    const missing = await refusedUpgrade('/nothing-here');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ error: 'PCS_ROUTE_NOT_FOUND' });
    expect((await refusedUpgrade('/ws/https-only')).status).toBe(426);
    expect((await refusedUpgrade('/ws/a%2F..%2Fb')).status).toBe(400);
    expect(wsA.upgrades.length + wsB.upgrades.length).toBe(before);
  });
});

/**
 * WebSocket upgrades on a route with openid-connect: the plugin runs on the
 * upgrade request like on any other. Without a valid token the upgrade is
 * refused with the plugin's own answer and never reaches the upstream; with
 * one, the upstream sees the identity headers on its upgrade request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startWebSocketEcho, type WebSocketEcho } from '../../support/upstreams.js';

let idp: TestIdp;
let ws: WebSocketEcho;
let proxy: ProxyProcess;

beforeAll(async () => {
  idp = await startTestIdp({ profile: 'okta' });
  ws = await startWebSocketEcho({ name: 'ws' });
  proxy = await startProxy({
    config: new ConfigBuilder()
      .upstream('ws', [ws.port])
      .plugin('test/okta', 'openid-connect', {
        issuer: idp.issuer,
        auth_methods: ['bearer'],
        consumer_claim: ['application_id'],
        consumer_by: ['custom_id'],
        // Response headers are not added to upgrade answers (docs/openid-connect.md).
        downstream_access_token_header: 'x-access-token',
      })
      .application('billing/billing', 'app-billing')
      .route('ws', '/ws', 'ws', { plugins: ['test/okta'] })
      .build(),
  });
}, 30_000);

afterAll(async () => {
  await proxy?.stop();
  await ws?.close();
  await idp?.stop();
});

/** Opens a WebSocket; resolves with the upstream's hello, or with the status of a refused upgrade. */
function open(
  headers: Record<string, string>,
): Promise<{ status: number; hello?: { headers: Record<string, string> } }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/ws/chat`, {
      headers,
      handshakeTimeout: 5_000,
    });
    socket.once('message', (data) => {
      resolve({ status: 101, hello: JSON.parse(String(data)) as { headers: Record<string, string> } });
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    socket.once('error', reject);
  });
}

describe('openid-connect on WebSocket upgrades', () => {
  it('refuses an upgrade without a token with 401, and the upstream sees nothing', async () => {
    const before = ws.upgrades.length;
    expect((await open({})).status).toBe(401);
    expect((await open({ authorization: 'Bearer not.a.jwt' })).status).toBe(401);
    expect(ws.upgrades.length).toBe(before);
  });

  it('upgrades with a valid token, and the upstream sees the identity headers', async () => {
    const token = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
    const result = await open({ authorization: `Bearer ${token.access_token}`, 'x-consumer-id': 'spoofed' });
    expect(result.status).toBe(101);
    expect(result.hello?.headers['x-consumer-custom-id']).toBe('app-billing');
    expect(result.hello?.headers['x-consumer-id']).toBe('billing/billing');
  });

  it('adds no downstream_* header to the 101 answer: only forwarded HTTP responses get them', async () => {
    const token = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/ws/chat`, {
        headers: { authorization: `Bearer ${token.access_token}` },
        handshakeTimeout: 5_000,
      });
      socket.once('upgrade', (res) => {
        resolve(res.headers);
        socket.close();
      });
      socket.once('error', reject);
    });
    expect(headers).not.toHaveProperty('x-access-token');
  });
});

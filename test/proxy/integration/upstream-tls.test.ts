/**
 * Upstream TLS verification through a real proxy process, with TLS upstreams
 * whose certificates are made here: an upstream that asks for verification
 * is never sent a request over a connection it did not verify, for plain
 * requests and WebSocket upgrades alike; one that does not ask keeps Kong's
 * default (unverified).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import {
  certificateAuthority,
  selfSignedCertificate,
  serverCertificate,
  startEcho,
  startWebSocketEcho,
  type EchoServer,
  type WebSocketEcho,
} from '../../support/upstreams.js';

const HOST = 'api.internal.test';

let proxy: ProxyProcess;
let trusted: EchoServer;
let viaIntermediate: EchoServer;
let impostor: EchoServer;
let wsImpostor: WebSocketEcho;
let wsTrusted: WebSocketEcho;
let attackerKey: string;

beforeAll(async () => {
  const root = await certificateAuthority('Internal Root');
  const intermediate = await certificateAuthority('Internal Intermediate', root);
  const [good, chained, forged] = await Promise.all([
    serverCertificate(root, [HOST], ['127.0.0.1']),
    serverCertificate(intermediate, [HOST]),
    selfSignedCertificate([HOST]),
  ]);
  attackerKey = forged.key;
  [trusted, viaIntermediate, impostor, wsImpostor, wsTrusted] = await Promise.all([
    startEcho({ name: 'trusted', tls: { cert: good.chain, key: good.key } }),
    startEcho({ name: 'chained', tls: { cert: chained.chain, key: chained.key } }),
    startEcho({ name: 'impostor', tls: forged }),
    startWebSocketEcho({ name: 'ws-impostor', tls: forged }),
    startWebSocketEcho({ name: 'ws-trusted', tls: { cert: good.chain, key: good.key } }),
  ]);
  const verify = { tlsVerify: { caCertificates: [root.cert] } };
  const config = new ConfigBuilder()
    .upstream('trusted', [trusted.port], 'https', verify)
    .upstream('impostor', [impostor.port], 'https', verify)
    .upstream('unverified-impostor', [impostor.port], 'https')
    .upstream('chained-depth-0', [viaIntermediate.port], 'https', {
      tlsVerify: { depth: 0, caCertificates: [root.cert] },
    })
    .upstream('chained-depth-1', [viaIntermediate.port], 'https', {
      tlsVerify: { depth: 1, caCertificates: [root.cert] },
    })
    .upstream('ws-impostor', [wsImpostor.port], 'https', verify)
    .upstream('ws-trusted', [wsTrusted.port], 'https', verify)
    .route('trusted', '/trusted', 'trusted', { host: HOST })
    .route('trusted-by-ip', '/by-ip', 'trusted', { host: HOST, preserveHost: false })
    .route('impostor', '/impostor', 'impostor', { host: HOST })
    .route('unverified', '/unverified', 'unverified-impostor', { host: HOST })
    .route('depth-0', '/depth-0', 'chained-depth-0', { host: HOST })
    .route('depth-1', '/depth-1', 'chained-depth-1', { host: HOST })
    .route('ws-impostor', '/ws/impostor', 'ws-impostor', { host: HOST })
    .route('ws-trusted', '/ws/trusted', 'ws-trusted', { host: HOST })
    .route('wrong-name', '/trusted', 'trusted', { host: 'other.example.test' })
    .build();
  proxy = await startProxy({ config, workers: 1 });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([trusted, viaIntermediate, impostor, wsImpostor, wsTrusted].map((s) => s?.close()));
});

const get = (path: string, host = HOST) => http({ port: proxy.httpPort, path, headers: { host } });

describe('an upstream with tlsVerify', () => {
  it('is never sent a request by an impostor with a self-signed certificate (the attack)', async () => {
    const res = await get('/impostor/secret?token=abc');
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ error: 'PCS_UPSTREAM_TLS_UNVERIFIED' });
    expect(impostor.requests).toEqual([]);
    // Logged with OpenSSL's reason, without the request's secrets or any certificate material.
    await proxy.waitForOutput('DEPTH_ZERO_SELF_SIGNED_CERT');
    const line = proxy.logLines().find((l) => l.code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(line).toMatchObject({ route: 'impostor', msg: 'upstream request failed' });
    expect(proxy.output()).not.toContain('token=abc');
    expect(proxy.output()).not.toContain('BEGIN');
    expect(proxy.output()).not.toContain(attackerKey.split('\n')[1]);
  });

  it('passes a valid chain', async () => {
    const res = await get('/trusted/x');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ upstream: 'trusted', url: '/trusted/x' });
  });

  it('checks the name sent: the client Host with preserveHost, the target IP without', async () => {
    expect((await get('/trusted/y', 'other.example.test')).status).toBe(502);
    expect((await get('/by-ip/z')).status).toBe(200);
  });

  it('refuses a chain longer than the depth and passes it within', async () => {
    const refused = await get('/depth-0/a');
    expect(refused.status).toBe(502);
    expect(refused.json()).toMatchObject({ error: 'PCS_UPSTREAM_TLS_UNVERIFIED' });
    expect(viaIntermediate.requests).toEqual([]);
    expect((await get('/depth-1/a')).status).toBe(200);
  });

  it('refuses a WebSocket upgrade to an impostor, and passes a verified one', async () => {
    const upgrade = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port: proxy.httpPort,
          path,
          headers: {
            host: HOST,
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'sec-websocket-version': '13',
          },
          timeout: 5_000,
        });
        req.on('upgrade', (_res, socket) => {
          socket.destroy();
          resolve(101);
        });
        req.on('response', (res: IncomingMessage) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end();
      });
    expect(await upgrade('/ws/impostor')).toBe(502);
    expect(wsImpostor.upgrades).toEqual([]);
    expect(await upgrade('/ws/trusted')).toBe(101);
  });
});

describe('an upstream without tlsVerify (Kong default)', () => {
  it('is reached over TLS without verification', async () => {
    const res = await get('/unverified/x');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ upstream: 'impostor' });
  });
});

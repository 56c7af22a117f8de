/**
 * TLS termination: the certificate served for each SNI name (exact, one-label
 * wildcard, default, none), verified handshakes, hot-swapped certificates,
 * and an HTTPS upstream.
 */
import { connect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../../contract/compiled-config.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import {
  selfSignedCertificate,
  startEcho,
  type EchoResponse,
  type EchoServer,
  type PemPair,
} from '../../support/upstreams.js';

type Pem = PemPair & { fingerprint256: string };

let proxy: ProxyProcess;
let echo: EchoServer;
let secureEcho: EchoServer;
let exact: Pem;
let wildcard: Pem;
let fallback: Pem;
let exactRenewed: Pem;

function config(exactPem: Pem = exact, withDefault = true): CompiledConfig {
  return new ConfigBuilder()
    .upstream('echo', [echo.port])
    .upstream('secure-echo', [secureEcho.port], 'https')
    .route('root', '/', 'echo')
    .route('to-https-upstream', '/tls-upstream', 'secure-echo')
    .certificate('a', ['a.example.test'], exactPem)
    .certificate('wild', ['*.wild.example.test'], wildcard)
    .certificate('fallback', ['default.example.test'], fallback, withDefault)
    .build();
}

beforeAll(async () => {
  [exact, wildcard, fallback, exactRenewed] = await Promise.all([
    selfSignedCertificate(['a.example.test']),
    selfSignedCertificate(['*.wild.example.test']),
    selfSignedCertificate(['default.example.test']),
    selfSignedCertificate(['a.example.test'], 'a.example.test renewed'),
  ]);
  const upstreamPem = await selfSignedCertificate(['localhost']);
  [echo, secureEcho] = await Promise.all([
    startEcho({ name: 'plain' }),
    startEcho({ name: 'secure', tls: upstreamPem }),
  ]);
  proxy = await startProxy({ config: config() });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([echo?.close(), secureEcho?.close()]);
});

/** The certificate the proxy presents for `servername` (undefined: send no SNI). */
function served(servername: string | undefined): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: proxy.httpsPort,
      // An empty servername sends no SNI extension at all.
      servername: servername ?? '',
      rejectUnauthorized: false,
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.once('error', reject);
  });
}

const sameCertificate = (served: PeerCertificate, pem: Pem) =>
  expect(served.fingerprint256).toBe(pem.fingerprint256);

describe('certificate by SNI', () => {
  it('serves the exact host certificate', async () => {
    const certificate = await served('a.example.test');
    expect(certificate.subject.CN).toBe('a.example.test');
    expect(certificate.subjectaltname).toBe('DNS:a.example.test');
    sameCertificate(certificate, exact);
  });

  it('matches SNI case-insensitively and without a trailing dot', async () => {
    sameCertificate(await served('A.Example.TEST'), exact);
    sameCertificate(await served('a.example.test.'), exact);
    sameCertificate(await served('API.Wild.Example.Test'), wildcard);
  });

  it('serves the wildcard certificate for exactly one label', async () => {
    const certificate = await served('api.wild.example.test');
    expect(certificate.subjectaltname).toBe('DNS:*.wild.example.test');
    sameCertificate(certificate, wildcard);
    // Two labels deep is not covered by the wildcard: the default answers.
    sameCertificate(await served('deep.api.wild.example.test'), fallback);
    sameCertificate(await served('wild.example.test'), fallback);
  });

  it('serves the default certificate for unknown names and when no SNI is sent', async () => {
    sameCertificate(await served('unknown.example.test'), fallback);
    const none = await served(undefined);
    expect(none.subject.CN).toBe('default.example.test');
    sameCertificate(none, fallback);
  });

  it('completes a verified handshake and request for the SNI host', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: proxy.httpsPort,
        servername: 'a.example.test',
        ca: exact.cert,
        rejectUnauthorized: true,
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('secureConnect', () =>
        socket.write('GET /verified HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n'),
      );
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () =>
        resolve({ status: Number(data.slice(9, 12)), body: data.slice(data.indexOf('\r\n\r\n') + 4) }),
      );
      socket.on('error', reject);
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body) as EchoResponse).toMatchObject({
      url: '/verified',
      headers: { 'x-forwarded-proto': 'https' },
    });
  });
});

describe('hot swap', () => {
  it('serves a renewed certificate after a push, without a restart', async () => {
    const pid = proxy.pid;
    const workers = proxy.workerPids().sort();
    sameCertificate(await served('a.example.test'), exact);

    await proxy.pushOk(config(exactRenewed));
    // Every new handshake, on every worker, now gets the renewed certificate.
    for (let i = 0; i < 4; i++) {
      const certificate = await served('a.example.test');
      expect(certificate.subject.CN).toBe('a.example.test renewed');
      sameCertificate(certificate, exactRenewed);
    }
    sameCertificate(await served('x.wild.example.test'), wildcard);
    expect(proxy.pid).toBe(pid);
    expect(proxy.workerPids().sort()).toEqual(workers);

    await proxy.pushOk(config());
    sameCertificate(await served('a.example.test'), exact);
  });

  it('falls back to the built-in certificate when the config names no default', async () => {
    await proxy.pushOk(config(exact, false));
    try {
      const none = await served(undefined);
      expect(none.subject.CN).toBe('Portcullis default certificate');
      sameCertificate(await served('a.example.test'), exact);
    } finally {
      await proxy.pushOk(config());
    }
    sameCertificate(await served(undefined), fallback);
  });
});

describe('HTTPS upstream', () => {
  it('forwards to a target over TLS', async () => {
    const res = await http({ port: proxy.httpPort, path: '/tls-upstream/x?y=1' });
    expect(res.status, res.text).toBe(200);
    expect(res.json<EchoResponse>()).toMatchObject({ upstream: 'secure', url: '/tls-upstream/x?y=1' });
    expect(secureEcho.requests).toHaveLength(1);
  });
});

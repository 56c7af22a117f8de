/**
 * Upstream TLS verification, against real TLS servers with certificates made
 * here: what a Service that sets konghq.com/tls-verify gets from the pools
 * (and from a WebSocket upgrade's https.request, which takes the same options).
 */
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamPools } from '../../../proxy/traffic/upstream-pools.js';
import {
  chainDepth,
  upstreamServerName,
  UNVERIFIED,
  upstreamTls,
  isCertificateRefusal,
} from '../../../proxy/traffic/upstream-tls.js';
import {
  certificateAuthority,
  selfSignedCertificate,
  serverCertificate,
  startEcho,
  type EchoServer,
  type IssuedCertificate,
} from '../../support/upstreams.js';
import type { DetailedPeerCertificate } from 'node:tls';

let root: IssuedCertificate;
let otherRoot: IssuedCertificate;
const servers: Record<string, EchoServer> = {};
const pools = new UpstreamPools(4);

beforeAll(async () => {
  [root, otherRoot] = await Promise.all([
    certificateAuthority('Test Root'),
    certificateAuthority('Other Root'),
  ]);
  const intermediate = await certificateAuthority('Test Intermediate', root);
  const second = await certificateAuthority('Test Intermediate 2', intermediate);
  const [direct, viaOne, viaTwo, foreign, selfSigned] = await Promise.all([
    serverCertificate(root, ['api.internal.test'], ['127.0.0.1']),
    serverCertificate(intermediate, ['api.internal.test']),
    serverCertificate(second, ['api.internal.test']),
    serverCertificate(otherRoot, ['api.internal.test']),
    selfSignedCertificate(['api.internal.test']),
  ]);
  const start = async (name: string, pem: { cert: string; key: string }) => {
    servers[name] = await startEcho({ name, tls: pem });
  };
  await Promise.all([
    start('direct', { cert: direct.chain, key: direct.key }),
    start('viaOne', { cert: viaOne.chain, key: viaOne.key }),
    start('viaTwo', { cert: viaTwo.chain, key: viaTwo.key }),
    start('foreign', { cert: foreign.chain, key: foreign.key }),
    start('selfSigned', selfSigned),
  ]);
});

afterAll(async () => {
  await pools.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

/** One GET through the pools; the status, or the error code the connection failed with. */
async function get(
  server: string,
  tls: ReturnType<typeof upstreamTls>,
  host = 'api.internal.test',
): Promise<number | string> {
  const pool = pools.pool(`https://127.0.0.1:${servers[server]!.port}`, 2_000, tls);
  try {
    const res = await pool.request({ path: '/', method: 'GET', headers: { host } });
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('an upstream that asks for verification', () => {
  it('refuses a self-signed certificate that is not in the CA bundle (the attack)', async () => {
    const code = await get('selfSigned', upstreamTls({ caCertificates: [root.cert] }));
    expect(code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(isCertificateRefusal(String(code))).toBe(true);
  });

  it('refuses a certificate from another CA', async () => {
    const code = await get('foreign', upstreamTls({ caCertificates: [root.cert] }));
    expect(isCertificateRefusal(String(code))).toBe(true);
  });

  it('refuses a certificate for another name than the Host sent', async () => {
    const code = await get('direct', upstreamTls({ caCertificates: [root.cert] }), 'evil.example.com');
    expect(code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(isCertificateRefusal(String(code))).toBe(true);
  });

  it('refuses a self-signed certificate with the default CA store', async () => {
    expect(isCertificateRefusal(String(await get('selfSigned', upstreamTls({}))))).toBe(true);
  });

  it('accepts a valid chain, direct or through intermediates', async () => {
    const tls = upstreamTls({ caCertificates: [root.cert] });
    expect(await get('direct', tls)).toBe(200);
    expect(await get('viaOne', tls)).toBe(200);
    expect(await get('viaTwo', tls)).toBe(200);
  });

  it('checks an IP address target without a Host name against its IP subjectAltName', async () => {
    expect(await get('direct', upstreamTls({ caCertificates: [root.cert] }), '127.0.0.1:1')).toBe(200);
  });

  it('trusts only its own CA certificates: a second one adds, it does not replace', async () => {
    const tls = upstreamTls({ caCertificates: [otherRoot.cert, root.cert] });
    expect(await get('foreign', tls)).toBe(200);
    expect(await get('direct', tls)).toBe(200);
  });

  it.each([
    ['direct', 0, 200],
    ['viaOne', 0, 'CERT_CHAIN_TOO_LONG'],
    ['viaOne', 1, 200],
    ['viaTwo', 1, 'CERT_CHAIN_TOO_LONG'],
    ['viaTwo', 2, 200],
  ] as const)('depth: %s with tls-verify-depth %i -> %s', async (server, depth, expected) => {
    expect(await get(server, upstreamTls({ depth, caCertificates: [root.cert] }))).toBe(expected);
  });

  it('the WebSocket path (https.request) refuses and accepts alike', async () => {
    const tls = upstreamTls({ depth: 0, caCertificates: [root.cert] });
    const once = (server: string) =>
      new Promise<number | string>((resolve) => {
        const req = httpsRequest({
          host: '127.0.0.1',
          port: servers[server]!.port,
          headers: { host: 'api.internal.test' },
          agent: false,
          ...tls.options,
          servername: upstreamServerName('api.internal.test'),
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        req.end();
      });
    expect(await once('direct')).toBe(200);
    expect(await once('selfSigned')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(await once('viaOne')).toBe('CERT_CHAIN_TOO_LONG');
  });
});

describe('an upstream that does not ask (Kong default)', () => {
  it('connects to a self-signed upstream, unverified', async () => {
    expect(await get('selfSigned', UNVERIFIED)).toBe(200);
  });

  it('never shares a pool with a verified upstream of the same origin', async () => {
    const origin = `https://127.0.0.1:${servers.selfSigned!.port}`;
    const verified = upstreamTls({ caCertificates: [root.cert] });
    expect(pools.pool(origin, 2_000, UNVERIFIED)).not.toBe(pools.pool(origin, 2_000, verified));
    expect(upstreamTls({ caCertificates: [root.cert] }).key).toBe(verified.key);
    expect(upstreamTls({ depth: 1, caCertificates: [root.cert] }).key).not.toBe(verified.key);
  });

  it('closes pools made with trust settings no config uses any more', () => {
    const local = new UpstreamPools(1);
    const origin = 'https://127.0.0.1:1';
    const old = upstreamTls({ caCertificates: [otherRoot.cert] });
    const current = upstreamTls({ caCertificates: [root.cert] });
    const stale = local.pool(origin, 2_000, old);
    const kept = local.pool(origin, 2_000, current);
    local.retain(new Set([`${origin}|${current.key}`]));
    expect(stale.closed).toBe(true);
    expect(kept.closed).toBe(false);
    expect(local.pool(origin, 2_000, current)).toBe(kept);
    return local.close();
  });
});

describe('helpers', () => {
  it.each([
    ['api.internal.test', 'api.internal.test'],
    ['api.internal.test:8443', 'api.internal.test'],
    ['10.0.0.7:8080', undefined],
    ['[::1]:8443', undefined],
    ['', undefined],
  ])('server name of Host %j is %j', (host, expected) => {
    expect(upstreamServerName(host)).toBe(expected);
  });

  it('counts the intermediates of a chain, not the leaf or the anchor', () => {
    const cert = (name: string, issuer?: object) =>
      ({ fingerprint256: name, ...(issuer ? { issuerCertificate: issuer } : {}) }) as DetailedPeerCertificate;
    const anchor = cert('root');
    (anchor as { issuerCertificate: object }).issuerCertificate = anchor;
    expect(chainDepth(anchor)).toBe(0);
    expect(chainDepth(cert('leaf', anchor))).toBe(0);
    expect(chainDepth(cert('leaf', cert('int', anchor)))).toBe(1);
    expect(chainDepth(cert('leaf', cert('int2', cert('int1', anchor))))).toBe(2);
  });
});

#!/usr/bin/env node
/**
 * A benchmark fixture, NOT an identity provider: the least an OpenID
 * Provider must serve for the `openid-connect` benchmark (bench/oidc.mjs).
 *
 * On loopback, with node:http and one RSA key made at start (jose):
 *   GET  /.well-known/openid-configuration   issuer, jwks_uri, token_endpoint,
 *                                            id_token_signing_alg_values_supported: ['RS256']
 *   GET  /jwks                               the public key (kid, alg RS256, use sig)
 *   POST /token                              client_credentials with HTTP Basic client
 *                                            authentication only; answers an RS256 JWT
 *                                            access token with `exp` in 1 h, and counts calls
 *
 * No users, no consent, no refresh tokens, no rate limits, one fixed client.
 * The harness imports `startIdp()` and runs it in its own process (it is idle
 * while wrk runs); `node bench/oidc-idp.mjs` runs it alone and prints its
 * issuer and a bearer token, for trying the configs by hand.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath, URLSearchParams } from 'node:url';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';

export const BENCH_CLIENT = { id: 'bench-client', secret: 'bench-secret-0123456789' };
const TOKEN_LIFETIME_S = 3600;

/**
 * @typedef {object} BenchIdp
 * @property {string} issuer        http://127.0.0.1:<port>
 * @property {number} port
 * @property {string} publicPem     SPKI PEM of the signing key (for HAProxy's jwt_verify)
 * @property {string} kid
 * @property {(claims?: object, opts?: { expiresInS?: number, key?: 'own' | 'foreign' }) => Promise<string>} sign
 *   an RS256 access token from this issuer (or, with key 'foreign', signed by another key under the same kid)
 * @property {() => { discovery: number, jwks: number, token: number, tokenIssued: number, tokenRefused: number, other: number }} stats
 * @property {() => Promise<void>} close
 */

/**
 * Start the fixture on 127.0.0.1 (an ephemeral port unless `port` is given).
 * @returns {Promise<BenchIdp>}
 */
export async function startIdp({ port = 0 } = {}) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', {
    modulusLength: 2048,
    extractable: true,
  });
  const foreign = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = `bench-${randomBytes(4).toString('hex')}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const publicPem = await exportSPKI(publicKey);
  const counts = { discovery: 0, jwks: 0, token: 0, tokenIssued: 0, tokenRefused: 0, other: 0 };
  let issuer = '';

  const sign = (claims = {}, { expiresInS = TOKEN_LIFETIME_S, key = 'own' } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'openid', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(claims.sub ?? 'bench-user')
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInS)
      .setJti(randomBytes(8).toString('hex'))
      .sign(key === 'foreign' ? foreign.privateKey : privateKey);
  };

  const json = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(text);
  };

  /** HTTP Basic client authentication (RFC 6749 §2.3.1: id and secret form-urlencoded first). */
  const basicClient = (header) => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    try {
      return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
    } catch {
      return undefined;
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      counts.discovery++;
      return json(res, 200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        token_endpoint: `${issuer}/token`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/jwks') {
      counts.jwks++;
      return json(res, 200, { keys: [jwk] });
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      counts.token++;
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        if (body.length < 8192) body += d;
      });
      req.on('end', async () => {
        const params = new URLSearchParams(body);
        const client = basicClient(req.headers.authorization);
        if (!client || client.id !== BENCH_CLIENT.id || client.secret !== BENCH_CLIENT.secret) {
          counts.tokenRefused++;
          res.setHeader('www-authenticate', 'Basic realm="bench-idp"');
          return json(res, 401, { error: 'invalid_client' });
        }
        if (params.get('grant_type') !== 'client_credentials') {
          counts.tokenRefused++;
          return json(res, 400, { error: 'unsupported_grant_type' });
        }
        const scope = params.get('scope') ?? 'openid';
        try {
          const accessToken = await sign({ sub: client.id, client_id: client.id, scope });
          counts.tokenIssued++;
          json(res, 200, {
            access_token: accessToken,
            token_type: 'Bearer',
            expires_in: TOKEN_LIFETIME_S,
            scope,
          });
        } catch (err) {
          json(res, 500, { error: 'server_error', error_description: String(err) });
        }
      });
      return;
    }
    counts.other++;
    json(res, 404, { error: 'not_found' });
  });
  server.keepAliveTimeout = 60_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  issuer = `http://127.0.0.1:${bound}`;
  return {
    issuer,
    port: bound,
    publicPem,
    kid,
    sign,
    stats: () => ({ ...counts }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const idp = await startIdp({ port: Number(process.argv[2] ?? 0) });
  console.log(`issuer ${idp.issuer}`);
  console.log(`client ${BENCH_CLIENT.id}:${BENCH_CLIENT.secret}`);
  console.log(`bearer ${await idp.sign()}`);
  console.log(idp.publicPem.trim());
  const stop = () => idp.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Header and SNI conditions (konghq.com/headers.*, konghq.com/snis) over real
 * HTTP and HTTPS through the proxy: a narrowed route serves only the requests
 * it names; the others fall to an open route for the same path, or get 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder, source } from '../../support/config-builder.js';
import { http, rawHttp, type HttpOptions } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { selfSignedCertificate, startEcho, type EchoServer } from '../../support/upstreams.js';

const HOST = 'api.example.test';
let proxy: ProxyProcess;
let open: EchoServer;
let tenantA: EchoServer;
let sni: EchoServer;

beforeAll(async () => {
  const [pem, otherPem] = await Promise.all([
    selfSignedCertificate([HOST]),
    selfSignedCertificate(['other.example.test']),
  ]);
  [open, tenantA, sni] = await Promise.all([
    startEcho({ name: 'open' }),
    startEcho({ name: 'tenant-a' }),
    startEcho({ name: 'sni' }),
  ]);
  const tenant = { headers: [{ name: 'x-tenant', values: ['a'] }] };
  const config = new ConfigBuilder()
    .upstream('open', [open.port])
    .upstream('tenant-a', [tenantA.port])
    .upstream('sni', [sni.port])
    // Listed before the narrowed route on purpose: the narrowed one still wins when it matches.
    .route('orders-open', '/orders', 'open', { host: HOST })
    .route('orders-a', '/orders', 'tenant-a', { host: HOST, ...tenant })
    // No open route beside these two.
    .route('only-a', '/only-a', 'tenant-a', { host: HOST, ...tenant })
    .route('only-sni', '/only-sni', 'sni', { host: HOST, snis: [HOST] })
    // Another namespace's / on the same host: never gets what a narrowed route turned away.
    .route('payments-sni', '/payments', 'sni', {
      host: HOST,
      snis: [HOST],
      source: source('Ingress', 'p', 'payments'),
    })
    .route('other-root', '/', 'open', { host: HOST, source: source('Ingress', 'o', 'other') })
    .certificate('api', [HOST], pem)
    .certificate('other', ['other.example.test'], otherPem)
    .build();
  proxy = await startProxy({ config });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([open?.close(), tenantA?.close(), sni?.close()]);
});

/** The upstream that served the request, or the status when none did. */
async function servedBy(options: Omit<HttpOptions, 'port'>): Promise<string | number> {
  const res = await http({
    port: options.https ? proxy.httpsPort : proxy.httpPort,
    ...options,
    headers: { host: HOST, ...options.headers },
  });
  return res.status === 200 ? (res.headers['x-upstream-name'] as string) : res.status;
}

describe('a route restricted to x-tenant: a, with no open route beside it', () => {
  it.each<[string, Record<string, string>]>([
    ['no header', {}],
    ['another tenant', { 'x-tenant': 'b' }],
    ['an empty value', { 'x-tenant': '' }],
    ['a list holding another tenant', { 'x-tenant': 'a, b' }],
  ])('%s: 404', async (_, headers) => {
    expect(await servedBy({ path: '/only-a/1', headers })).toBe(404);
  });

  it('the header sent twice, once with another tenant: 404', async () => {
    const res = await rawHttp(
      proxy.httpPort,
      `GET /only-a/1 HTTP/1.1\r\nHost: ${HOST}\r\nX-Tenant: a\r\nX-Tenant: b\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(404);
  });

  it('the tenant, in any case, over http and https: served', async () => {
    expect(await servedBy({ path: '/only-a/1', headers: { 'x-tenant': 'a' } })).toBe('tenant-a');
    expect(await servedBy({ path: '/only-a/1', headers: { 'x-tenant': 'A' } })).toBe('tenant-a');
    expect(
      await servedBy({ path: '/only-a/1', headers: { 'x-tenant': 'a' }, https: true, servername: HOST }),
    ).toBe('tenant-a');
  });
});

describe('a narrowed route beside an open one for the same path', () => {
  it('the matching request goes to the narrowed route', async () => {
    expect(await servedBy({ path: '/orders/1', headers: { 'x-tenant': 'a' } })).toBe('tenant-a');
  });

  it('every other request goes to the open route', async () => {
    expect(await servedBy({ path: '/orders/1', headers: { 'x-tenant': 'b' } })).toBe('open');
    expect(await servedBy({ path: '/orders/1' })).toBe('open');
  });
});

describe('a route restricted to SNI api.example.test', () => {
  it('is served over TLS with that SNI', async () => {
    expect(await servedBy({ path: '/only-sni', https: true, servername: HOST })).toBe('sni');
  });

  it('is never served over plain http', async () => {
    expect(await servedBy({ path: '/only-sni' })).toBe(404);
  });

  it('is not served for another SNI, even with the right Host header', async () => {
    expect(await servedBy({ path: '/only-sni', https: true, servername: 'other.example.test' })).toBe(404);
  });
});

describe('header names that Object.prototype also has (the attack)', () => {
  it('a config narrowing a route on header constructor or __proto__ is refused, and the host keeps serving', async () => {
    for (const name of ['constructor', '__proto__']) {
      const attack = new ConfigBuilder()
        .upstream('open', [open.port])
        .route('orders-open', '/orders', 'open', { host: HOST })
        .route('evil', '/evil', 'open', { host: HOST, headers: [{ name, values: ['a'] }] })
        .buildUnchecked();
      const pushed = await proxy.push(attack);
      expect(pushed.status).toBe(400);
    }
    expect(await servedBy({ path: '/orders/1' })).toBe('open');
    expect(await servedBy({ path: '/only-a/1', headers: { 'x-tenant': 'a' } })).toBe('tenant-a');
  });

  it.each(['constructor', '__proto__', 'toString'])(
    'a client sending a header named %s gets the usual answer, never a 500',
    async (name) => {
      const request = (path: string) =>
        rawHttp(
          proxy.httpPort,
          `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n${name}: a\r\nConnection: close\r\n\r\n`,
        );
      expect((await request('/only-a/1')).status).toBe(404);
      expect((await request('/orders/1')).status).toBe(200);
    },
  );
});

describe('a request a narrowed route turned away (the attack: fall-through to another namespace)', () => {
  it("plain http to a route with snis gets 404, not another namespace's / route", async () => {
    expect(await servedBy({ path: '/payments/1', headers: { authorization: 'Bearer secret' } })).toBe(404);
    expect(await servedBy({ path: '/payments/1', https: true, servername: HOST })).toBe('sni');
    expect(await servedBy({ path: '/elsewhere' })).toBe('open');
  });
});

/**
 * The request body limits: the largest body a route accepts
 * (`--max-request-body-size`, a route's `maxRequestBodySize`) and the
 * longest pause in a body (`--client-body-timeout`). Raw sockets, so that
 * the test controls every byte and pause and sees how the connection ends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { chunk, head, RawConnection } from '../../support/raw-socket.js';
import { deadPort, startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

let proxy: ProxyProcess;
let echo: EchoServer;
/** Answers at once and reads the body after: a response that has started while the body streams. */
let early: Server;
let earlyBodies: number;

const TIMEOUT_MS = 500;

beforeAll(async () => {
  echo = await startEcho();
  earlyBodies = 0;
  early = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started;');
    req.on('error', () => undefined);
    req.resume();
    req.on('end', () => {
      earlyBodies++;
      res.end('done');
    });
  });
  await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
  const config = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .upstream('early', [(early.address() as AddressInfo).port])
    .plugin('auth', 'openid-connect', {
      issuer: `http://127.0.0.1:${await deadPort()}/`,
      auth_methods: ['bearer'],
    })
    .plugin('form-auth', 'openid-connect', {
      issuer: `http://127.0.0.1:${await deadPort()}/`,
      auth_methods: ['client_credentials'],
      client_credentials_param_type: ['body'],
    })
    .route('limited', '/limited', 'echo')
    .route('form', '/form', 'echo', { plugins: ['form-auth'] })
    .route('auth', '/auth', 'echo', { plugins: ['auth'] })
    .route('unlimited', '/unlimited', 'echo', { maxRequestBodySize: 0 })
    .route('tiny', '/tiny', 'echo', { maxRequestBodySize: 10 })
    .route('early', '/early', 'early')
    .build();
  proxy = await startProxy({
    config,
    args: ['--max-request-body-size', '1k', '--client-body-timeout', String(TIMEOUT_MS)],
  });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
  early?.closeAllConnections();
  await new Promise<void>((resolve) => early?.close(() => resolve()));
});

beforeEach(() => {
  echo.reset();
  earlyBodies = 0;
});

function post(path: string, ...lines: string[]): string {
  return head([`POST ${path} HTTP/1.1`, 'Host: limits.test', ...lines]);
}

/** The JSON error body of the response on `conn`, once complete. */
async function errorOf(conn: RawConnection): Promise<{ status: number; code: string; connection?: string }> {
  await conn.waitFor(/\r\n\r\n[\s\S]*\}/);
  const response = conn.response()!;
  return {
    status: response.status,
    code: (JSON.parse(response.body) as { error: string }).error,
    connection: response.headers.connection as string | undefined,
  };
}

describe('--max-request-body-size', () => {
  it('answers a declared Content-Length over the limit with 413 at once, and closes', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/limited/upload', 'Content-Length: 1025'));
    expect(await errorOf(conn)).toEqual({
      status: 413,
      code: 'PCS_REQUEST_BODY_TOO_LARGE',
      connection: 'close',
    });
    expect(await conn.closesWithin(2_000)).toBe(true);
    expect(echo.requests).toHaveLength(0);
  });

  it('answers 413 before plugins run, and without a 100 Continue', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/auth/upload', 'Content-Length: 5000', 'Expect: 100-continue'));
    expect(await errorOf(conn)).toMatchObject({ status: 413, code: 'PCS_REQUEST_BODY_TOO_LARGE' });
    expect(conn.received).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('forwards a body within the limit', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/limited/upload', 'Content-Length: 1024', 'Connection: close') + 'a'.repeat(1024));
    await conn.closed;
    const response = conn.response()!;
    expect(response.status).toBe(200);
    expect((JSON.parse(response.body) as EchoResponse).bodyLength).toBe(1024);
  });

  it('counts a chunked body as it streams: past the limit, the upstream request is aborted and the client gets 413', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/limited/upload', 'Transfer-Encoding: chunked') + chunk('b'.repeat(600)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await conn.write(chunk('c'.repeat(600)));
    expect(await errorOf(conn)).toEqual({
      status: 413,
      code: 'PCS_REQUEST_BODY_TOO_LARGE',
      connection: 'close',
    });
    expect(await conn.closesWithin(2_000)).toBe(true);
    // The echo answers only a complete body: it never saw one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(echo.requests).toHaveLength(0);
  });

  it('forwards a chunked body within the limit', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(
      post('/limited/upload', 'Transfer-Encoding: chunked', 'Connection: close') +
        chunk('d'.repeat(512)) +
        chunk('e'.repeat(512)) +
        '0\r\n\r\n',
    );
    await conn.closed;
    expect(conn.response()!.status).toBe(200);
    expect(echo.requests[0]?.bodyLength).toBe(1024);
  });

  it('resets the connection when the limit is passed after the response started', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/early/upload', 'Transfer-Encoding: chunked') + chunk('f'.repeat(600)));
    await conn.waitFor(/started;/);
    await conn.write(chunk('g'.repeat(600)));
    expect(await conn.closesWithin(2_000)).toBe(true);
    expect(conn.response()!.status).toBe(200);
    expect(conn.received).not.toContain('done');
    expect(earlyBodies).toBe(0);
  });

  it("applies a route's own limit: 0 is unlimited, a smaller one is enforced", async () => {
    const big = await RawConnection.open(proxy.httpPort);
    await big.write(
      post('/unlimited/upload', 'Content-Length: 4096', 'Connection: close') + 'h'.repeat(4096),
    );
    await big.closed;
    expect(big.response()!.status).toBe(200);

    const tiny = await RawConnection.open(proxy.httpPort);
    await tiny.write(post('/tiny/upload', 'Content-Length: 11') + 'i'.repeat(11));
    expect(await errorOf(tiny)).toMatchObject({ status: 413, code: 'PCS_REQUEST_BODY_TOO_LARGE' });
  });
});

describe('--client-body-timeout', () => {
  it('answers 408 when a declared body stops arriving, and aborts the upstream request', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    const started = performance.now();
    await conn.write(post('/limited/upload', 'Content-Length: 100') + 'j'.repeat(10));
    expect(await errorOf(conn)).toEqual({
      status: 408,
      code: 'PCS_REQUEST_BODY_TIMEOUT',
      connection: 'close',
    });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(TIMEOUT_MS + 1_500);
    expect(await conn.closesWithin(2_000)).toBe(true);
    expect(echo.requests).toHaveLength(0);
  });

  it('answers 408 when a form body that a plugin reads for credentials stops arriving', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(
      post('/form/token', 'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 100') +
        'client_id=a',
    );
    expect(await errorOf(conn)).toEqual({
      status: 408,
      code: 'PCS_REQUEST_BODY_TIMEOUT',
      connection: 'close',
    });
    expect(await conn.closesWithin(2_000)).toBe(true);
    expect(proxy.output()).not.toContain('plugin failed');
  });

  it('answers 408 when a chunked body stops arriving', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/limited/upload', 'Transfer-Encoding: chunked') + chunk('k'.repeat(10)));
    expect(await errorOf(conn)).toMatchObject({ status: 408, code: 'PCS_REQUEST_BODY_TIMEOUT' });
  });

  it('bounds the pause between reads, not the whole body: a slow steady body gets through', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/limited/upload', 'Content-Length: 8', 'Connection: close'));
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 3));
      await conn.write('l');
    }
    await conn.closed;
    expect(conn.response()!.status).toBe(200);
    expect(echo.requests[0]?.body).toBe('llllllll');
  });

  it('closes the connection when the body stops after the response started', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(post('/early/upload', 'Content-Length: 100') + 'm'.repeat(10));
    await conn.waitFor(/started;/);
    expect(await conn.closesWithin(TIMEOUT_MS + 1_500)).toBe(true);
    expect(conn.received).not.toContain('done');
  });

  it('sets no timer on requests without a body: an idle keep-alive connection stays open', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(head(['GET /limited/a HTTP/1.1', 'Host: limits.test']));
    await conn.waitFor(/\r\n\r\n[\s\S]*\}/);
    expect(await conn.closesWithin(TIMEOUT_MS * 2)).toBe(false);
    await conn.write(head(['GET /limited/b HTTP/1.1', 'Host: limits.test', 'Connection: close']));
    await conn.closed;
    expect(echo.requests.map((r) => r.url)).toEqual(['/limited/a', '/limited/b']);
  });
});

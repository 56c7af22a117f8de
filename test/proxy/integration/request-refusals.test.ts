/**
 * Answers the proxy gives itself to a request with a body (plugin refusals,
 * 404, 503) never read that body: they close the connection instead of
 * letting Node drain it, and `Expect: 100-continue` gets its `100 Continue`
 * only once the request is going to be forwarded. Raw sockets, so that
 * nothing hides what was sent or when the connection closed.
 */
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { head, RawConnection } from '../../support/raw-socket.js';
import { deadPort, startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

let proxy: ProxyProcess;
let echo: EchoServer;

beforeAll(async () => {
  echo = await startEcho();
  const config = new ConfigBuilder()
    .upstream('echo', [echo.port])
    // No credentials in the request: answered 401 without calling the (absent) IdP.
    .plugin('auth', 'openid-connect', {
      issuer: `http://127.0.0.1:${await deadPort()}/`,
      auth_methods: ['bearer'],
    })
    // Looks for client credentials in a form body, so it must read the body first.
    .plugin('form-auth', 'openid-connect', {
      issuer: `http://127.0.0.1:${await deadPort()}/`,
      auth_methods: ['client_credentials'],
      client_credentials_param_type: ['body'],
    })
    .plugin('unknown', 'no-such-plugin')
    .route('auth', '/auth', 'echo', { plugins: ['auth'] })
    .route('form', '/form', 'echo', { plugins: ['form-auth'] })
    .route('locked', '/locked', 'echo', { plugins: ['unknown'] })
    .route('open', '/open', 'echo')
    .build();
  // No size limit here: these are the refusals of bodies the proxy would otherwise accept.
  proxy = await startProxy({ config, args: ['--max-request-body-size', '0'] });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
});

const HUGE = 300_000_000;
const SENT = 64 * 1024;

describe('an answer the proxy gives itself to a request with an unread body', () => {
  it.each([
    ['a plugin refusal', '/auth/upload', 401],
    ['no route', '/nowhere', 404],
    ['a route that is unavailable', '/locked/upload', 503],
  ])('closes the connection after %s instead of draining 300 MB', async (_what, path, status) => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(
      head([`POST ${path} HTTP/1.1`, 'Host: bodies.test', `Content-Length: ${HUGE}`]) + 'x'.repeat(SENT),
    );
    await conn.waitFor(/\r\n\r\n/);
    const response = conn.response()!;
    expect(response.status).toBe(status);
    expect(response.headers.connection).toBe('close');
    // Keep sending, as an attacker would: the proxy must have hung up instead of reading on.
    const more = Buffer.alloc(64 * 1024, 'y');
    const sending = (async () => {
      for (let i = 0; i < 50 && !conn.isClosed; i++) await conn.write(more);
    })();
    expect(await conn.closesWithin(2_000)).toBe(true);
    await sending;
    expect(conn.sent).toBeLessThan(HUGE / 10);
  });

  it('keeps a connection alive after answering a request without a body', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(head(['GET /nowhere HTTP/1.1', 'Host: bodies.test']));
    await conn.waitFor(/\r\n\r\n[\s\S]*\}/);
    expect(conn.response()!.status).toBe(404);
    expect(conn.response()!.headers.connection).toBe('keep-alive');
    expect(await conn.closesWithin(300)).toBe(false);
    conn.destroy();
  });
});

describe('Expect: 100-continue', () => {
  it('gets the refusal with no 100 Continue before it', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(
      head(['POST /auth/upload HTTP/1.1', 'Host: bodies.test', 'Content-Length: 10', 'Expect: 100-continue']),
    );
    await conn.waitFor(/\r\n\r\n/);
    expect(conn.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(conn.response()!.headers.connection).toBe('close');
    expect(await conn.closesWithin(2_000)).toBe(true);
  });

  it('holds back 100 Continue on the HTTPS port too', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connectTls({ port: proxy.httpsPort, host: '127.0.0.1', rejectUnauthorized: false });
      let text = '';
      socket.setEncoding('latin1');
      socket.on('secureConnect', () =>
        socket.write(
          head([
            'POST /auth/upload HTTP/1.1',
            'Host: bodies.test',
            'Content-Length: 10',
            'Expect: 100-continue',
          ]),
        ),
      );
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('gets 100 Continue when a plugin must read the body for credentials', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(
      head([
        'POST /form/token HTTP/1.1',
        'Host: bodies.test',
        'Content-Type: application/x-www-form-urlencoded',
        'Content-Length: 7',
        'Expect: 100-continue',
      ]),
    );
    await conn.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    await conn.write('scope=x');
    // No credentials in the form: refused, and the body it read was all there was.
    await conn.waitFor(/\r\n\r\nHTTP\/1\.1 401 /);
  });

  it('gets 100 Continue on a route that forwards, and the body reaches the upstream', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(
      head([
        'POST /open/upload HTTP/1.1',
        'Host: bodies.test',
        'Content-Length: 5',
        'Expect: 100-continue',
        'Connection: close',
      ]),
    );
    await conn.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    await conn.write('hello');
    await conn.closed;
    const final = conn.received.slice(conn.received.indexOf('\r\n\r\n') + 4);
    expect(final).toMatch(/^HTTP\/1\.1 200 /);
    const echoed = JSON.parse(final.slice(final.indexOf('\r\n\r\n') + 4)) as EchoResponse;
    expect(echoed.body).toBe('hello');
    // The proxy answers the expectation itself; the upstream never sees it.
    expect(echoed.headers.expect).toBeUndefined();
  });
});

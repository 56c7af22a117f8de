/**
 * The browser login builds its default redirect_uri from the Host header.
 * A Host that is not a valid `host[:port]` is refused before any plugin runs,
 * so that redirect_uri is only ever built from a validated host: the login
 * can never be sent to an authority the attacker picked. Real proxy, real
 * OpenID Provider, echo upstream; raw sockets, since HTTP clients will not
 * send such a Host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { rawHttp } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';

const HTML = 'text/html,application/xhtml+xml';

let idp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;
let authority: string;

beforeAll(async () => {
  [idp, echo] = await Promise.all([startTestIdp({ profile: 'okta' }), startEcho()]);
  proxy = await startProxy({ workers: 1 });
  authority = `127.0.0.1:${proxy.httpPort}`;
  await proxy.pushOk(
    new ConfigBuilder()
      .upstream('echo', [echo.port])
      // No redirect_uri: the plugin builds it from the request's Host.
      .plugin('test/web', 'openid-connect', {
        issuer: idp.issuer,
        client_id: [idp.gateway.clientId],
        client_secret: [idp.gateway.clientSecret!],
        auth_methods: ['authorization_code', 'session'],
        session_secret: 'host-redirect-session-secret-0123456789',
      })
      .route('web', '/', 'echo', { plugins: ['test/web'], service: 'test/echo' })
      .build(),
  );
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

function browserGet(host: string, path = '/account') {
  return rawHttp(
    proxy.httpPort,
    `GET ${path} HTTP/1.1\nHost: ${host}\nAccept: ${HTML}\nConnection: close\n\n`,
  );
}

describe('the login redirect_uri is built from a validated Host only', () => {
  it('a valid Host starts the login with its own authority (the control)', async () => {
    const res = await browserGet(authority);
    expect(res.status, res.raw).toBe(302);
    const redirectUri = new URL(new URL(String(res.headers.location)).searchParams.get('redirect_uri')!);
    expect(redirectUri.host).toBe(authority);
  });

  it.each([
    `127.0.0.1:PORT@evil.test`,
    `127.0.0.1:PORT:@evil.test`,
    `127.0.0.1:PORT/@evil.test`,
    `127.0.0.1:PORT#@evil.test`,
    `evil.test\\@127.0.0.1:PORT`,
  ])('Host %j is refused with 400 PCS_BAD_HOST and no redirect', async (pattern) => {
    const res = await browserGet(pattern.replace('PORT', String(proxy.httpPort)));
    expect(res.status, res.raw).toBe(400);
    expect(res.raw).toContain('PCS_BAD_HOST');
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.raw).not.toContain('evil.test');
    expect(echo.requests).toHaveLength(0);
  });

  it('an HTTP/1.0 request without Host gets a 401, not a login with an undefined redirect_uri', async () => {
    const res = await rawHttp(proxy.httpPort, 'GET /account HTTP/1.0\r\nAccept: text/html\r\n\r\n');
    expect(res.status, res.raw).toBe(401);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(echo.requests).toHaveLength(0);
  });
});

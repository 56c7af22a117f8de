import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../support/config-builder.js';
import { http } from '../support/http-client.js';
import { startProxy, type ProxyProcess } from '../support/proxy-process.js';
import { startEcho, type EchoServer } from '../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../idp/test-idp.js';

let idp: TestIdp;
let proxy: ProxyProcess;
let echo: EchoServer;

beforeAll(async () => {
  idp = await startTestIdp({ profile: 'okta' });
  echo = await startEcho();
  proxy = await startProxy({
    config: new ConfigBuilder()
      .upstream('echo', [echo.port])
      .plugin('test/okta', 'openid-connect', {
        issuer: idp.issuer,
        client_id: [idp.gateway.clientId],
        client_secret: [idp.gateway.clientSecret!],
        auth_methods: ['bearer', 'client_credentials', 'introspection'],
        consumer_claim: ['application_id'],
        consumer_by: ['custom_id'],
        scopes: ['api:read'],
      })
      .application('billing/billing', 'app-billing')
      .route('api', '/api', 'echo', { plugins: ['test/okta'], service: 'test/echo' })
      .build(),
  });
}, 30_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

describe('openid-connect smoke', () => {
  it('refuses without credentials', async () => {
    const res = await http({ port: proxy.httpPort, path: '/api/x' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
  });

  it('accepts a bearer JWT and maps the consumer', async () => {
    const token = await idp.clientCredentials(
      'app-billing',
      idp.clients['app-billing']!.clientSecret!,
      'api:read',
    );
    const res = await http({
      port: proxy.httpPort,
      path: '/api/x',
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(res.status, res.text).toBe(200);
    const seen = res.json<{ headers: Record<string, string> }>();
    expect(seen.headers['x-consumer-custom-id']).toBe('app-billing');
  });

  it('exchanges Basic client credentials', async () => {
    const basic = Buffer.from(`app-billing:${idp.clients['app-billing']!.clientSecret}`).toString('base64');
    const res = await http({
      port: proxy.httpPort,
      path: '/api/x',
      headers: { authorization: `Basic ${basic}` },
    });
    expect(res.status, res.text).toBe(200);
  });
});

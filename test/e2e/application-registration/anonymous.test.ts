/**
 * openid-connect's `anonymous` (Kong's fallback consumer) at the proxy, end
 * to end with application-registration: a request that fails authentication
 * (401 or 403) goes upstream as the named Application, marked by
 * `X-Anonymous-Consumer: true`, and application-registration then decides as
 * for any Application. It never opens more than that: a client cannot assert
 * the anonymous headers, a missing Application answers 503, and an identity
 * provider outage answers 503 rather than downgrading a caller to anonymous.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, type HttpResult } from '../../support/http-client.js';
import { parseMetrics, sumOf } from '../../support/metrics.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import { expectAccepted, expectRefused, probePath } from '../openid-connect/attack-support.js';

const BILLING = { id: 'app-billing', secret: 'app-billing-secret' };
const OTHER = { id: 'app-other', secret: 'app-other-secret' };
const GUEST = { id: 'public/guest', clientId: 'guest-not-an-idp-client' };

let idp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;

const basic = (c: { id: string; secret: string }) =>
  `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

const SECRET = 'anonymous-session-secret-0123456789ab';

function config(applications = true) {
  const oidc = (overrides: Record<string, unknown> = {}) => ({
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
    auth_methods: ['client_credentials', 'bearer'],
    scopes: ['api:read'],
    scopes_claim: ['scp'],
    scopes_required: ['api:read'],
    consumer_claim: ['application_id'],
    consumer_by: ['custom_id'],
    anonymous: GUEST.id,
    ...overrides,
  });
  const builder = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .application(GUEST.id, GUEST.clientId, ['payments/payments'])
    .plugin('payments/okta', 'openid-connect', oidc())
    .plugin(
      'payments/okta-session',
      'openid-connect',
      oidc({ auth_methods: ['client_credentials', 'session'], session_secret: SECRET }),
    )
    .plugin('payments/okta-missing', 'openid-connect', oidc({ anonymous: 'public/nobody' }))
    // Nothing listens on port 9: every call to this "IdP" fails.
    .plugin('payments/okta-down', 'openid-connect', oidc({ issuer: 'http://127.0.0.1:9/oauth2/default' }))
    .plugin('payments/apps', 'application-registration', { display_name: 'Payments' });
  const route = (id: string, plugin: string, service: string) =>
    builder.route(id, `/${id}`, 'echo', { plugins: [plugin, 'payments/apps'], service });
  route('payments', 'payments/okta', 'payments/payments');
  route('private', 'payments/okta', 'payments/private');
  route('missing', 'payments/okta-missing', 'payments/payments');
  route('down', 'payments/okta-down', 'payments/payments');
  route('session', 'payments/okta-session', 'payments/payments');
  if (applications)
    builder.application('billing/billing', BILLING.id, ['payments/payments', 'payments/private']);
  return builder.build();
}

beforeAll(async () => {
  [idp, echo] = await Promise.all([startTestIdp({ profile: 'okta' }), startEcho()]);
  proxy = await startProxy({ workers: 2 });
  await proxy.pushOk(config());
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

function get(path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http({ port: proxy.httpPort, path, headers });
}

const upstreamHeaders = (res: HttpResult) => res.json<{ headers: Record<string, string> }>().headers;

function expectGuest(res: HttpResult): void {
  const seen = upstreamHeaders(res);
  expect(seen['x-anonymous-consumer']).toBe('true');
  expect(seen['x-consumer-id']).toBe(GUEST.id);
  expect(seen['x-consumer-username']).toBe(GUEST.id);
  expect(seen['x-consumer-custom-id']).toBe(GUEST.clientId);
  expect(seen['x-credential-identifier']).toBeUndefined();
}

describe('a request that fails authentication goes upstream as the anonymous Application', () => {
  it.each([
    ['no credentials', {}],
    ['a wrong client secret', { authorization: basic({ ...BILLING, secret: 'wrong' }) }],
    ['a forged JWT', { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' }],
    ['a verified client with no Application (403)', { authorization: basic(OTHER) }],
  ])('%s', async (_, headers: Record<string, string>) => {
    const path = probePath('/payments');
    const res = await get(path, headers);
    expectAccepted(echo, path, res);
    expectGuest(res);
    // The credential that failed is not passed on: the plugin owns Authorization on this route.
    expect(upstreamHeaders(res).authorization).toBeUndefined();
  });

  it('an authenticated caller goes as itself, never marked anonymous', async () => {
    const path = probePath('/payments');
    const res = await get(path, { authorization: basic(BILLING) });
    expectAccepted(echo, path, res);
    const seen = upstreamHeaders(res);
    expect(seen['x-consumer-id']).toBe('billing/billing');
    expect(seen['x-anonymous-consumer']).toBeUndefined();
  });

  it('application-registration decides for it: not approved for the Service, 403', async () => {
    const path = probePath('/private');
    const res = await get(path);
    expectRefused(echo, path, res, 403);
    expect(res.json()).toEqual({ message: 'You cannot consume this service' });
    // The approved Application still gets through the same route.
    const ok = probePath('/private');
    expectAccepted(echo, ok, await get(ok, { authorization: basic(BILLING) }));
  });
});

describe('attacks', () => {
  it('a client cannot assert X-Anonymous-Consumer or X-Consumer-* itself', async () => {
    const forged = {
      'x-anonymous-consumer': 'false',
      x_anonymous_consumer: 'false',
      'x-consumer-id': 'billing/billing',
      'x-consumer-username': 'billing/billing',
      'x-consumer-custom-id': BILLING.id,
    };
    const path = probePath('/payments');
    const anonymous = await get(path, forged);
    expectAccepted(echo, path, anonymous);
    expectGuest(anonymous);

    const mine = probePath('/payments');
    const authenticated = await get(mine, {
      ...forged,
      'x-anonymous-consumer': 'true',
      authorization: basic(BILLING),
    });
    expectAccepted(echo, mine, authenticated);
    expect(upstreamHeaders(authenticated)['x-anonymous-consumer']).toBeUndefined();
    expect(upstreamHeaders(authenticated)['x-consumer-id']).toBe('billing/billing');
  });

  it('an anonymous Application that does not exist: 503, never forwarded without identity', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: basic({ ...BILLING, secret: 'wrong' }) },
    ];
    for (const headers of attempts) {
      const path = probePath('/missing');
      const res = await get(path, headers);
      expectRefused(echo, path, res, 503);
      expect(res.json()).toMatchObject({ error: 'PCS_PLUGIN_FAILED' });
    }
    // Authentication that succeeds does not need it.
    const path = probePath('/missing');
    expectAccepted(echo, path, await get(path, { authorization: basic(BILLING) }));
  });

  it('an identity provider outage is 503, not a downgrade to anonymous', async () => {
    const issued = await idp.clientCredentials(BILLING.id, BILLING.secret, 'api:read');
    for (const authorization of [basic(BILLING), `Bearer ${issued.access_token!}`]) {
      const path = probePath('/down');
      const res = await get(path, { authorization });
      expectRefused(echo, path, res, 503);
      expect(res.json()).toMatchObject({ error: 'PCS_IDP_UNAVAILABLE' });
    }
  });
});

describe('sessions', () => {
  it("a session this instance's rules now refuse is ended, and the request goes on as anonymous", async () => {
    const first = await get(probePath('/session'), { authorization: basic(BILLING) });
    expect(first.status).toBe(200);
    const cookie = [first.headers['set-cookie'] ?? []]
      .flat()
      .find((c) => c.startsWith('session='))!
      .split(';', 1)[0]!;
    expect(upstreamHeaders(first)['x-consumer-id']).toBe('billing/billing');

    // The Application is gone: the session no longer maps to one (403), so it becomes anonymous.
    await proxy.pushOk(config(false));
    try {
      const path = probePath('/session');
      const res = await get(path, { cookie });
      expectAccepted(echo, path, res);
      expectGuest(res);
      const cleared = [res.headers['set-cookie'] ?? []].flat();
      expect(
        cleared.some(
          (c) => /^session=;/.test(c) || /^session=[^;]*;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/i.test(c),
        ),
      ).toBe(true);
    } finally {
      await proxy.pushOk(config());
    }
  });
});

describe('for operators', () => {
  it('counts anonymous requests, after the reason authentication failed', async () => {
    const samples = parseMetrics(await proxy.metrics());
    const count = (outcome: string) =>
      sumOf(samples, 'portcullis_oidc_auth_decisions_total', { route: 'payments', outcome });
    expect(count('anonymous')).toBeGreaterThan(0);
    expect(count('no_credentials')).toBeGreaterThan(0);
    const registration = sumOf(samples, 'portcullis_application_registration_decisions_total', {
      route: 'private',
      application: GUEST.id,
      outcome: 'not_requested',
    });
    expect(registration).toBeGreaterThan(0);
  });
});

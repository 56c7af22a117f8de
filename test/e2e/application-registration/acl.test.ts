/**
 * application-registration at the proxy, end to end: a real proxy (two
 * workers), a real OpenID Provider (Okta-like), an echo upstream. After
 * openid-connect maps the caller to an Application, only an Application
 * approved for the route's Service gets through; every other case is
 * refused with Kong's answer and never forwarded. Revocation applies to
 * the next request after the config is pushed, whatever the caller rides
 * on: a cached token, a cached verification or a session cookie.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Application } from '../../../contract/index.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, type HttpResult } from '../../support/http-client.js';
import { parseMetrics, sumOf } from '../../support/metrics.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import { expectAccepted, expectRefused, probePath } from '../openid-connect/attack-support.js';

const SECRET = 'acl-session-secret-0123456789abcdef';
const BILLING = { id: 'app-billing', secret: 'app-billing-secret' };
const OTHER = { id: 'app-other', secret: 'app-other-secret' };
const FORBIDDEN = { message: 'You cannot consume this service' };

let idp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;

const basic = (c: { id: string; secret: string }) =>
  `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

/** The config: billing's approvals as given, everything else fixed. */
function config(approved: string[], refused: Application['refusedServices']) {
  const oidc = (overrides: Record<string, unknown> = {}) => ({
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
    auth_methods: ['client_credentials', 'bearer', 'session'],
    scopes: ['api:read'],
    scopes_claim: ['scp'],
    consumer_claim: ['application_id'],
    consumer_by: ['custom_id'],
    session_secret: SECRET,
    ...overrides,
  });
  const builder = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .application('billing/billing', BILLING.id, approved, refused)
    .plugin('payments/okta', 'openid-connect', oidc())
    .plugin('payments/okta-optional', 'openid-connect', oidc({ consumer_optional: true, timeout: 10_001 }))
    .plugin('payments/apps', 'application-registration', { display_name: 'Payments' })
    .plugin('payments/apps-consumer', 'application-registration', {
      display_name: 'Payments',
      enable_proxy_with_consumer_credential: true,
    });
  const route = (id: string, plugins: string[], service = `payments/${id}`) =>
    builder.route(id, `/${id}`, 'echo', { plugins, service });
  for (const id of ['payments', 'refunds', 'ledger', 'cards', 'shipping', 'internal'])
    route(id, ['payments/okta', 'payments/apps']);
  route('bare', ['payments/apps']);
  route('optional', ['payments/okta-optional', 'payments/apps']);
  route('consumer', ['payments/okta-optional', 'payments/apps-consumer']);
  return builder.build();
}

const BILLING_STATES: Application['refusedServices'] = {
  'payments/refunds': 'Revoked',
  'payments/ledger': 'Rejected',
  'payments/cards': 'Pending',
  'payments/shipping': 'Requested',
};

beforeAll(async () => {
  [idp, echo] = await Promise.all([startTestIdp({ profile: 'okta' }), startEcho()]);
  proxy = await startProxy({ workers: 2 });
  await proxy.pushOk(config(['payments/payments'], BILLING_STATES));
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

function get(path: string, headers: Record<string, string>): Promise<HttpResult> {
  return http({ port: proxy.httpPort, path, headers });
}

describe('client credentials via Basic (Okta-like)', () => {
  it('an approved Application gets through, named by the X-Consumer-* headers', async () => {
    const path = probePath('/payments');
    const res = await get(path, { authorization: basic(BILLING) });
    expectAccepted(echo, path, res);
    const seen = res.json<{ headers: Record<string, string> }>().headers;
    expect(seen['x-consumer-id']).toBe('billing/billing');
    expect(seen['x-consumer-custom-id']).toBe(BILLING.id);
    expect(seen['x-consumer-username']).toBe('billing/billing');
  });

  it.each([
    ['revoked', '/refunds'],
    ['rejected', '/ledger'],
    ['pending', '/cards'],
    ['asked for, not registered', '/shipping'],
    ['never asked for', '/internal'],
  ])('%s: 403 "You cannot consume this service", not forwarded', async (_, prefix) => {
    const path = probePath(prefix);
    const res = await get(path, { authorization: basic(BILLING) });
    expectRefused(echo, path, res, 403);
    expect(res.json()).toEqual(FORBIDDEN);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('a client with no Application: refused by openid-connect (403), not forwarded', async () => {
    const path = probePath('/payments');
    expectRefused(echo, path, await get(path, { authorization: basic(OTHER) }), 403);
  });
});

describe('no mapped Application', () => {
  it('no authenticating plugin before it: 401 Unauthorized', async () => {
    const path = probePath('/bare');
    const res = await get(path, { authorization: basic(BILLING) });
    expectRefused(echo, path, res, 401);
    expect(res.json()).toEqual({ message: 'Unauthorized' });
  });

  it('consumer_optional let an unmapped caller through: 401', async () => {
    const path = probePath('/optional');
    const res = await get(path, { authorization: basic(OTHER) });
    expectRefused(echo, path, res, 401);
    expect(res.json()).toEqual({ message: 'Unauthorized' });
  });

  it('enable_proxy_with_consumer_credential lets a verified, unmapped caller through', async () => {
    const path = probePath('/consumer');
    const res = await get(path, { authorization: basic(OTHER) });
    expectAccepted(echo, path, res);
    expect(res.json<{ headers: Record<string, string> }>().headers['x-consumer-id']).toBeUndefined();
  });

  it('…but never an unauthenticated one', async () => {
    const path = probePath('/consumer');
    expectRefused(echo, path, await get(path, {}), 401);
  });

  it('…and never an Application that is not approved', async () => {
    const path = probePath('/consumer');
    expectRefused(echo, path, await get(path, { authorization: basic(BILLING) }), 403);
  });
});

describe('the reasons, for operators only', () => {
  it('are counted by route, Service, Application and outcome', async () => {
    const samples = parseMetrics(await proxy.metrics());
    const count = (outcome: string, route: string) =>
      sumOf(samples, 'portcullis_application_registration_decisions_total', {
        route,
        service: `payments/${route}`,
        application: 'billing/billing',
        outcome,
      });
    expect(count('allowed', 'payments')).toBeGreaterThan(0);
    expect(count('revoked', 'refunds')).toBeGreaterThan(0);
    expect(count('rejected', 'ledger')).toBeGreaterThan(0);
    expect(count('pending', 'cards')).toBeGreaterThan(0);
    expect(count('no_registration', 'shipping')).toBeGreaterThan(0);
    expect(count('not_requested', 'internal')).toBeGreaterThan(0);
  });

  it('are logged, with names and never a credential', () => {
    const lines = proxy.logLines().filter((l) => l.msg === 'application refused');
    expect(lines.some((l) => l.reason === 'revoked' && l.application === 'billing/billing')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(BILLING.secret);
  });
});

describe('revocation is immediate', () => {
  it('a cached token, a cached verification and a session are all refused after the push', async () => {
    // Warm every cache: the exchanged token, the verified bearer token, a session cookie.
    const issued = await idp.clientCredentials(BILLING.id, BILLING.secret, 'api:read');
    const bearer = `Bearer ${issued.access_token!}`;
    const first = await get(probePath('/payments'), { authorization: bearer });
    expect(first.status).toBe(200);
    const cookie = [first.headers['set-cookie'] ?? []]
      .flat()
      .find((c) => c.startsWith('session='))!
      .split(';', 1)[0]!;
    const credentials: Record<string, string>[] = [
      { authorization: basic(BILLING) },
      { authorization: bearer },
      { cookie },
    ];
    for (const headers of credentials) {
      expect((await get(probePath('/payments'), headers)).status).toBe(200);
    }

    await proxy.pushOk(config([], { ...BILLING_STATES, 'payments/payments': 'Revoked' }));
    for (const headers of credentials) {
      const path = probePath('/payments');
      const res = await get(path, headers);
      expectRefused(echo, path, res, 403);
      expect(res.json()).toEqual(FORBIDDEN);
    }

    // Approved again: the same credentials work again at once.
    await proxy.pushOk(config(['payments/payments'], BILLING_STATES));
    expect((await get(probePath('/payments'), { cookie })).status).toBe(200);
  });
});

/**
 * Unauthenticated IdP amplification: every distinct wrong client secret and
 * every made-up opaque token is a cache miss, so without a bound each one
 * would cost a call to the IdP. The proxy runs here with small limits
 * (`--oidc-idp-*` flags); a flood must make at most the calls those limits
 * allow (per plugin instance per worker), the refused requests get
 * `503 PCS_IDP_OVERLOADED` with `Retry-After: 1` and never reach the
 * upstream, and credentials already cached keep working during the flood.
 * The login callback is bounded too: anyone can start logins and send
 * made-up codes with their state cookies.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, type HttpResult } from '../../support/http-client.js';
import { parseMetrics, sumOf } from '../../support/metrics.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import { reachedUpstream, probePath } from './attack-support.js';
import { basic, idpCalls } from './fixture.js';

const WORKERS = 2;
const LIMITS = { concurrency: 4, rate: 2, burst: 5 };
const FLOOD = 600;
/** Requests in flight at once from the attacker (the machine has two cores). */
const PARALLEL = 40;

let idp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;

beforeAll(async () => {
  [idp, echo] = await Promise.all([startTestIdp({ profile: 'okta' }), startEcho()]);
  const base = {
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
  };
  proxy = await startProxy({
    workers: WORKERS,
    args: [
      ...['--oidc-idp-max-concurrent', String(LIMITS.concurrency)],
      ...['--oidc-idp-rate', String(LIMITS.rate), '--oidc-idp-burst', String(LIMITS.burst)],
    ],
  });
  await proxy.pushOk(
    new ConfigBuilder()
      .upstream('echo', [echo.port])
      .plugin('test/cc', 'openid-connect', { ...base, auth_methods: ['client_credentials'] })
      .plugin('test/intro', 'openid-connect', {
        ...base,
        auth_methods: ['introspection'],
        bearer_token_param_type: ['header'],
      })
      .plugin('test/web', 'openid-connect', {
        ...base,
        auth_methods: ['authorization_code'],
        session_secret: 'idp-flood-session-secret-0123456789abcdef',
      })
      .route('cc', '/cc', 'echo', { plugins: ['test/cc'], service: 'test/echo' })
      .route('web', '/web', 'echo', { plugins: ['test/web'], service: 'test/echo' })
      .route('intro', '/intro', 'echo', { plugins: ['test/intro'], service: 'test/echo' })
      .build(),
  );
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

function get(path: string, authorization: string): Promise<HttpResult> {
  return http({ port: proxy.httpPort, path, headers: { authorization } });
}

/** Sends a legitimate request on fresh connections until each worker has it cached. */
async function warm(path: string, authorization: string): Promise<void> {
  for (let i = 0; i < 4 * WORKERS; i++) expect((await get(path, authorization)).status).toBe(200);
}

interface FloodResult {
  statuses: Map<number, number>;
  refused: HttpResult[];
  legit: number[];
  seconds: number;
}

/** `FLOOD` attack requests, `PARALLEL` at a time, with one legitimate request per batch. */
async function flood(
  route: string,
  attack: () => string,
  legitimate: string,
): Promise<{ result: FloodResult; calls: ReturnType<TestIdp['requestCounts']> }> {
  return idpCalls(idp, async () => {
    const started = performance.now();
    const statuses = new Map<number, number>();
    const refused: HttpResult[] = [];
    const legit: number[] = [];
    for (let sent = 0; sent < FLOOD; sent += PARALLEL) {
      const batch = Array.from({ length: Math.min(PARALLEL, FLOOD - sent) }, async () => {
        const path = probePath(`/${route}`);
        const res = await get(path, attack());
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 503) refused.push(res);
        expect(reachedUpstream(echo, path), 'an attack request reached the upstream').toBe(false);
      });
      const [answer] = await Promise.all([get(`/${route}/legit`, legitimate), ...batch]);
      legit.push(answer.status);
    }
    return { statuses, refused, legit, seconds: (performance.now() - started) / 1000 };
  });
}

/** The most new IdP calls the limits allow in `seconds`, over every worker. */
const allowed = (seconds: number) => WORKERS * (LIMITS.burst + Math.ceil(seconds * LIMITS.rate));

function expectOverloaded(refused: HttpResult[]): void {
  expect(refused.length, 'no request was refused').toBeGreaterThan(0);
  for (const res of refused) {
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({
      error: 'PCS_IDP_OVERLOADED',
      message: 'too many identity provider calls are in progress for this route; retry shortly',
    });
  }
}

async function refusedMetric(route: string): Promise<number> {
  return sumOf(parseMetrics(await proxy.metrics()), 'portcullis_oidc_idp_calls_refused_total', {
    route,
    plugin: `test/${route}`,
  });
}

describe('IdP call limits', () => {
  it('a flood of distinct wrong client secrets makes at most the allowed token calls', async () => {
    const legitimate = basic('app-billing', 'app-billing-secret');
    await warm('/cc/legit', legitimate);
    const { result, calls } = await flood(
      'cc',
      () => basic('app-billing', randomBytes(12).toString('hex')),
      legitimate,
    );
    expect(calls.token, `${calls.token} token calls in ${result.seconds} s`).toBeLessThanOrEqual(
      allowed(result.seconds),
    );
    expect(calls.token).toBeGreaterThan(0);
    expect(
      [...result.statuses.keys()].every((s) => s === 401 || s === 503),
      JSON.stringify([...result.statuses]),
    ).toBe(true);
    expectOverloaded(result.refused);
    // The cached token of a legitimate client never needed the IdP.
    expect(
      result.legit.every((s) => s === 200),
      JSON.stringify(result.legit),
    ).toBe(true);
    expect(await refusedMetric('cc')).toBe(result.refused.length);
  });

  it('a flood of random opaque tokens makes at most the allowed introspection calls', async () => {
    const opaque = await idp.clientCredentials('app-opaque', idp.clients['app-opaque']!.clientSecret!);
    expect(opaque.access_token!.split('.')).toHaveLength(1);
    const legitimate = `Bearer ${opaque.access_token!}`;
    await warm('/intro/legit', legitimate);
    const { result, calls } = await flood(
      'intro',
      () => `Bearer ${randomBytes(24).toString('base64url')}`,
      legitimate,
    );
    expect(calls.introspection, `${calls.introspection} calls in ${result.seconds} s`).toBeLessThanOrEqual(
      allowed(result.seconds),
    );
    expect(calls.introspection).toBeGreaterThan(0);
    expect(
      [...result.statuses.keys()].every((s) => s === 401 || s === 503),
      JSON.stringify([...result.statuses]),
    ).toBe(true);
    expectOverloaded(result.refused);
    expect(
      result.legit.every((s) => s === 200),
      JSON.stringify(result.legit),
    ).toBe(true);
    expect(await refusedMetric('intro')).toBe(result.refused.length);
  });

  it('a flood of made-up codes at the login callback makes at most the allowed token calls', async () => {
    // Starting a login costs the IdP nothing; each one gives a state and its cookie. With `iss`
    // (RFC 9207) the callback passes the local checks, so each made-up code would cost a token call.
    const logins = await Promise.all(
      Array.from({ length: 120 }, async () => {
        const res = await http({ port: proxy.httpPort, path: '/web/app', headers: { accept: 'text/html' } });
        expect(res.status).toBe(302);
        const state = new URL(String(res.headers.location)).searchParams.get('state')!;
        const cookie = String([res.headers['set-cookie']].flat()[0]).split(';')[0]!;
        return { state, cookie };
      }),
    );
    const { result, calls } = await idpCalls(idp, async () => {
      const started = performance.now();
      const answers = await Promise.all(
        logins.map(({ state, cookie }) =>
          http({
            port: proxy.httpPort,
            path: `/web/app?code=${randomBytes(16).toString('hex')}&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
            headers: { accept: 'text/html', cookie },
          }),
        ),
      );
      return { answers, seconds: (performance.now() - started) / 1000 };
    });
    expect(calls.token, `${calls.token} token calls in ${result.seconds} s`).toBeLessThanOrEqual(
      allowed(result.seconds),
    );
    expect(calls.token).toBeGreaterThan(0);
    const statuses = result.answers.map((r) => r.status);
    expect(
      statuses.every((s) => s === 401 || s === 503),
      JSON.stringify(statuses),
    ).toBe(true);
    expectOverloaded(result.answers.filter((r) => r.status === 503));
    expect(echo.requests.some((r) => r.url.startsWith('/web'))).toBe(false);
  });
});

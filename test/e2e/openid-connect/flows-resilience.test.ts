/**
 * openid-connect end to end while the IdP changes under live traffic: a
 * signing key rotation, and outages (503 answers, refused connections,
 * hanging requests). Cached keys and tokens keep serving; what needs the
 * IdP and cannot have it is a 503 with a JSON error, never a 401.
 */
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/http-client.js';
import { sumOf } from '../../support/metrics.js';
import {
  basic,
  bearer,
  call,
  idpCalls,
  metrics,
  oidc,
  startFixture,
  upstreamSaw,
  type Fixture,
  type Scenario,
  type TestIdp,
} from './fixture.js';

let fx: Fixture;
let idp: TestIdp;
const BILLING = basic('app-billing', 'app-billing-secret');
let scenarios: Scenario[];

beforeAll(async () => {
  fx = await startFixture({ okta: { profile: 'okta' } });
  idp = fx.idps.okta!;
  const api = (overrides: Record<string, unknown>) =>
    oidc(idp, {
      scopes: ['api:read'],
      scopes_claim: ['scp'],
      consumer_claim: ['application_id'],
      consumer_by: ['custom_id'],
      ...overrides,
    });
  scenarios = [
    { id: 'rot', plugin: api({ auth_methods: ['bearer'], rediscovery_lifetime: 1, timeout: 9_001 }) },
    { id: 'downjwt', plugin: api({ auth_methods: ['bearer'], timeout: 9_002 }) },
    { id: 'downcc', plugin: api({ auth_methods: ['client_credentials'], timeout: 9_002 }) },
  ];
  await fx.push(scenarios);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

async function token(): Promise<string> {
  const res = await idp.clientCredentials('app-billing', 'app-billing-secret', 'api:read');
  expect(res.status, JSON.stringify(res)).toBe(200);
  return res.access_token!;
}

async function statuses(path: string, authorization: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(fx, path, { headers: { authorization } })).status);
  return out;
}

describe('signing key rotation under traffic', () => {
  it('serves old-key and new-key tokens with no error, after at most one JWKS refetch per worker', async () => {
    const oldToken = await token();
    expect(await statuses('/rot/x', bearer(oldToken), 4)).toEqual([200, 200, 200, 200]);
    // Let rediscovery_lifetime (1 s) pass since the keys were fetched.
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    let current = oldToken;
    let running = true;
    const seen: number[] = [];
    const loop = async () => {
      while (running)
        seen.push((await call(fx, '/rot/x', { headers: { authorization: bearer(current) } })).status);
    };
    const loops = [loop(), loop()];
    try {
      await new Promise((resolve) => setTimeout(resolve, 150));
      const fresh = await idp.rotateKeys({ keepOld: true });
      const newToken = await token();
      expect(decodeProtectedHeader(newToken).kid).toBe(fresh.kid);
      expect(decodeProtectedHeader(newToken).kid).not.toBe(decodeProtectedHeader(oldToken).kid);
      const { result, calls } = await idpCalls(idp, async () => {
        const answers = await statuses('/rot/x', bearer(newToken), 6);
        current = newToken;
        await new Promise((resolve) => setTimeout(resolve, 200));
        current = oldToken;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return answers;
      });
      expect(result).toEqual(Array(6).fill(200));
      expect(calls.jwks).toBeGreaterThanOrEqual(1);
      expect(calls.jwks).toBeLessThanOrEqual(2);
    } finally {
      running = false;
      await Promise.all(loops);
    }
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((s) => s !== 200)).toEqual([]);
  });
});

describe('IdP outage', () => {
  it('keeps serving JWTs and cached client-credentials tokens, and answers 503 for what needs the IdP', async () => {
    const jwt = bearer(await token());
    // Both workers fetch keys and cache the client-credentials token (connections go round robin).
    expect(await statuses('/downjwt/x', jwt, 6)).toEqual(Array(6).fill(200));
    expect(await statuses('/downcc/x', BILLING, 6)).toEqual(Array(6).fill(200));

    await idp.setDown(true, 'http-503');
    try {
      const { calls } = await idpCalls(idp, async () => {
        expect(await statuses('/downjwt/x', jwt, 6)).toEqual(Array(6).fill(200));
        expect(await statuses('/downcc/x', BILLING, 6)).toEqual(Array(6).fill(200));
      });
      expect(calls.token + calls.jwks + calls.discovery).toBe(0);
      const cached = upstreamSaw(await call(fx, '/downcc/x', { headers: { authorization: BILLING } }));
      expect(cached.headers['x-consumer-custom-id']).toBe('app-billing');

      // Credentials never exchanged need the token endpoint: 503, not 401.
      const uncached = await call(fx, '/downcc/x', {
        headers: { authorization: basic('app-billing', 'other') },
      });
      expect(uncached.status).toBe(503);
      expect(uncached.json()).toMatchObject({ error: 'PCS_IDP_UNAVAILABLE' });

      // A config swap keeps the fetched keys; a new issuer setting (timeout) has none and cannot get them.
      await fx.push([
        ...scenarios,
        {
          id: 'fresh',
          plugin: oidc(idp, { auth_methods: ['bearer', 'client_credentials'], timeout: 9_003 }),
        },
      ]);
      expect(await statuses('/downjwt/x', jwt, 4)).toEqual(Array(4).fill(200));
      for (const authorization of [jwt, BILLING]) {
        const res = await call(fx, '/fresh/x', { headers: { authorization } });
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.headers['retry-after']).toBeDefined();
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(res.json()).toMatchObject({ error: 'PCS_IDP_UNAVAILABLE', message: expect.any(String) });
      }

      // Connections refused: the same.
      await idp.setDown(true, 'refuse');
      expect(await statuses('/downjwt/x', jwt, 4)).toEqual(Array(4).fill(200));
      await new Promise((resolve) => setTimeout(resolve, 2_100)); // past the providers' failure back-off
      expect((await call(fx, '/fresh/x', { headers: { authorization: jwt } })).status).toBe(503);
    } finally {
      await idp.setDown(false);
    }
    // Back up: the new instance recovers on its own (after its short failure back-off).
    await eventually(
      async () =>
        (await call(fx, '/fresh/x', { headers: { authorization: jwt } })).status === 200 ? true : undefined,
      '/fresh to recover',
      10_000,
      200,
    );
  });

  it('a hanging IdP is cut off by the timeout and answered with 503', async () => {
    await fx.push([
      ...scenarios,
      { id: 'hang', plugin: oidc(idp, { auth_methods: ['bearer'], timeout: 400 }) },
    ]);
    const jwt = bearer(await token());
    await idp.setDown(true, 'hang');
    try {
      const started = performance.now();
      const res = await call(fx, '/hang/x', { headers: { authorization: jwt } });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'PCS_IDP_UNAVAILABLE' });
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      await idp.setDown(false);
    }
    const samples = await metrics(fx);
    const failed = ['error', 'unreachable', 'timeout'].map((outcome) =>
      sumOf(samples, 'portcullis_oidc_idp_requests_total', { issuer: idp.issuer, outcome }),
    );
    expect(failed[0], 'error').toBeGreaterThan(0);
    expect(failed[1], 'unreachable').toBeGreaterThan(0);
    expect(failed[2], 'timeout').toBeGreaterThan(0);
    expect(
      sumOf(samples, 'portcullis_oidc_auth_decisions_total', { route: 'fresh', outcome: 'idp_unavailable' }),
    ).toBeGreaterThan(0);
  });
});

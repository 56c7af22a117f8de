/**
 * openid-connect end to end, the `userinfo` and `refresh_token` auth
 * methods: attacks first (tokens the IdP refuses, an IdP that is down, a
 * refresh token of another client or one already revoked), the
 * `*_user_info_header` fields, then Kong's own examples (user-info-auth.yaml,
 * refresh-token.yaml) with the test IdP's issuer and client, through a real
 * proxy to the echo upstream.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  bearer,
  call,
  cookieFrom,
  idpCalls,
  oidc,
  postForm,
  SESSION_SECRET,
  setCookies,
  startFixture,
  upstreamSaw,
  upstreamToken,
  type Fixture,
  type TestIdp,
} from './fixture.js';
import { CALLBACK, gatewayRefreshToken, login, PROFILE_APP, revoke, userinfoToken } from './idp-login.js';

let fx: Fixture;
let idp: TestIdp;
/** The IdP that is taken down; its own so the others keep answering. */
let downIdp: TestIdp;
/** Taken down by the session test only: a worker that saw `downIdp` fail retries discovery later. */
let sessionIdp: TestIdp;
/** A Kong example's config block, with the test IdP's issuer and the proxy's client put in. */
function kongExample(file: string, target: TestIdp): Record<string, unknown> {
  const path = join(import.meta.dirname, '../../fixtures/kong-compat/openid-connect', file);
  const plugin = parseAllDocuments(readFileSync(path, 'utf8'))[0]!.toJS() as {
    config: Record<string, unknown>;
  };
  return {
    ...plugin.config,
    issuer: target.issuer,
    client_id: [target.gateway.clientId],
    client_secret: [target.gateway.clientSecret!],
  };
}

beforeAll(async () => {
  const clients = [PROFILE_APP];
  fx = await startFixture({
    okta: { profile: 'okta', clients, redirectUris: [CALLBACK] },
    down: { profile: 'okta', clients, redirectUris: [CALLBACK] },
    session: { profile: 'okta', clients, redirectUris: [CALLBACK] },
  });
  idp = fx.idps.okta!;
  downIdp = fx.idps.down!;
  sessionIdp = fx.idps.session!;
  const userinfo = (overrides: Record<string, unknown> = {}) =>
    oidc(idp, { auth_methods: ['userinfo'], ...overrides });
  const refresh = (overrides: Record<string, unknown> = {}) =>
    oidc(idp, {
      auth_methods: ['refresh_token'],
      refresh_token_param_name: 'refresh_token',
      upstream_refresh_token_header: 'refresh_token',
      ...overrides,
    });
  await fx.push([
    { id: 'userinfo', plugin: kongExample('user-info-auth.yaml', idp) },
    { id: 'uinocache', plugin: userinfo({ cache_user_info: false }) },
    { id: 'uirules', plugin: userinfo({ groups_required: ['admins'], timeout: 10_001 }) },
    { id: 'uidown', plugin: oidc(downIdp, { auth_methods: ['userinfo'], cache_user_info: false }) },
    { id: 'refresh', plugin: kongExample('refresh-token.yaml', idp) },
    { id: 'rtquery', plugin: refresh({ refresh_token_param_type: ['query', 'body'], timeout: 10_002 }) },
    {
      id: 'rtdown',
      plugin: oidc(downIdp, { auth_methods: ['refresh_token'], refresh_token_param_name: 'refresh_token' }),
    },
    {
      id: 'uihead',
      plugin: userinfo({
        cache_user_info: false,
        upstream_user_info_header: 'x-userinfo',
        downstream_user_info_header: 'x-userinfo',
        timeout: 10_003,
      }),
    },
    {
      id: 'uiintro',
      plugin: oidc(idp, {
        auth_methods: ['introspection'],
        cache_user_info: false,
        upstream_user_info_header: 'x-userinfo',
        timeout: 10_004,
      }),
    },
    { id: 'uinohead', plugin: oidc(idp, { auth_methods: ['introspection'], timeout: 10_005 }) },
    {
      id: 'uibearer',
      plugin: oidc(idp, { auth_methods: ['bearer'], upstream_user_info_header: 'x-userinfo' }),
    },
    // A session started by userinfo, whose answers carry no `exp`: it must not outlive the next check.
    {
      id: 'uisessionttl',
      plugin: userinfo({
        auth_methods: ['userinfo', 'session'],
        session_secret: SESSION_SECRET,
        cache_ttl: 2,
      }),
    },
    {
      id: 'uisession',
      plugin: oidc(sessionIdp, {
        auth_methods: ['userinfo', 'session'],
        session_secret: SESSION_SECRET,
        cache_user_info: false,
        upstream_user_info_header: 'x-userinfo',
      }),
    },
  ]);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

describe('userinfo: attacks', () => {
  it('refuses a made-up opaque token with 401, after asking the IdP', async () => {
    const { result, calls } = await idpCalls(idp, () =>
      call(fx, '/userinfo', { headers: { authorization: bearer(randomBytes(32).toString('base64url')) } }),
    );
    expect(result.status).toBe(401);
    expect(result.headers['www-authenticate']).toContain('invalid_token');
    expect(calls.userinfo).toBe(1);
  });

  it('refuses a forged JWT with 401: userinfo, not the token, says who it is', async () => {
    const forged = idp.signJwt(
      { ...idp.accessTokenClaims('gateway', 'alice'), exp: Math.floor(Date.now() / 1000) + 300 },
      { key: randomBytes(32), header: { alg: 'HS256' } },
    );
    const res = await call(fx, '/userinfo', { headers: { authorization: bearer(forged) } });
    expect(res.status).toBe(401);
  });

  it('refuses a token the IdP revoked, when userinfo is not cached', async () => {
    const token = await userinfoToken(idp);
    expect((await call(fx, '/uinocache', { headers: { authorization: bearer(token) } })).status).toBe(200);
    await revoke(idp, token, 'access_token');
    expect((await call(fx, '/uinocache', { headers: { authorization: bearer(token) } })).status).toBe(401);
  });

  it("does not take another instance's cached answer when its own caching is off", async () => {
    const token = await userinfoToken(idp);
    // The example's instance caches the answer; uinocache shares its IdP (and cache) but caches nothing.
    for (let i = 0; i < 4; i++) {
      expect((await call(fx, '/userinfo', { headers: { authorization: bearer(token) } })).status).toBe(200);
    }
    await revoke(idp, token, 'access_token');
    expect((await call(fx, '/uinocache', { headers: { authorization: bearer(token) } })).status).toBe(401);
  });

  it('refuses a token sent where the example does not look for it (the query)', async () => {
    const token = await userinfoToken(idp);
    const res = await call(fx, `/userinfo?access_token=${token}`);
    expect(res.status).toBe(401);
  });

  it('ends a session it started by cache_ttl, so a revoked token does not live on in it', async () => {
    const token = await userinfoToken(idp);
    const first = await call(fx, '/uisessionttl', { headers: { authorization: bearer(token) } });
    expect(first.status).toBe(200);
    const session = cookieFrom(first, 'session');
    expect(session).toBeDefined();
    const line = setCookies(first).find((c) => c.startsWith('session='))!;
    const maxAge = Number(/max-age=(\d+)/i.exec(line)?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(0);
    expect(maxAge).toBeLessThanOrEqual(2);
    await revoke(idp, token, 'access_token');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const later = await call(fx, '/uisessionttl', { headers: { cookie: session! } });
    expect(later.status).toBe(401);
    // The token itself is judged again, and refused.
    expect((await call(fx, '/uisessionttl', { headers: { authorization: bearer(token) } })).status).toBe(401);
  });

  it('applies the claim rules to the userinfo answer (alice is no member of admins)', async () => {
    const token = await userinfoToken(idp);
    const res = await call(fx, '/uirules', { headers: { authorization: bearer(token) } });
    expect(res.status).toBe(403);
  });

  it('answers 503, never 200, when the IdP is down or failing', async () => {
    const token = await userinfoToken(downIdp);
    expect((await call(fx, '/uidown', { headers: { authorization: bearer(token) } })).status).toBe(200);
    try {
      for (const mode of ['http-503', 'refuse'] as const) {
        await downIdp.setDown(true, mode);
        const res = await call(fx, '/uidown', { headers: { authorization: bearer(token) } });
        expect(res.status, mode).toBe(503);
        expect(res.json<{ error: string }>().error).toBe('PCS_IDP_UNAVAILABLE');
        await downIdp.setDown(false);
      }
    } finally {
      await downIdp.setDown(false);
    }
  });
});

describe('refresh_token: attacks', () => {
  it("refuses another client's refresh token: the IdP exchanges it for its own client only", async () => {
    const tokens = await login(idp, PROFILE_APP, 'openid offline_access');
    expect(tokens.refresh_token).toBeDefined();
    const res = await call(fx, '/refresh', { headers: { 'refresh-token': tokens.refresh_token! } });
    expect(res.status).toBe(401);
  });

  it('refuses a made-up refresh token with 401', async () => {
    const res = await call(fx, '/refresh', {
      headers: { 'refresh-token': randomBytes(32).toString('base64url') },
    });
    expect(res.status).toBe(401);
  });

  it('never answers from a cache: each use is exchanged, and a revoked one is refused at once', async () => {
    const token = await gatewayRefreshToken(idp);
    for (let i = 0; i < 2; i++) {
      const { result, calls } = await idpCalls(idp, () =>
        call(fx, '/refresh', { headers: { 'refresh-token': token } }),
      );
      expect(result.status).toBe(200);
      expect(calls.token).toBe(1);
    }
    await revoke(idp, token, 'refresh_token');
    expect((await call(fx, '/refresh', { headers: { 'refresh-token': token } })).status).toBe(401);
  });

  it('never joins concurrent uses of one refresh token: the IdP sees each', async () => {
    const token = await gatewayRefreshToken(idp);
    const { result, calls } = await idpCalls(idp, () =>
      Promise.all(
        Array.from({ length: 4 }, () => call(fx, '/refresh', { headers: { 'refresh-token': token } })),
      ),
    );
    expect(result.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(calls.token).toBe(4);
  });

  it('owns the upstream refresh token header: a client cannot set it', async () => {
    const token = await gatewayRefreshToken(idp);
    const seen = upstreamSaw(
      await call(fx, '/refresh', { headers: { 'refresh-token': token, refresh_token: 'forged' } }),
    );
    expect(seen.headers['refresh_token']).not.toBe('forged');
    expect(seen.rawHeaders.filter((h) => h.toLowerCase() === 'refresh_token')).toHaveLength(1);
  });

  it('answers 503, never 200, when the token endpoint is down', async () => {
    const token = await gatewayRefreshToken(downIdp);
    // The userinfo outage above may have left the proxy in its 2 s back-off for this IdP: wait it out.
    let up = await call(fx, '/rtdown', { headers: { 'refresh-token': token } });
    for (let i = 0; i < 20 && up.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      up = await call(fx, '/rtdown', { headers: { 'refresh-token': token } });
    }
    expect(up.status, up.text).toBe(200);
    try {
      await downIdp.setDown(true, 'http-503');
      const res = await call(fx, '/rtdown', { headers: { 'refresh-token': token } });
      expect(res.status).toBe(503);
    } finally {
      await downIdp.setDown(false);
    }
  });

  it('refuses a request carrying two refresh tokens', async () => {
    const res = await call(fx, '/rtquery?refresh_token=a&refresh_token=b');
    expect(res.status).toBe(400);
  });
});

const fromBase64 = (value: unknown) =>
  JSON.parse(Buffer.from(String(value), 'base64').toString('utf8')) as unknown;

/** The IdP's own userinfo answer for `token`, asked directly. */
async function userinfoAnswer(target: TestIdp, token: string): Promise<unknown> {
  const { userinfo_endpoint } = (await (await fetch(target.discoveryUrl)).json()) as {
    userinfo_endpoint: string;
  };
  const res = await fetch(userinfo_endpoint, { headers: { authorization: bearer(token) } });
  expect(res.status).toBe(200);
  return res.json();
}

describe('upstream_user_info_header and downstream_user_info_header', () => {
  it('a client cannot send its own userinfo header upstream', async () => {
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', groups: ['admins'] })).toString('base64');
    const token = await userinfoToken(idp);
    const res = await call(fx, '/uihead', {
      headers: { authorization: bearer(token), 'x-userinfo': forged },
    });
    expect(upstreamSaw(res).headers['x-userinfo']).not.toBe(forged);
    // A token userinfo refuses (a client's own, with no user) leaves the header out, not the client's.
    const cc = await idp.clientCredentials('app-billing', 'app-billing-secret', 'api:read');
    const plain = await call(fx, '/uibearer', {
      headers: { authorization: bearer(cc.access_token), 'x-userinfo': forged },
    });
    expect(plain.status).toBe(200);
    expect(upstreamSaw(plain).headers).not.toHaveProperty('x-userinfo');
  });

  it('sends the answer up and down as base64 JSON, with no second userinfo call after the userinfo method', async () => {
    const token = await userinfoToken(idp);
    const expected = await userinfoAnswer(idp, token);
    const { result: res, calls } = await idpCalls(idp, () =>
      call(fx, '/uihead', { headers: { authorization: bearer(token) } }),
    );
    expect(calls.userinfo).toBe(1);
    expect(fromBase64(upstreamSaw(res).headers['x-userinfo'])).toEqual(expected);
    expect(fromBase64(res.headers['x-userinfo'])).toEqual(expected);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('asks userinfo for an introspected token when, and only when, the header is configured', async () => {
    const token = await userinfoToken(idp);
    const expected = await userinfoAnswer(idp, token);
    const asked = await idpCalls(idp, () =>
      call(fx, '/uiintro', { headers: { authorization: bearer(token) } }),
    );
    expect(asked.calls).toMatchObject({ introspection: 1, userinfo: 1 });
    expect(fromBase64(upstreamSaw(asked.result).headers['x-userinfo'])).toEqual(expected);
    const plain = await idpCalls(idp, () =>
      call(fx, '/uinohead', { headers: { authorization: bearer(token) } }),
    );
    expect(upstreamSaw(plain.result).headers).not.toHaveProperty('x-userinfo');
    expect(plain.calls.userinfo).toBe(0);
  });

  it("a session request asks with the session's access token; with the IdP down it goes on without the header", async () => {
    const token = await userinfoToken(sessionIdp);
    const expected = await userinfoAnswer(sessionIdp, token);
    const first = await call(fx, '/uisession', { headers: { authorization: bearer(token) } });
    const session = cookieFrom(first, 'session');
    expect(session).toBeDefined();
    const again = await idpCalls(sessionIdp, () => call(fx, '/uisession', { headers: { cookie: session! } }));
    expect(again.calls.userinfo).toBe(1);
    expect(fromBase64(upstreamSaw(again.result).headers['x-userinfo'])).toEqual(expected);
    try {
      await sessionIdp.setDown(true, 'http-503');
      const res = await call(fx, '/uisession', { headers: { cookie: session! } });
      expect(res.status).toBe(200);
      expect(upstreamSaw(res).headers).not.toHaveProperty('x-userinfo');
    } finally {
      await sessionIdp.setDown(false);
    }
  });
});

describe("Kong's user-info-auth example", () => {
  it('lets in an opaque token the userinfo endpoint accepts, and caches the answer', async () => {
    const token = await userinfoToken(idp);
    const auth = { authorization: bearer(token) };
    const seen = upstreamSaw(await call(fx, '/userinfo', { headers: auth }));
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    expect(seen.headers['x-credential-identifier']).toBe(idp.users.alice!.sub);
    const warm = await idpCalls(idp, async () => {
      for (let i = 0; i < 4; i++) expect((await call(fx, '/userinfo', { headers: auth })).status).toBe(200);
    });
    // One per worker at most (the cache is per worker process).
    expect(warm.calls.userinfo).toBeLessThanOrEqual(1);
    const later = await idpCalls(idp, async () => {
      for (let i = 0; i < 6; i++) expect((await call(fx, '/userinfo', { headers: auth })).status).toBe(200);
    });
    expect(later.calls.userinfo).toBe(0);
    expect(fx.proxy.output()).not.toContain(token);
  });
});

describe("Kong's refresh-token example", () => {
  it('exchanges the Refresh-Token header, sends the new access token and the refresh token upstream', async () => {
    const token = await gatewayRefreshToken(idp);
    const seen = upstreamSaw(await call(fx, '/refresh', { headers: { 'refresh-token': token } }));
    const authorization = String(seen.headers.authorization);
    expect(authorization).toMatch(/^Bearer ey/);
    expect(seen.headers['refresh_token']).toBeDefined();
    // hide_credentials (default true): the client's own header does not reach the upstream.
    expect(seen.headers['refresh-token']).toBeUndefined();
    expect(seen.headers['x-credential-identifier']).toBe(upstreamToken(seen).sub);
    expect(fx.proxy.output()).not.toContain(token);
  });

  it('takes the refresh token in the query or a form body where configured, with a Bearer prefix in a header dropped', async () => {
    const token = await gatewayRefreshToken(idp);
    const seen = upstreamSaw(await call(fx, `/rtquery?refresh_token=${token}&keep=1`));
    expect(seen.url).not.toContain(token);
    expect(seen.url).toContain('keep=1');
    const prefixed = await call(fx, '/refresh', { headers: { 'refresh-token': `Bearer ${token}` } });
    expect(prefixed.status).toBe(200);
    const form = upstreamSaw(await postForm(fx, '/rtquery', { refresh_token: token, keep: '1' }));
    expect(form.body).toBe('keep=1');
  });
});

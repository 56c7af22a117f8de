/**
 * openid-connect end to end, browser flows: authorization code with PKCE
 * driven at HTTP level and by a real headless Chromium, session cookies
 * (reuse, isolation between plugin instances, disable_session) and logout.
 */
import { existsSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { CHROMIUM, launchChromium } from '../../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EchoResponse } from '../../support/upstreams.js';
import {
  SESSION_SECRET,
  basic,
  call,
  cookieFrom,
  idpCalls,
  oidc,
  setCookies,
  startFixture,
  upstreamSaw,
  upstreamToken,
  type Fixture,
  type TestIdp,
} from './fixture.js';

const AFTER_LOGOUT = 'http://127.0.0.1/after-logout';
const HTML = { accept: 'text/html,application/xhtml+xml' };
const BILLING = basic('app-billing', 'app-billing-secret');

let fx: Fixture;
let idp: TestIdp;

beforeAll(async () => {
  fx = await startFixture({ okta: { profile: 'okta', postLogoutRedirectUris: [AFTER_LOGOUT] } });
  idp = fx.idps.okta!;
  const { origin } = fx;
  idp.setRedirectUris('gateway', [
    `${origin}/app/cb`,
    `${origin}/dflt/page`,
    `${origin}/web/cb`,
    `${origin}/rvk/cb`,
  ]);
  const login = (overrides: Record<string, unknown>) =>
    oidc(idp, {
      auth_methods: ['authorization_code', 'session'],
      scopes: ['openid', 'profile', 'email'],
      scopes_claim: ['scp'],
      session_secret: SESSION_SECRET,
      ...overrides,
    });
  const sessions = (overrides: Record<string, unknown>) =>
    oidc(idp, {
      auth_methods: ['client_credentials', 'session'],
      scopes: ['api:read'],
      scopes_claim: ['scp'],
      consumer_claim: ['application_id'],
      consumer_by: ['custom_id'],
      session_secret: SESSION_SECRET,
      ...overrides,
    });
  await fx.push([
    {
      id: 'app',
      plugin: login({
        redirect_uri: [`${origin}/app/cb`],
        consumer_claim: ['application_id'],
        consumer_by: ['custom_id'],
        upstream_id_token_header: 'x-id-token',
        logout_uri_suffix: '/logout',
        logout_methods: ['POST'],
      }),
    },
    // No redirect_uri (the request URL) and no session_secret (the proxy's own, shared by its workers).
    { id: 'dflt', plugin: withoutSecret(login({ auth_methods: ['authorization_code'] })) },
    { id: 'web', plugin: login({ redirect_uri: [`${origin}/web/cb`], preserve_query_args: true }) },
    { id: 'aud', plugin: login({ audience: ['https://api.example.test'] }) },
    {
      id: 'rvk',
      plugin: login({
        redirect_uri: [`${origin}/rvk/cb`],
        logout_uri_suffix: '/logout',
        logout_methods: ['POST'],
        logout_revoke: true,
      }),
    },
    {
      id: 'sess',
      plugin: sessions({ logout_uri_suffix: '/logout', logout_redirect_uri: [AFTER_LOGOUT] }),
    },
    // Same secret and cookie name, another client id.
    { id: 'sessother', plugin: sessions({ client_id: ['app-other'], client_secret: ['app-other-secret'] }) },
    // Same secret, cookie name and client, another issuer (the same IdP, spelled with a trailing slash).
    { id: 'sessiss', plugin: sessions({ issuer: `${idp.issuer}/` }) },
    { id: 'nosess', plugin: sessions({ disable_session: ['client_credentials'] }) },
  ]);
}, 60_000);

function withoutSecret(config: Record<string, unknown>): Record<string, unknown> {
  const { session_secret: _secret, ...rest } = config;
  return rest;
}

afterAll(async () => {
  await fx?.stop();
});

/** Logs alice in at HTTP level on `path`; returns the session cookie pair and the redirect it ended with. */
async function httpLogin(path: string, user = { username: 'alice', password: 'alice-password' }) {
  const start = await call(fx, path, { headers: HTML });
  expect(start.status, start.text).toBe(302);
  const location = new URL(String(start.headers.location));
  const authorization = cookieFrom(start, 'authorization');
  expect(authorization).toBeDefined();
  const { callbackUrl } = await idp.completeLogin(location, user);
  const callback = new URL(callbackUrl);
  expect(callback.origin).toBe(fx.origin);
  const done = await call(fx, callback.pathname + callback.search, {
    headers: { ...HTML, cookie: authorization! },
  });
  expect(done.status, done.text).toBe(302);
  const session = cookieFrom(done, 'session');
  expect(session).toBeDefined();
  return { start, location, callback, done, session: session! };
}

describe('authorization code + PKCE at HTTP level', () => {
  it('redirects a browser to the IdP with PKCE S256, state and nonce, and an authorization cookie', async () => {
    const res = await call(fx, '/app/page?x=1', { headers: HTML });
    expect(res.status).toBe(302);
    expect(res.headers['x-upstream-name']).toBeUndefined();
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe(`${idp.issuer}/v1/authorize`);
    const q = location.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('gateway');
    expect(q.get('redirect_uri')).toBe(`${fx.origin}/app/cb`);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('scope')).toBe('openid profile email');
    const cookie = setCookies(res).find((c) => c.startsWith('authorization='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it('audience (Kong, for Auth0) goes to the authorization endpoint; none is sent without it', async () => {
    const res = await call(fx, '/aud/page', { headers: HTML });
    expect(res.status).toBe(302);
    expect(new URL(String(res.headers.location)).searchParams.get('audience')).toBe(
      'https://api.example.test',
    );
    const plain = await call(fx, '/app/page', { headers: HTML });
    expect(new URL(String(plain.headers.location)).searchParams.has('audience')).toBe(false);
  });

  it('API clients (no text/html) get a 401, not a redirect', async () => {
    const res = await call(fx, '/app/page', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(401);
    expect(res.headers.location).toBeUndefined();
  });

  it('logs in, returns to the original path with a session, and the session reaches the upstream as tokens', async () => {
    const { done, session } = await httpLogin('/app/page?x=1');
    // Without preserve_query_args the query stays behind, as in Kong.
    expect(done.headers.location).toBe('/app/page');
    // The login state is cleared.
    expect(setCookies(done).some((c) => /^authorization=;.*Max-Age=0/.test(c))).toBe(true);
    for (let i = 0; i < 4; i++) {
      const res = await call(fx, '/app/page?x=1', { headers: { cookie: `${session}; theme=dark` } });
      const seen = upstreamSaw(res);
      expect(seen.url).toBe('/app/page?x=1');
      expect(upstreamToken(seen)).toMatchObject({ iss: idp.issuer, sub: 'alice@example.test' });
      expect(seen.headers).toMatchObject({
        'x-credential-identifier': 'alice@example.test',
        'x-consumer-custom-id': 'gateway',
        'x-consumer-id': 'web/gateway',
        'x-authenticated-scope': 'openid profile email',
      });
      expect(decodeJwt(String(seen.headers['x-id-token']))).toMatchObject({
        aud: 'gateway',
        nonce: expect.any(String),
      });
      // The proxy's session cookie is the proxy's: the upstream only gets the application's own cookies.
      expect(seen.headers.cookie).toBe('theme=dark');
    }
  });

  it('uses the request URL as redirect_uri by default, and the proxy-wide secret works on every worker', async () => {
    const { location, callback, done, session } = await httpLogin('/dflt/page');
    expect(location.searchParams.get('redirect_uri')).toBe(`${fx.origin}/dflt/page`);
    expect(callback.pathname).toBe('/dflt/page');
    expect(done.headers.location).toBe('/dflt/page');
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => call(fx, '/dflt/page', { headers: { cookie: session } })),
    );
    for (const res of answers) {
      const seen = upstreamSaw(res);
      expect(seen.headers['x-credential-identifier']).toBe('alice@example.test');
      expect(seen.headers.cookie).toBeUndefined();
    }
  });

  it('refuses a callback whose state does not match the authorization cookie', async () => {
    const first = await call(fx, '/app/one', { headers: HTML });
    const second = await call(fx, '/app/two', { headers: HTML });
    const { callbackUrl } = await idp.completeLogin(String(first.headers.location), {
      username: 'alice',
      password: 'alice-password',
    });
    const callback = new URL(callbackUrl);
    // The browser's cookie now belongs to the second login.
    const res = await call(fx, callback.pathname + callback.search, {
      headers: { ...HTML, cookie: cookieFrom(second, 'authorization')! },
    });
    expect(res.status).toBe(401);
    expect(cookieFrom(res, 'session')).toBeUndefined();
  });
});

describe.skipIf(!existsSync(CHROMIUM))('authorization code in a real headless Chromium', () => {
  it('logs in through the IdP form, lands on the upstream, and the next navigation uses the session', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const target = `${fx.origin}/web/page?from=browser`;
      await page.goto(target);
      expect(page.url().startsWith(idp.origin)).toBe(true);
      await page.fill('input[name=login]', 'alice');
      await page.fill('input[name=password]', 'alice-password');
      await Promise.all([page.waitForURL(target), page.click('button[type=submit]')]);
      const echo = JSON.parse(await page.locator('body').innerText()) as EchoResponse;
      expect(echo.url).toBe('/web/page?from=browser');
      expect(echo.headers['x-credential-identifier']).toBe('alice@example.test');
      expect(upstreamToken(echo).sub).toBe('alice@example.test');
      // (The IdP's own `_session` cookies come along: same host, and cookies ignore ports.)
      expect(String(echo.headers.cookie ?? '')).not.toMatch(/(^|; )(session|authorization)=/);

      const { calls } = await idpCalls(idp, async () => {
        await page.goto(`${fx.origin}/web/second`);
      });
      expect(page.url()).toBe(`${fx.origin}/web/second`);
      const second = JSON.parse(await page.locator('body').innerText()) as EchoResponse;
      expect(second.headers['x-credential-identifier']).toBe('alice@example.test');
      expect(calls.authorization + calls.token + calls.interaction).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
if (!existsSync(CHROMIUM))
  console.warn(`[flows-browser] ${CHROMIUM} not found: the Chromium login test is skipped`);

describe('sessions', () => {
  it('a client-credentials success starts a session the cookie alone can use', async () => {
    const first = await call(fx, '/sess/x', { headers: { authorization: BILLING } });
    expect(first.status, first.text).toBe(200);
    const session = cookieFrom(first, 'session');
    expect(session).toBeDefined();
    const token = String(upstreamSaw(first).headers.authorization);
    const { result, calls } = await idpCalls(idp, () =>
      Promise.all(Array.from({ length: 4 }, () => call(fx, '/sess/y', { headers: { cookie: session! } }))),
    );
    for (const res of result) {
      const seen = upstreamSaw(res);
      expect(seen.headers).toMatchObject({ 'x-consumer-custom-id': 'app-billing', authorization: token });
      expect(seen.headers.cookie).toBeUndefined();
    }
    expect(calls.token).toBe(0);
  });

  it("another plugin instance (other client_id or issuer) does not accept this instance's session", async () => {
    const first = await call(fx, '/sess/x', { headers: { authorization: BILLING } });
    const session = cookieFrom(first, 'session')!;
    for (const path of ['/sessother/x', '/sessiss/x']) {
      const res = await call(fx, path, { headers: { cookie: session } });
      expect(res.status, path).toBe(401);
      expect(res.headers['x-upstream-name']).toBeUndefined();
    }
    // The instances themselves work.
    expect((await call(fx, '/sessiss/x', { headers: { authorization: BILLING } })).status).toBe(200);
  });

  it('disable_session: client credentials succeed without a session cookie', async () => {
    const res = await call(fx, '/nosess/x', { headers: { authorization: BILLING } });
    expect(upstreamSaw(res).headers['x-consumer-custom-id']).toBe('app-billing');
    expect(setCookies(res)).toEqual([]);
  });
});

describe('logout', () => {
  it('POST clears the session and redirects to the end_session_endpoint with id_token_hint', async () => {
    const { session } = await httpLogin('/app/page');
    const seen = upstreamSaw(await call(fx, '/app/page', { headers: { cookie: session } }));
    const idToken = String(seen.headers['x-id-token']);
    // GET is not a logout method here: it is an ordinary request.
    const get = await call(fx, '/app/logout', { headers: { cookie: session } });
    expect(upstreamSaw(get).url).toBe('/app/logout');

    const res = await call(fx, '/app/logout', { method: 'POST', headers: { cookie: session } });
    expect(res.status).toBe(302);
    expect(res.headers['x-upstream-name']).toBeUndefined();
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe(`${idp.issuer}/v1/logout`);
    expect(location.searchParams.get('id_token_hint')).toBe(idToken);
    const cleared = setCookies(res).find((c) => c.startsWith('session='));
    expect(cleared).toMatch(/^session=;/);
    expect(cleared).toMatch(/Max-Age=0/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    // The IdP accepts the logout request the proxy built.
    const endSession = await fetch(location, { redirect: 'manual' });
    expect(endSession.status).toBeLessThan(400);
  });

  it("logout_revoke sends the session's access token to the revocation endpoint (RFC 7009); without it, nothing", async () => {
    // The test IdP issues JWT access tokens, which oidc-provider cannot revoke or introspect, so what is
    // checked is the request the proxy makes; the logout goes on whatever the IdP answers.
    const revocations = () => idp.requestCounts().revocation;
    const revoked = await httpLogin('/rvk/page');
    const before = revocations();
    const out = await call(fx, '/rvk/logout', { method: 'POST', headers: { cookie: revoked.session } });
    expect(out.status).toBe(302);
    expect(setCookies(out).some((c) => /^session=;.*Max-Age=0/.test(c))).toBe(true);
    expect(revocations()).toBe(before + 1);
    const kept = await httpLogin('/app/page');
    await call(fx, '/app/logout', { method: 'POST', headers: { cookie: kept.session } });
    expect(revocations()).toBe(before + 1);
  });

  it('without an ID token, redirects to the end_session_endpoint with post_logout_redirect_uri only', async () => {
    const session = cookieFrom(
      await call(fx, '/sess/x', { headers: { authorization: BILLING } }),
      'session',
    )!;
    const res = await call(fx, '/sess/logout', { method: 'POST', headers: { cookie: session } });
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe(`${idp.issuer}/v1/logout`);
    expect(location.searchParams.get('id_token_hint')).toBeNull();
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(AFTER_LOGOUT);
    expect(setCookies(res).some((c) => /^session=;.*Max-Age=0/.test(c))).toBe(true);
  });
});

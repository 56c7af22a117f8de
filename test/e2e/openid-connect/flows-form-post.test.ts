/**
 * openid-connect end to end, `response_mode: form_post` and
 * `preserve_query_args` (Kong's authorization-code example): the IdP
 * returns the code in a cross-site POST to the redirect URI. Attacks on
 * that POST first (it is answered by the proxy, never forwarded), then the
 * login at HTTP level, then Kong's example in a real headless Chromium on
 * another site than the IdP's, which only works because the login's cookie
 * is SameSite=None.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, launchChromium } from '../../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { HttpResult } from '../../support/http-client.js';
import type { EchoResponse } from '../../support/upstreams.js';
import {
  SESSION_SECRET,
  call,
  cookieFrom,
  oidc,
  postForm,
  setCookies,
  startFixture,
  upstreamSaw,
  upstreamToken,
  type Fixture,
  type TestIdp,
} from './fixture.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };
const EXAMPLE = join(
  import.meta.dirname,
  '../../fixtures/kong-compat/openid-connect/authorization-code.yaml',
);

let fx: Fixture;
let idp: TestIdp;
/** The proxy as a browser on another site than the IdP's (127.0.0.1) reaches it. */
let localhost: string;

beforeAll(async () => {
  fx = await startFixture({ okta: { profile: 'okta' } });
  idp = fx.idps.okta!;
  const { origin } = fx;
  localhost = `http://localhost:${fx.port}`;
  idp.setRedirectUris('gateway', [
    `${origin}/fp/cb`,
    `${origin}/fpq/cb`,
    `${origin}/qry/cb`,
    `${origin}/kex/page`,
    `${localhost}/kex/page`,
  ]);
  const login = (overrides: Record<string, unknown>) =>
    oidc(idp, {
      auth_methods: ['authorization_code', 'session'],
      scopes: ['openid', 'profile', 'email'],
      scopes_claim: ['scp'],
      session_secret: SESSION_SECRET,
      ...overrides,
    });
  // Kong's example as a user writes it, with the test IdP and client put in.
  const example = (parse(readFileSync(EXAMPLE, 'utf8')) as { config: Record<string, unknown> }).config;
  await fx.push([
    {
      id: 'fp',
      plugin: login({
        redirect_uri: [`${origin}/fp/cb`],
        response_mode: 'form_post',
        preserve_query_args: true,
      }),
    },
    { id: 'fpq', plugin: login({ redirect_uri: [`${origin}/fpq/cb`], response_mode: 'form_post' }) },
    { id: 'qry', plugin: login({ redirect_uri: [`${origin}/qry/cb`] }) },
    // The test IdP's client authenticates with client_secret_basic.
    { id: 'kex', plugin: { ...example, ...oidc(idp), client_auth: ['client_secret_basic'] } },
  ]);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

const alice = { username: 'alice', password: 'alice-password' };

/** Starts a login on `path`; the IdP's form_post response (action and fields) and the login's cookie. */
async function formPostLogin(path: string) {
  const start = await call(fx, path, { headers: HTML });
  expect(start.status, start.text).toBe(302);
  const cookie = cookieFrom(start, 'authorization')!;
  expect(cookie).toBeDefined();
  const { callbackUrl, form } = await idp.completeLogin(String(start.headers.location), alice);
  expect(form, 'the IdP answered with a form_post page').toBeDefined();
  return { start, cookie, callback: new URL(callbackUrl), form: Object.fromEntries(form!) };
}

/** Nothing reached the upstream for `path`, and no session was started. */
function expectAnsweredByProxy(res: HttpResult, path: string, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['x-upstream-name']).toBeUndefined();
  expect(fx.echo.requests.some((r) => r.url.startsWith(path))).toBe(false);
  expect(cookieFrom(res, 'session')).toBeUndefined();
}

describe('attacks on the form_post callback', () => {
  it('a forged POST to the redirect URI without the login cookie is refused, not forwarded', async () => {
    const res = await postForm(fx, '/fp/cb', { code: 'forged-code', state: 'forged-state' }, HTML);
    expectAnsweredByProxy(res, '/fp/cb', 401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it("a real code POSTed without the victim's login cookie (login CSRF, a stolen code) is refused", async () => {
    const { form } = await formPostLogin('/fp/page');
    const res = await postForm(fx, '/fp/cb', form, HTML);
    expectAnsweredByProxy(res, '/fp/cb', 401);
  });

  it("a response whose state is not the cookie's (another login's) is refused", async () => {
    const first = await formPostLogin('/fp/one');
    const second = await call(fx, '/fp/two', { headers: HTML });
    const res = await postForm(fx, '/fp/cb', first.form, {
      ...HTML,
      cookie: cookieFrom(second, 'authorization')!,
    });
    expectAnsweredByProxy(res, '/fp/cb', 401);
    // The failed login's cookie is cleared.
    expect(setCookies(res).some((c) => /^authorization=;.*Max-Age=0/.test(c))).toBe(true);
  });

  it("the attacker's code POSTed with the victim's state and cookie (the cookie is sent cross-site) is refused: PKCE and nonce bind the code", async () => {
    const victim = await call(fx, '/fp/victim', { headers: HTML });
    const victimState = new URL(String(victim.headers.location)).searchParams.get('state')!;
    const attacker = await formPostLogin('/fp/attacker');
    const res = await postForm(
      fx,
      '/fp/cb',
      { ...attacker.form, state: victimState },
      { ...HTML, cookie: cookieFrom(victim, 'authorization')! },
    );
    expectAnsweredByProxy(res, '/fp/cb', 401);
  });

  it('a replayed callback (same code, same cookie) is refused: the IdP redeems a code once', async () => {
    const { cookie, form } = await formPostLogin('/fp/page');
    const first = await postForm(fx, '/fp/cb', form, { ...HTML, cookie });
    expect(first.status, first.text).toBe(302);
    expect(cookieFrom(first, 'session')).toBeDefined();
    const replay = await postForm(fx, '/fp/cb', form, { ...HTML, cookie });
    expectAnsweredByProxy(replay, '/fp/cb', 401);
  });

  it('a form_post instance takes no code from a URL (no downgrade to the query)', async () => {
    const { cookie, form } = await formPostLogin('/fp/page');
    const res = await call(fx, `/fp/cb?${new URLSearchParams(form)}`, { headers: { ...HTML, cookie } });
    // An ordinary unauthenticated browser request: sent to log in again, with no session.
    expect(res.status).toBe(302);
    expect(String(res.headers.location).startsWith(idp.issuer)).toBe(true);
    expect(cookieFrom(res, 'session')).toBeUndefined();
  });

  it('a query-mode instance takes no code from a POST body', async () => {
    const start = await call(fx, '/qry/page', { headers: HTML });
    const { callbackUrl } = await idp.completeLogin(String(start.headers.location), alice);
    const response = Object.fromEntries(new URL(callbackUrl).searchParams);
    const res = await postForm(fx, '/qry/cb', response, {
      ...HTML,
      cookie: cookieFrom(start, 'authorization')!,
    });
    expectAnsweredByProxy(res, '/qry/cb', 401);
  });

  it('a callback body over the form limit is not read: refused like any unauthenticated POST', async () => {
    const res = await call(fx, '/fp/cb', {
      method: 'POST',
      headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
      body: `state=s&code=c&pad=${'a'.repeat(70 * 1024)}`,
    });
    expect(res.headers['x-upstream-name']).toBeUndefined();
    expect(res.status).toBe(401);
  });
});

describe('form_post login at HTTP level', () => {
  it('asks for form_post, with a SameSite=None; Secure login cookie (a cross-site POST carries no Lax cookie)', async () => {
    const res = await call(fx, '/fp/page', { headers: HTML });
    const location = new URL(String(res.headers.location));
    expect(location.searchParams.get('response_mode')).toBe('form_post');
    const cookie = setCookies(res).find((c) => c.startsWith('authorization='));
    expect(cookie).toMatch(/; Secure; HttpOnly; SameSite=None$/);
    // Query mode keeps the Lax cookie and sends no response_mode.
    const plain = await call(fx, '/qry/page', { headers: HTML });
    expect(new URL(String(plain.headers.location)).searchParams.has('response_mode')).toBe(false);
    expect(setCookies(plain).find((c) => c.startsWith('authorization='))).toMatch(/SameSite=Lax$/);
  });

  it('logs in from the POST, returns with the query (preserve_query_args), and the session works', async () => {
    const { cookie, callback, form } = await formPostLogin('/fp/page?x=1&y=two');
    expect(callback.href).toBe(`${fx.origin}/fp/cb`);
    expect(Object.keys(form).sort()).toEqual(['code', 'iss', 'state']);
    const done = await postForm(fx, '/fp/cb', form, { ...HTML, cookie });
    expect(done.status, done.text).toBe(302);
    expect(done.headers['x-upstream-name']).toBeUndefined();
    expect(done.headers.location).toBe('/fp/page?x=1&y=two');
    expect(setCookies(done).some((c) => /^authorization=;.*Max-Age=0/.test(c))).toBe(true);
    const session = cookieFrom(done, 'session')!;
    const seen = upstreamSaw(await call(fx, '/fp/page?x=1&y=two', { headers: { cookie: session } }));
    expect(seen.url).toBe('/fp/page?x=1&y=two');
    expect(upstreamToken(seen)).toMatchObject({ iss: idp.issuer, sub: 'alice@example.test' });
    expect(fx.echo.requests.some((r) => r.url.startsWith('/fp/cb'))).toBe(false);
  });

  it("without preserve_query_args the query is dropped on the way back (Kong's default)", async () => {
    const { cookie, form } = await formPostLogin('/fpq/page?token=secret');
    const done = await postForm(fx, '/fpq/cb', form, { ...HTML, cookie });
    expect(done.status, done.text).toBe(302);
    expect(done.headers.location).toBe('/fpq/page');
  });
});

describe.skipIf(!existsSync(CHROMIUM))(
  "Kong's authorization-code example in a real headless Chromium",
  () => {
    it('logs in through the IdP form, the IdP POSTs back cross-site, and the browser lands on the original URL', async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const callbacks: string[] = [];
        page.on('request', (r) => {
          if (r.url().startsWith(`${localhost}/kex/page`) && r.method() === 'POST') callbacks.push(r.url());
        });
        // localhost and 127.0.0.1 are different sites: the IdP's POST back is cross-site.
        const target = `${localhost}/kex/page?from=browser`;
        await page.goto(target);
        expect(page.url().startsWith(idp.origin)).toBe(true);
        await page.fill('input[name=login]', 'alice');
        await page.fill('input[name=password]', 'alice-password');
        await Promise.all([page.waitForURL(target), page.click('button[type=submit]')]);
        // The code came in a POST body, never in a URL the browser showed.
        expect(callbacks).toEqual([`${localhost}/kex/page`]);
        const echo = JSON.parse(await page.locator('body').innerText()) as EchoResponse;
        expect(echo.url).toBe('/kex/page?from=browser');
        expect(echo.method).toBe('GET');
        expect(upstreamToken(echo).sub).toBe('alice@example.test');
        await page.goto(`${localhost}/kex/second`);
        const second = JSON.parse(await page.locator('body').innerText()) as EchoResponse;
        expect(upstreamToken(second).sub).toBe('alice@example.test');
      } finally {
        await browser.close();
      }
    });
  },
);
if (!existsSync(CHROMIUM))
  console.warn(`[flows-form-post] ${CHROMIUM} not found: the Chromium login test is skipped`);

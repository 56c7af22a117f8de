/**
 * Attacks on the browser login (authorization code with PKCE, state and
 * nonce), on where it sends the browser afterwards, and on the session
 * cookie. Real proxy (two workers), real OpenID Provider, echo upstream.
 * Every attack must fail closed: refused (or not logged in), with nothing
 * sent upstream and no session cookie issued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, rawHttp, type HttpResult } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import { expectAccepted, expectRefused, probePath } from './attack-support.js';

const SECRET = 'attack-flows-session-secret-0123456789';
const OTHER_SECRET = 'attack-flows-other-secret-9876543210ab';
const HTML = 'text/html,application/xhtml+xml';

let idp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;
let origin: string;

beforeAll(async () => {
  [idp, echo] = await Promise.all([startTestIdp({ profile: 'okta' }), startEcho()]);
  proxy = await startProxy({ workers: 2 });
  origin = `http://127.0.0.1:${proxy.httpPort}`;
  idp.setRedirectUris('gateway', [`${origin}/callback`]);
  const base = {
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
  };
  await proxy.pushOk(
    new ConfigBuilder()
      .upstream('echo', [echo.port])
      .plugin('test/web', 'openid-connect', {
        ...base,
        auth_methods: ['authorization_code', 'session'],
        redirect_uri: [`${origin}/callback`],
        // The return path keeps its query, so the open-redirect attacks below can use one.
        preserve_query_args: true,
        session_secret: SECRET,
        logout_uri_suffix: '/logout',
        logout_methods: ['GET', 'POST'],
        logout_redirect_uri: [`${origin}/goodbye`],
      })
      // Same issuer, client and cookie name; another session secret.
      .plugin('test/other', 'openid-connect', {
        ...base,
        auth_methods: ['bearer', 'session'],
        session_secret: OTHER_SECRET,
      })
      // Same rules and secret as web, but bearer tokens: its sessions decrypt on web, and web must
      // still refuse them (a machine's token is no login by authorization code).
      .plugin('test/machine', 'openid-connect', {
        ...base,
        auth_methods: ['bearer', 'session'],
        session_secret: SECRET,
      })
      .route('web', '/', 'echo', { plugins: ['test/web'], service: 'test/echo' })
      .route('machine', '/machine', 'echo', { plugins: ['test/machine'], service: 'test/echo' })
      .route('other', '/other', 'echo', { plugins: ['test/other'], service: 'test/echo' })
      .build(),
  );
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

const alice = () => ({ username: idp.users.alice!.username, password: idp.users.alice!.password });

/** name=value of each Set-Cookie that sets (not deletes) a cookie. */
function setCookies(res: Pick<HttpResult, 'headers'>): Map<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const cookies = new Map<string, string>();
  for (const line of list) {
    const pair = line.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    const value = pair.slice(eq + 1);
    if (value !== '' && !/max-age=0/i.test(line)) cookies.set(pair.slice(0, eq), value);
  }
  return cookies;
}

function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

function get(path: string, headers: Record<string, string> = {}) {
  return http({ port: proxy.httpPort, path, headers });
}

interface Started {
  /** The IdP authorization URL. */
  authorize: URL;
  /** The authorization (state) cookie. */
  cookie: string;
}

async function startLogin(path: string): Promise<Started> {
  const res = await get(path, { accept: HTML });
  expect(res.status, res.text).toBe(302);
  const cookie = setCookies(res).get('authorization');
  expect(cookie).toBeDefined();
  return { authorize: new URL(String(res.headers.location)), cookie: `authorization=${cookie!}` };
}

/** The callback the IdP redirects the browser to (path and query on the proxy). */
async function consent(started: Started): Promise<string> {
  const { callbackUrl } = await idp.completeLogin(started.authorize, alice());
  const url = new URL(callbackUrl);
  expect(url.origin).toBe(origin);
  return url.pathname + url.search;
}

function callback(target: string, cookie?: string) {
  return get(target, { accept: HTML, ...(cookie !== undefined && { cookie }) });
}

/** A full login from `path`; the session cookies and where the browser is sent at the end. */
async function login(path: string): Promise<{ session: Map<string, string>; location: string }> {
  const started = await startLogin(path);
  const res = await callback(await consent(started), started.cookie);
  expect(res.status, res.text).toBe(302);
  const session = setCookies(res);
  expect(session.has('session')).toBe(true);
  return { session, location: String(res.headers.location) };
}

/** A callback the proxy must not turn into a login: no session cookie, nothing upstream. */
function expectNoLogin(target: string, res: HttpResult, statuses: number[]): void {
  expect(setCookies(res).has('session'), 'a session cookie was issued').toBe(false);
  expect(statuses, `status ${res.status}: ${res.text.slice(0, 200)}`).toContain(res.status);
  expect(echo.requests.some((r) => r.url === target)).toBe(false);
  if (res.status === 401) expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer /);
  if (res.status === 302) expect(String(res.headers.location)).toMatch(new RegExp(`^${idp.issuer}/`));
}

function withParam(target: string, name: string, value: string | undefined): string {
  const url = new URL(target, origin);
  if (value === undefined) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  return url.pathname + url.search;
}

describe('positive control', () => {
  it('a complete login returns to where it started and the session is accepted', async () => {
    const { session, location } = await login('/app/page?x=1');
    expect(location).toBe('/app/page?x=1');
    const path = probePath('/app');
    expectAccepted(
      echo,
      path,
      await get(path, { cookie: cookieHeader(session), accept: 'application/json' }),
    );
  });
});

describe('authorization callback attacks', () => {
  it('refuses a callback whose state is not the one in the authorization cookie', async () => {
    const started = await startLogin('/app/state');
    const target = await consent(started);
    const res = await callback(withParam(target, 'state', 'attacker-state'), started.cookie);
    expectNoLogin(target, res, [401]);
  });

  it('refuses the code of another login presented with this login’s state (nonce and PKCE binding)', async () => {
    const victim = await startLogin('/app/victim');
    const attacker = await startLogin('/app/attacker');
    // The attacker's code, sent with the victim's state and cookie: state matches, code does not belong.
    const attackerCallback = await consent(attacker);
    const target = withParam(attackerCallback, 'state', victim.authorize.searchParams.get('state')!);
    const res = await callback(target, victim.cookie);
    expectNoLogin(target, res, [401]);
  });

  it('refuses a replayed callback (the same code twice)', async () => {
    const started = await startLogin('/app/replay');
    const target = await consent(started);
    const first = await callback(target, started.cookie);
    expect(first.status).toBe(302);
    expect(setCookies(first).has('session')).toBe(true);
    const second = await callback(target, started.cookie);
    expectNoLogin(target, second, [401]);
  });

  it('does not log in from a callback without the authorization cookie', async () => {
    const started = await startLogin('/app/nocookie');
    const target = await consent(started);
    expectNoLogin(target, await callback(target), [302, 401]);
    // An API client gets a plain 401 for the same request.
    const res = await get(target, { accept: 'application/json' });
    expectNoLogin(target, res, [401]);
    // And the code is still unused: with the cookie, the same callback logs in (control).
    const ok = await callback(target, started.cookie);
    expect(ok.status).toBe(302);
    expect(setCookies(ok).has('session')).toBe(true);
  });

  it('refuses a callback whose iss parameter is not the issuer (RFC 9207)', async () => {
    const started = await startLogin('/app/iss');
    const target = await consent(started);
    expect(new URL(target, origin).searchParams.get('iss')).toBe(idp.issuer);
    const res = await callback(
      withParam(target, 'iss', 'https://evil.example.test/oauth2/default'),
      started.cookie,
    );
    expectNoLogin(target, res, [401]);
  });

  it('refuses a callback without the iss parameter from an IdP that sends it (RFC 9207)', async () => {
    const started = await startLogin('/app/noiss');
    const target = await consent(started);
    expectNoLogin(target, await callback(withParam(target, 'iss', undefined), started.cookie), [401]);
  });

  it('refuses a callback with an error and no code, without a session', async () => {
    const started = await startLogin('/app/error');
    const state = started.authorize.searchParams.get('state')!;
    const target = `/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`;
    expectNoLogin(target, await callback(target, started.cookie), [401]);
  });
});

describe('open redirects after login', () => {
  /** The browser's final Location must stay on this origin. */
  function expectSameOrigin(location: string): void {
    expect(location).toMatch(/^\/(?![/\\])/);
    expect(new URL(location, origin).origin).toBe(origin);
  }

  // Each either completes the login (the path is normalised first) or is refused by path safety.
  it.each([
    ['//evil.com', 'login'],
    ['///evil.com/%2e%2e', 'login'],
    ['/\\evil.com', 400],
    ['/%5Cevil.com', 400],
    ['/%09/evil.com', 400],
    ['/%2F%2Fevil.com', 400],
  ] as const)('a login started from %s ends on this origin (%s)', async (path, expected) => {
    const res = await get(path, { accept: HTML });
    if (expected === 400) {
      expect(res.status).toBe(400);
      expect(setCookies(res).has('authorization')).toBe(false);
      return;
    }
    expect(res.status, res.text).toBe(302);
    const cookie = setCookies(res).get('authorization')!;
    const started = { authorize: new URL(String(res.headers.location)), cookie: `authorization=${cookie}` };
    const done = await callback(await consent(started), started.cookie);
    expect(done.status).toBe(302);
    expectSameOrigin(String(done.headers.location));
  });

  it('a login started with an absolute-form request target is refused or ends on this origin', async () => {
    const res = await rawHttp(
      proxy.httpPort,
      `GET https://evil.com/landing HTTP/1.1\nHost: evil.com\nAccept: ${HTML}\nConnection: close\n\n`,
    );
    // Absolute-form targets are refused by path safety before any plugin runs.
    if (res.status === 400) {
      expect(setCookies(res).has('authorization')).toBe(false);
      return;
    }
    expect(res.status, res.text).toBe(302);
    const cookie = setCookies(res).get('authorization')!;
    const started = { authorize: new URL(String(res.headers.location)), cookie: `authorization=${cookie}` };
    const done = await callback(await consent(started), started.cookie);
    expect(done.status).toBe(302);
    expectSameOrigin(String(done.headers.location));
  });

  it('logout goes where the config says, whatever the request asks for', async () => {
    const { session } = await login('/app/before-logout');
    const evil = encodeURIComponent('https://evil.com/');
    const res = await get(
      `/app/logout?post_logout_redirect_uri=${evil}&redirect_uri=${evil}&return_to=${evil}&next=${evil}`,
      { cookie: cookieHeader(session) },
    );
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.href).not.toContain('evil.com');
    // Through the IdP's end-session endpoint, back to the configured page.
    expect(location.href.startsWith(`${idp.issuer}/`)).toBe(true);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${origin}/goodbye`);
    // The session is over.
    expect(res.headers['set-cookie']?.some((c) => /^session=;/.test(c))).toBe(true);
  });
});

describe('session cookie attacks', () => {
  let session: Map<string, string>;
  beforeAll(async () => {
    ({ session } = await login('/app/session'));
  });

  function withSession(value: string, extra: Record<string, string> = {}): string {
    return cookieHeader(new Map([['session', value], ...Object.entries(extra)]));
  }

  async function expectNotAuthenticated(cookie: string, route = '/app'): Promise<void> {
    const path = probePath(route);
    const res = await get(path, { cookie, accept: 'application/json' });
    expectRefused(echo, path, res, 401);
    expect(setCookies(res).has('session')).toBe(false);
  }

  it('the untouched cookie is accepted (control)', async () => {
    const path = probePath('/app');
    expectAccepted(
      echo,
      path,
      await get(path, { cookie: withSession(session.get('session')!), accept: 'application/json' }),
    );
  });

  it('refuses the cookie with a character flipped in each JWE part', async () => {
    const value = session.get('session')!;
    const parts = value.split('.');
    expect(parts).toHaveLength(5);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      // Flip a character in the middle (or add one to the empty key part of alg dir).
      const mid = Math.floor(part.length / 2);
      const flipped =
        part.length === 0 ? 'A' : part.slice(0, mid) + (part[mid] === 'A' ? 'B' : 'A') + part.slice(mid + 1);
      const tampered = [...parts.slice(0, i), flipped, ...parts.slice(i + 1)].join('.');
      expect(tampered).not.toBe(value);
      await expectNotAuthenticated(withSession(tampered));
    }
  });

  it('refuses truncated, reordered and garbage cookies', async () => {
    const value = session.get('session')!;
    const parts = value.split('.');
    await expectNotAuthenticated(withSession(value.slice(0, -4)));
    await expectNotAuthenticated(withSession([parts[0], parts[1], parts[3], parts[2], parts[4]].join('.')));
    await expectNotAuthenticated(withSession('e30.e30.e30.e30.e30'));
    await expectNotAuthenticated(withSession('9:' + value));
  });

  it('refuses a split cookie whose chunks are swapped, and accepts them in order (control)', async () => {
    const value = session.get('session')!;
    const half = Math.floor(value.length / 2);
    const [a, b] = [value.slice(0, half), value.slice(half)];
    const path = probePath('/app');
    expectAccepted(
      echo,
      path,
      await get(path, { cookie: withSession(`2:${a}`, { session_2: b }), accept: 'application/json' }),
    );
    await expectNotAuthenticated(withSession(`2:${b}`, { session_2: a }));
    await expectNotAuthenticated(withSession(`2:${a}`));
    await expectNotAuthenticated(withSession(`3:${a}`, { session_2: b, session_3: b }));
  });

  it('refuses a session cookie issued by another plugin instance', async () => {
    const token = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
    const bearer = probePath('/other');
    const issued = await get(bearer, { authorization: `Bearer ${token.access_token!}` });
    expectAccepted(echo, bearer, issued);
    const foreign = setCookies(issued).get('session');
    expect(foreign).toBeDefined();
    // Accepted by the instance that issued it (control) ...
    const own = probePath('/other');
    expectAccepted(echo, own, await get(own, { cookie: withSession(foreign!), accept: 'application/json' }));
    // ... and nowhere else.
    await expectNotAuthenticated(withSession(foreign!));
    // The other way round too.
    await expectNotAuthenticated(withSession(session.get('session')!), '/other');
  });

  it('refuses a session a bearer token started, though its key is the same (same rules and secret)', async () => {
    const token = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
    const bearer = probePath('/machine');
    const issued = await get(bearer, { authorization: `Bearer ${token.access_token!}` });
    expectAccepted(echo, bearer, issued);
    const machine = setCookies(issued).get('session');
    expect(machine).toBeDefined();
    const own = probePath('/machine');
    expectAccepted(echo, own, await get(own, { cookie: withSession(machine!), accept: 'application/json' }));
    await expectNotAuthenticated(withSession(machine!));
  });

  it('a forged authorization cookie does not start a login', async () => {
    const started = await startLogin('/app/forged-state');
    const target = await consent(started);
    // Flip a character inside the authentication tag (its last character also holds unused padding bits).
    const at = started.cookie.length - 8;
    const flipped = started.cookie[at] === 'A' ? 'B' : 'A';
    const cookie = started.cookie.slice(0, at) + flipped + started.cookie.slice(at + 1);
    expectNoLogin(target, await callback(target, cookie), [302, 401]);
  });
});

describe('logout cross-site request forgery', () => {
  /** Logs out with `headers` added to the session cookie; the answer. */
  async function logout(session: Map<string, string>, method: string, headers: Record<string, string>) {
    return http({
      port: proxy.httpPort,
      path: '/app/logout',
      method,
      headers: { cookie: cookieHeader(session), ...headers },
      ...(method === 'POST' && { body: '' }),
    });
  }

  async function expectSessionWorks(session: Map<string, string>): Promise<void> {
    const path = probePath('/app');
    expectAccepted(echo, path, await get(path, { cookie: cookieHeader(session) }));
  }

  it.each([
    ['POST', { origin: 'https://evil.example' }],
    ['POST', { 'sec-fetch-site': 'cross-site' }],
    ['POST', { 'sec-fetch-site': 'same-site', origin: 'http://sub.127.0.0.1' }],
    ['POST', { origin: 'null' }],
    // The proxy's host on another scheme or port is another origin.
    ['POST', { origin: 'https://127.0.0.1' }],
    // Fetch Metadata decides when the browser sends it: a same-origin Origin does not override it.
    ['POST', { 'sec-fetch-site': 'cross-site', origin: 'ORIGIN' }],
    ['GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }],
  ])('a cross-site %s %j is refused and the session keeps working', async (method, headers) => {
    const { session } = await login('/app/csrf');
    const sent = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, v.replace('ORIGIN', origin)]),
    ) as Record<string, string>;
    const res = await logout(session, method, sent);
    expect(res.status, res.text).toBe(403);
    expect(res.json()).toEqual({
      error: 'PCS_LOGOUT_CROSS_SITE',
      message: 'logout is only accepted from the same origin',
    });
    expect(res.headers['set-cookie'], 'the refusal set a cookie').toBeUndefined();
    expect(echo.requests.some((r) => r.url === '/app/logout')).toBe(false);
    await expectSessionWorks(session);
  });

  it.each([
    ['POST', { origin: 'ORIGIN', 'sec-fetch-site': 'same-origin' }],
    ['POST', { origin: 'ORIGIN' }],
    ['POST', { 'sec-fetch-site': 'same-origin' }],
    // Typed in the address bar or opened from a bookmark.
    ['GET', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }],
    // Not a browser (curl): it cannot be driven by another site.
    ['POST', {}],
  ])('a same-origin %s %j logs out (control)', async (method, headers) => {
    const { session } = await login('/app/csrf-control');
    const sent = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, v.replace('ORIGIN', origin)]),
    ) as Record<string, string>;
    const res = await logout(session, method, sent);
    expect(res.status, res.text).toBe(302);
    expect(res.headers['set-cookie']?.some((c) => /^session=;/.test(c))).toBe(true);
  });

  it('counts refused logouts in the decisions metric', async () => {
    const { session } = await login('/app/csrf-metric');
    await logout(session, 'POST', { origin: 'https://evil.example' });
    const text = await proxy.metrics();
    expect(text).toMatch(
      /portcullis_oidc_auth_decisions_total\{[^}]*method="authorization_code"[^}]*outcome="logout_cross_site"[^}]*\} [1-9]/,
    );
  });
});

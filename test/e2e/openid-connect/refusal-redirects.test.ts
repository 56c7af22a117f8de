/**
 * openid-connect end to end, Kong's refusal redirects and logout's
 * end-session endpoint: `unauthorized_redirect_uri`,
 * `forbidden_redirect_uri`, `unexpected_redirect_uri` (browsers asking for
 * a page only; API clients keep the status and challenge),
 * `*_destroy_session`, and `end_session_endpoint` overriding the
 * discovered one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import {
  APPLICATIONS,
  SESSION_SECRET,
  basic,
  bearer,
  call,
  cookieFrom,
  oidc,
  setCookies,
  startFixture,
  upstreamSaw,
  type Fixture,
  type Scenario,
  type TestIdp,
} from './fixture.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };
const JSON_ONLY = { accept: 'application/json' };
const SIGN_IN = 'https://app.example.test/sign-in';
const DENIED = 'https://app.example.test/denied?from=gateway';
const SORRY = 'https://app.example.test/sorry';
const AFTER_LOGOUT = 'http://127.0.0.1/after-logout';
const END_SESSION = 'https://sso.example.test/logout?tenant=acme';
const BILLING = basic('app-billing', 'app-billing-secret');

let fx: Fixture;
let idp: TestIdp;
let scenarios: Scenario[];

beforeAll(async () => {
  fx = await startFixture({ okta: { profile: 'okta', postLogoutRedirectUris: [AFTER_LOGOUT] } });
  idp = fx.idps.okta!;
  idp.setRedirectUris('gateway', [`${fx.origin}/cb/cb`]);
  const redirects = {
    unauthorized_redirect_uri: [SIGN_IN, 'https://second.example.test/'],
    forbidden_redirect_uri: [DENIED],
  };
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
  scenarios = [
    {
      id: 'rd',
      plugin: oidc(idp, { auth_methods: ['bearer'], scopes_claim: ['scp'], ...redirects }),
    },
    {
      id: 'rdscope',
      plugin: oidc(idp, {
        auth_methods: ['bearer'],
        scopes_claim: ['scp'],
        scopes_required: ['api:write'],
        ...redirects,
      }),
    },
    {
      id: 'cb',
      plugin: oidc(idp, {
        auth_methods: ['authorization_code', 'session'],
        redirect_uri: [`${fx.origin}/cb/cb`],
        session_secret: SESSION_SECRET,
        ...redirects,
      }),
    },
    // Nothing listens on port 9: discovery fails, the plugin answers 503 PCS_IDP_UNAVAILABLE.
    {
      id: 'down',
      plugin: {
        issuer: 'http://127.0.0.1:9/oauth2/default',
        auth_methods: ['bearer'],
        timeout: 2000,
        unexpected_redirect_uri: [SORRY],
      },
    },
    { id: 'ends', plugin: sessions({ forbidden_redirect_uri: [DENIED] }) },
    { id: 'keeps', plugin: sessions({ session_cookie_name: 'kept', forbidden_destroy_session: false }) },
    {
      id: 'eso',
      plugin: sessions({
        logout_uri_suffix: '/logout',
        logout_redirect_uri: [AFTER_LOGOUT],
        end_session_endpoint: END_SESSION,
      }),
    },
  ];
  await fx.push(scenarios);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

async function accessToken(): Promise<string> {
  const tokens = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
  return tokens.access_token!;
}

function expectRedirect(res: Awaited<ReturnType<typeof call>>, location: string): void {
  expect(res.status, res.text).toBe(302);
  expect(res.headers.location).toBe(location);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['www-authenticate']).toBeUndefined();
  expect(res.headers['x-upstream-name']).toBeUndefined();
}

describe('unauthorized_redirect_uri and forbidden_redirect_uri', () => {
  it('sends a browser with no credentials to the first unauthorized URL', async () => {
    expectRedirect(await call(fx, '/rd/page', { headers: HTML }), SIGN_IN);
  });

  it('sends a browser with a bad token there too', async () => {
    const res = await call(fx, '/rd/page', { headers: { ...HTML, authorization: 'Bearer not.a.token' } });
    expectRedirect(res, SIGN_IN);
  });

  it('adds nothing of the request to the target (no open redirect)', async () => {
    const evil = encodeURIComponent('https://evil.example/');
    const res = await call(fx, `/rd/page?next=${evil}&redirect_uri=${evil}&return_to=${evil}`, {
      headers: { ...HTML, host: 'evil.example', referer: 'https://evil.example/' },
    });
    expectRedirect(res, SIGN_IN);
  });

  it('keeps the 401 and its challenge for an API client', async () => {
    for (const headers of [JSON_ONLY, { accept: '*/*' }, {}]) {
      const res = await call(fx, '/rd/page', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    }
  });

  it('sends a browser whose token lacks the scope to the forbidden URL; an API client gets the 403', async () => {
    const token = await accessToken();
    const page = await call(fx, '/rdscope/page', { headers: { ...HTML, authorization: bearer(token) } });
    expectRedirect(page, DENIED);
    const api = await call(fx, '/rdscope/page', { headers: { ...JSON_ONLY, authorization: bearer(token) } });
    expect(api.status).toBe(403);
    expect(api.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('lets an authorized request through untouched', async () => {
    const res = await call(fx, '/rd/page', {
      headers: { ...HTML, authorization: bearer(await accessToken()) },
    });
    expect(upstreamSaw(res).url).toBe('/rd/page');
  });

  it('sends a browser whose login callback fails to the unauthorized URL, clearing the login cookie', async () => {
    const start = await call(fx, '/cb/page', { headers: HTML });
    expect(start.status).toBe(302);
    expect(new URL(String(start.headers.location)).origin).toBe(new URL(idp.issuer).origin);
    const authorization = cookieFrom(start, 'authorization')!;
    const res = await call(fx, '/cb/cb?code=forged&state=forged', {
      headers: { ...HTML, cookie: authorization },
    });
    expectRedirect(res, SIGN_IN);
    expect(setCookies(res).some((c) => /^authorization=;.*Max-Age=0/.test(c))).toBe(true);
  });
});

describe('unexpected_redirect_uri', () => {
  it('sends a browser to it when the IdP cannot be reached; an API client keeps the 503', async () => {
    // A token to verify: its keys are to be fetched from the IdP.
    const authorization = bearer(await accessToken());
    expectRedirect(await call(fx, '/down/page', { headers: { ...HTML, authorization } }), SORRY);
    const api = await call(fx, '/down/page', { headers: { ...JSON_ONLY, authorization } });
    expect(api.status).toBe(503);
    expect(JSON.parse(api.text)).toMatchObject({ error: 'PCS_IDP_UNAVAILABLE' });
  });
});

describe('end_session_endpoint', () => {
  it('logout redirects to the configured endpoint, not the discovered one', async () => {
    const session = cookieFrom(await call(fx, '/eso/x', { headers: { authorization: BILLING } }), 'session')!;
    const res = await call(fx, '/eso/logout', { method: 'POST', headers: { cookie: session } });
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe('https://sso.example.test/logout');
    expect(location.searchParams.get('tenant')).toBe('acme');
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(AFTER_LOGOUT);
    expect(setCookies(res).some((c) => /^session=;.*Max-Age=0/.test(c))).toBe(true);
  });
});

describe('forbidden_destroy_session', () => {
  it('ends the session a 403 refuses (default true); false keeps it', async () => {
    const ended = cookieFrom(await call(fx, '/ends/x', { headers: { authorization: BILLING } }), 'session')!;
    const kept = cookieFrom(await call(fx, '/keeps/x', { headers: { authorization: BILLING } }), 'kept')!;
    expect(ended).toBeDefined();
    expect(kept).toBeDefined();
    // The sessions' Application is deleted: the same sessions are now refused with 403.
    await pushWithout('billing/billing');

    const page = await call(fx, '/ends/x', { headers: { ...HTML, cookie: ended } });
    expectRedirect(page, DENIED);
    expect(setCookies(page).some((c) => /^session=;.*Max-Age=0/.test(c))).toBe(true);
    // An API client is not redirected, but its session ends all the same.
    const api = await call(fx, '/ends/x', { headers: { ...JSON_ONLY, cookie: ended } });
    expect(api.status).toBe(403);
    expect(setCookies(api).some((c) => /^session=;.*Max-Age=0/.test(c))).toBe(true);

    const keeps = await call(fx, '/keeps/x', { headers: { ...JSON_ONLY, cookie: kept } });
    expect(keeps.status).toBe(403);
    expect(setCookies(keeps)).toEqual([]);
  });
});

/** The fixture's config, less one Application. */
async function pushWithout(application: string): Promise<void> {
  const builder = new ConfigBuilder().upstream('echo', [fx.echo.port]);
  for (const [id, clientId] of Object.entries(APPLICATIONS)) {
    if (id !== application) builder.application(id, clientId);
  }
  for (const s of scenarios) {
    if (s.plugin) builder.plugin(`test/${s.id}`, 'openid-connect', s.plugin);
    builder.route(s.id, `/${s.id}`, 'echo', {
      plugins: s.plugin ? [`test/${s.id}`] : [],
      service: 'test/echo',
    });
  }
  await fx.proxy.pushOk(builder.build());
}

/**
 * What an upstream can trust: the identity and token headers, and the
 * proxy's own cookies. Attacks from issue 9, over raw sockets (so nothing
 * normalises the request on the way), against a real proxy (2 workers), a
 * real OpenID Provider and an echo upstream read the way CGI, WSGI, PHP and
 * Rack read headers (`_` and `-` alike).
 *
 * - every header name any plugin instance in the config may set upstream is
 *   the proxy's, on every route, whatever its spelling;
 * - session and login cookies of every instance never reach any upstream;
 * - a session is accepted only by an instance whose acceptance rules are
 *   those that issued it, and without `session_secret` only in the
 *   namespace that issued it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgiEnvironment } from '../../support/cgi.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { rawHttp, type RawResult } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer, type RecordedRequest } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import { probePath, reachedUpstream } from './attack-support.js';
import { PROFILE_APP, userinfoToken } from './idp-login.js';

const SECRET = 'header-trust-session-secret-0123456789';
const BILLING = { id: 'app-billing', secret: 'app-billing-secret' };
/** A client secret another namespace's plugin sets for the victim's client id: it knows no other. */
const ATTACKER_SECRET = 'attacker-chosen-client-secret-0123456789';

let idp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;
/** A client credentials token of app-billing: `scp: [api:read]`, no email or groups claims. */
let token: string;

/**
 * Settings that decide whether a credential is accepted. A session issued
 * under `base` must not be accepted by an instance that differs in any one
 * of them, even when the token inside would pass there (each variant below
 * accepts the token itself as a bearer token: the positive control).
 */
const ACCEPTANCE_VARIANTS: Record<string, Record<string, unknown>> = {
  issuers_allowed: {},
  leeway: { leeway: 30 },
  enable_hs_signatures: { enable_hs_signatures: true },
  scopes_claim: { scopes_claim: ['scope'] },
  scopes_required: { scopes_required: ['api:read'] },
  audience_required: { audience_required: ['api://default'] },
  audience_claim: { audience_claim: ['cid'], audience_required: [BILLING.id] },
  groups_required: { groups_claim: ['scp'], groups_required: ['api:read'] },
  roles_required: { roles_claim: ['scp'], roles_required: ['api:read'] },
  consumer_claim: { consumer_claim: ['cid'] },
  consumer_by: { consumer_by: ['custom_id'] },
  consumer_optional: { consumer_optional: true },
  disable_session: { disable_session: ['password'] },
};

beforeAll(async () => {
  [idp, echo] = await Promise.all([startTestIdp({ profile: 'okta', clients: [PROFILE_APP] }), startEcho()]);
  proxy = await startProxy({ workers: 2 });
  ACCEPTANCE_VARIANTS.issuers_allowed = { issuers_allowed: [idp.issuer] };
  const common = {
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
    session_secret: SECRET,
  };
  const base = {
    ...common,
    auth_methods: ['bearer', 'session'],
    scopes_claim: ['scp'],
    consumer_claim: ['application_id'],
    consumer_by: ['custom_id', 'username'],
  };
  const builder = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .application('billing/billing', BILLING.id)
    .plugin('test/claims', 'openid-connect', {
      ...common,
      auth_methods: ['bearer'],
      upstream_headers_claims: ['email', 'groups'],
      upstream_headers_names: ['x-user-email', 'x-user-groups'],
      upstream_id_token_header: 'x-id-token',
      upstream_access_token_header: 'x-upstream-token',
    })
    // Same issuer, client, secret and cookie name as test/payments: a machine's
    // session from /payments must not open /hr, which wants a browser login.
    .plugin('test/payments', 'openid-connect', base)
    .plugin('test/hr', 'openid-connect', {
      ...common,
      auth_methods: ['authorization_code', 'session'],
      redirect_uri: [`http://127.0.0.1:${proxy.httpPort}/hr/callback`],
    })
    .plugin('test/twin', 'openid-connect', base)
    // Same rules, other methods: the session key is the same (auth_methods is not part of it), so
    // only the method that started the session decides.
    .plugin('test/wider', 'openid-connect', { ...base, auth_methods: ['bearer', 'introspection', 'session'] })
    .plugin('test/nobearer', 'openid-connect', { ...base, auth_methods: ['introspection', 'session'] })
    .route('wider', '/wider', 'echo', { plugins: ['test/wider'], service: 'test/echo' })
    .route('nobearer', '/nobearer', 'echo', { plugins: ['test/nobearer'], service: 'test/echo' })
    .route('claims', '/claims', 'echo', { plugins: ['test/claims'], service: 'test/echo' })
    .route('payments', '/payments', 'echo', { plugins: ['test/payments'], service: 'test/echo' })
    .route('hr', '/hr', 'echo', { plugins: ['test/hr'], service: 'test/echo' })
    .route('twin', '/twin', 'echo', { plugins: ['test/twin'], service: 'test/echo' })
    .route('open', '/open', 'echo', { service: 'test/echo' });
  // No session_secret: the proxy's fallback secret. `shop` is the victim's namespace, `attacker` another
  // tenant's, which copies the victim's issuer, client id and rules.
  const fallback = { issuer: idp.issuer, client_id: [idp.gateway.clientId] };
  const victim = { ...fallback, client_secret: [idp.gateway.clientSecret!] };
  const hs = { enable_hs_signatures: true };
  const namespaced: [string, Record<string, unknown>][] = [
    ['shop/login', { ...victim, auth_methods: ['bearer', 'session'] }],
    ['shop/api', { ...victim, auth_methods: ['session'] }],
    // Accepts any client's token the IdP's userinfo endpoint knows.
    ['attacker/mint', { ...fallback, auth_methods: ['userinfo', 'session'] }],
    ['shop/hs-login', { ...victim, ...hs, auth_methods: ['bearer', 'session'] }],
    ['shop/hs-api', { ...victim, ...hs, auth_methods: ['session'] }],
    [
      'attacker/hs-mint',
      { ...fallback, ...hs, client_secret: [ATTACKER_SECRET], auth_methods: ['bearer', 'session'] },
    ],
    // The same, in the victim's own namespace: the client secret, which verifies HS256 tokens, binds the session.
    [
      'shop/hs-mint',
      { ...fallback, ...hs, client_secret: [ATTACKER_SECRET], auth_methods: ['bearer', 'session'] },
    ],
  ];
  for (const [id, config] of namespaced) {
    const name = id.replace('/', '-');
    builder
      .plugin(id, 'openid-connect', config)
      .route(name, `/${name}`, 'echo', { plugins: [id], service: 'test/echo' });
  }
  for (const [name, variant] of Object.entries(ACCEPTANCE_VARIANTS)) {
    builder
      .plugin(`test/v-${name}`, 'openid-connect', { ...base, ...variant })
      .route(`v-${name}`, `/v-${name}`, 'echo', { plugins: [`test/v-${name}`], service: 'test/echo' });
  }
  await proxy.pushOk(builder.build());
  const issued = await idp.clientCredentials(BILLING.id, BILLING.secret, 'api:read');
  token = issued.access_token!;
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
});

/** A GET over a raw socket with the given header lines, `Connection: close`. */
function rawGet(path: string, headerLines: string[]): Promise<RawResult> {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${proxy.httpPort}`, ...headerLines];
  return rawHttp(proxy.httpPort, `${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`);
}

/** What the upstream received for the request with this probe path. */
function received(path: string): RecordedRequest {
  const probe = /probe-[0-9a-f-]{36}/.exec(path)![0];
  const request = echo.requests.find((r) => r.url.includes(probe));
  if (!request) throw new Error(`the upstream did not receive ${path}`);
  return request;
}

/** The raw header lines the upstream received whose name, with `_` read as `-`, is `name`. */
function headerValues(request: RecordedRequest, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    if (request.rawHeaders[i]!.toLowerCase().replace(/_/g, '-') === name)
      values.push(request.rawHeaders[i + 1]!);
  }
  return values;
}

/** A session cookie (`session=…`) issued for a bearer request to `prefix` (app-billing's token by default). */
async function sessionFrom(prefix: string, credential = token): Promise<string> {
  const path = probePath(prefix);
  const res = await rawGet(path, [`Authorization: Bearer ${credential}`]);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  const line = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('session='));
  expect(line, 'no session cookie issued').toBeDefined();
  return line!.split(';', 1)[0]!;
}

const FORGED = [
  'X-User-Email: ceo@corp.example',
  'X-User-Groups: admins',
  'X-Id-Token: forged',
  'X-Upstream-Token: forged',
];

describe('configured claim and token headers belong to the proxy', () => {
  it('a claim the token lacks leaves the header absent, not the client value', async () => {
    const path = probePath('/claims');
    const res = await rawGet(path, [`Authorization: Bearer ${token}`, ...FORGED]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const seen = received(path);
    expect(headerValues(seen, 'x-user-email')).toEqual([]);
    expect(headerValues(seen, 'x-user-groups')).toEqual([]);
    expect(headerValues(seen, 'x-id-token')).toEqual([]);
    // The proxy's own value: the verified token, not the client's.
    expect(headerValues(seen, 'x-upstream-token')).toEqual([token]);
  });

  it('a claim holding CR/LF is dropped, and the forged header with it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const crafted = idp.signJwt({
      ...idp.accessTokenClaims(BILLING.id),
      email: 'a@b.example\r\nX-Admin: 1',
      iat: now,
      exp: now + 300,
    });
    const path = probePath('/claims');
    const res = await rawGet(path, [`Authorization: Bearer ${crafted}`, ...FORGED]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const seen = received(path);
    expect(headerValues(seen, 'x-user-email')).toEqual([]);
    expect(headerValues(seen, 'x-admin')).toEqual([]);
  });

  it('on a route without any plugin, the same names are removed', async () => {
    const path = probePath('/open');
    const res = await rawGet(path, FORGED);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const seen = received(path);
    for (const name of ['x-user-email', 'x-user-groups', 'x-id-token', 'x-upstream-token']) {
      expect(headerValues(seen, name), name).toEqual([]);
    }
  });

  it('Authorization still reaches the upstream of a route without auth', async () => {
    const path = probePath('/open');
    await rawGet(path, ['Authorization: Basic dXNlcjpwYXNz']);
    expect(headerValues(received(path), 'authorization')).toEqual(['Basic dXNlcjpwYXNz']);
  });
});

describe('underscore spellings of protected names', () => {
  const UNDERSCORED = [
    'X_Consumer_ID: evil/admin',
    'X_Consumer_Custom_ID: evil',
    'X_Credential_Identifier: evil',
    'X_Authenticated_Scope: admin',
    'X_Forwarded_For: 6.6.6.6',
    'X_Real_IP: 6.6.6.6',
    'X_User_Email: ceo@corp.example',
    'X_Id_Token: forged',
  ];

  it('never reach the upstream of an authenticated route (as CGI reads them)', async () => {
    const path = probePath('/payments');
    const res = await rawGet(path, [`Authorization: Bearer ${token}`, ...UNDERSCORED]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const env = cgiEnvironment(received(path).rawHeaders);
    expect(env.HTTP_X_CONSUMER_ID).toBe('billing/billing');
    expect(env.HTTP_X_CONSUMER_CUSTOM_ID).toBe(BILLING.id);
    expect(env.HTTP_X_CREDENTIAL_IDENTIFIER).toBe(BILLING.id);
    expect(env.HTTP_X_AUTHENTICATED_SCOPE).toBe('api:read');
    expect(env.HTTP_X_FORWARDED_FOR).toBe('127.0.0.1');
    expect(env.HTTP_X_REAL_IP).toBe('127.0.0.1');
    expect(env.HTTP_X_USER_EMAIL).toBeUndefined();
    expect(env.HTTP_X_ID_TOKEN).toBeUndefined();
  });

  it('never reach the upstream of a route without auth', async () => {
    const path = probePath('/open');
    await rawGet(path, UNDERSCORED);
    const env = cgiEnvironment(received(path).rawHeaders);
    for (const key of [
      'HTTP_X_CONSUMER_ID',
      'HTTP_X_CONSUMER_CUSTOM_ID',
      'HTTP_X_CREDENTIAL_IDENTIFIER',
      'HTTP_X_AUTHENTICATED_SCOPE',
      'HTTP_X_USER_EMAIL',
      'HTTP_X_ID_TOKEN',
    ]) {
      expect(env[key], key).toBeUndefined();
    }
    expect(env.HTTP_X_FORWARDED_FOR).toBe('127.0.0.1');
  });
});

describe('sessions are bound to the rules that issued them', () => {
  it('a machine session from /payments does not open /hr (authorization_code only)', async () => {
    const cookie = await sessionFrom('/payments');
    // The cookie works where it was issued…
    const home = probePath('/payments');
    expect((await rawGet(home, [`Cookie: ${cookie}`])).status).toBe(200);
    // …and nowhere that demands a browser login.
    const path = probePath('/hr');
    const res = await rawGet(path, [`Cookie: ${cookie}`]);
    expect(res.status, res.text.slice(0, 300)).toBe(401);
    expect(reachedUpstream(echo, path)).toBe(false);
  });

  it('an instance with the same rules accepts it (the control)', async () => {
    const cookie = await sessionFrom('/payments');
    const path = probePath('/twin');
    expect((await rawGet(path, [`Cookie: ${cookie}`])).status).toBe(200);
  });

  it('an instance with other methods takes it only if it takes the method that started it (bearer)', async () => {
    const cookie = await sessionFrom('/payments');
    const wider = probePath('/wider');
    expect((await rawGet(wider, [`Cookie: ${cookie}`])).status).toBe(200);
    const path = probePath('/nobearer');
    const res = await rawGet(path, [`Cookie: ${cookie}`]);
    expect(res.status, res.text.slice(0, 300)).toBe(401);
    expect(reachedUpstream(echo, path)).toBe(false);
  });

  it.each(Object.keys(ACCEPTANCE_VARIANTS))('an instance differing in %s refuses it', async (name) => {
    const cookie = await sessionFrom('/payments');
    // The token itself is good there: the refusal is the session's binding, not the rules.
    const control = probePath(`/v-${name}`);
    const direct = await rawGet(control, [`Authorization: Bearer ${token}`]);
    expect(direct.status, direct.text.slice(0, 300)).toBe(200);
    const path = probePath(`/v-${name}`);
    const res = await rawGet(path, [`Cookie: ${cookie}`]);
    expect(res.status, res.text.slice(0, 300)).toBe(401);
    expect(reachedUpstream(echo, path)).toBe(false);
  });
});

describe('without session_secret, sessions stay in the namespace that issued them', () => {
  /** The session is refused at `prefix`, and nothing reached its upstream. */
  async function refusedAt(prefix: string, cookie: string): Promise<void> {
    const path = probePath(prefix);
    const res = await rawGet(path, [`Cookie: ${cookie}`]);
    expect(res.status, res.text.slice(0, 300)).toBe(401);
    expect(reachedUpstream(echo, path)).toBe(false);
  }

  it("a session-only instance takes its own namespace's sessions (the control, Kong's session-auth)", async () => {
    const cookie = await sessionFrom('/shop-login');
    expect((await rawGet(probePath('/shop-api'), [`Cookie: ${cookie}`])).status).toBe(200);
  });

  it("refuses a session another namespace's copy of its rules started from any client's userinfo token", async () => {
    // Alice's token for another client: the victim's login route would never take it.
    const foreign = await userinfoToken(idp);
    const cookie = await sessionFrom('/attacker-mint', foreign);
    await refusedAt('/shop-api', cookie);
  });

  it('with enable_hs_signatures, takes a session of an HS256 token signed with its own client secret (control)', async () => {
    const jwt = idp.signJwt(idp.accessTokenClaims(BILLING.id), {
      header: { alg: 'HS256' },
      key: idp.gateway.clientSecret!,
    });
    const cookie = await sessionFrom('/shop-hs-login', jwt);
    expect((await rawGet(probePath('/shop-hs-api'), [`Cookie: ${cookie}`])).status).toBe(200);
  });

  it.each(['/attacker-hs-mint', '/shop-hs-mint'])(
    'refuses a session of an admin token signed with the client secret %s set for itself',
    async (mint) => {
      const forged = idp.signJwt(
        { ...idp.accessTokenClaims(BILLING.id), sub: 'admin' },
        {
          header: { alg: 'HS256' },
          key: ATTACKER_SECRET,
        },
      );
      const cookie = await sessionFrom(mint, forged);
      await refusedAt('/shop-hs-api', cookie);
    },
  );
});

describe("the proxy's cookies never reach an upstream", () => {
  it('session and login cookies, in every spelling, are removed on a route without auth', async () => {
    const cookie = await sessionFrom('/payments');
    const value = cookie.slice('session='.length);
    const path = probePath('/open');
    await rawGet(path, [
      `Cookie: theme=dark; ${cookie}; session_2=chunk; authorization=state; session =${value}`,
      'Cookie: lang=en',
    ]);
    const seen = headerValues(received(path), 'cookie');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.split(/;\s*/).sort()).toEqual(['lang=en', 'theme=dark']);
  });

  it('a request with only the proxy cookies sends no Cookie header upstream', async () => {
    const cookie = await sessionFrom('/payments');
    const path = probePath('/open');
    await rawGet(path, [`Cookie: ${cookie}`]);
    expect(headerValues(received(path), 'cookie')).toEqual([]);
  });

  it('on the authenticated route the session cookie is used, then removed', async () => {
    const cookie = await sessionFrom('/payments');
    const path = probePath('/payments');
    const res = await rawGet(path, [`Cookie: a=1; ${cookie}`]);
    expect(res.status).toBe(200);
    expect(headerValues(received(path), 'cookie')).toEqual(['a=1']);
  });
});

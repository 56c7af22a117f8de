/**
 * Kong's own openid-connect examples, run for real: every example whose row
 * in docs/kong-compatibility.md says `translates` is put on an Ingress as
 * Kong wrote it (only the IdP's URLs, the client and the gateway's own
 * callback substituted), translated, pushed to a real proxy (2 workers) in
 * front of an echo upstream, and driven through the flow it shows against
 * the test IdP (Keycloak-shaped, the IdP Kong's examples are written for).
 * Each flow shows one caller let in, with what the upstream received, and
 * one refused. An example that starts translating fails here until it has
 * a flow in FLOWS.
 */
import type { Browser } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptySnapshot, translate } from '../../../controller/translate/index.js';
import type { KongPlugin } from '../../../controller/translate/k8s-types.js';
import { DEFAULT_USERS } from '../../../demo/idp/users.js';
import { application, endpointSlice, ingress, ingressClass, service } from '../../fixtures/k8s.js';
import { exampleFiles, exampleTable, loadExample, mapStrings } from '../../support/kong-compat-examples.js';
import type { EchoResponse } from '../../support/upstreams.js';
import {
  basic,
  bearer,
  call,
  cookieFrom,
  idpCalls,
  setCookies,
  startFixture,
  upstreamSaw,
  upstreamToken,
  type Fixture,
  type TestIdp,
} from './fixture.js';
import type { TestUser } from '../../../demo/idp/types.js';
import { CALLBACK, gatewayRefreshToken, PROFILE_APP, userinfoToken } from './idp-login.js';

const NS = 'kong-compat';
/** What the examples say in place of the IdP and its client. */
const PLACEHOLDER = {
  issuer: 'https://idp.example.test/oauth2/default',
  clientId: 'kong-compat-client',
  clientSecret: 'kong-compat-secret',
  callback: 'https://api.example.test/callback',
  /** override-jwks-endpoint's first allowed issuer stands for the IdP; the second stays another one. */
  allowedIssuer: 'issuer-url-for-example-host1',
};
const APP_BILLING = { clientId: 'app-billing', clientSecret: 'app-billing-secret' };
const APP_OPAQUE = { clientId: 'app-opaque', clientSecret: 'app-opaque-secret' };
const ALICE = { username: 'alice', password: 'alice-password' };
/** A user per example: the proxy caches tokens per user, so each flow's login reaches the IdP. */
const userOf = (route: string) => ({ username: `user-${route}`, password: `${route}-password` });
const exampleUser = (route: string): TestUser => ({
  ...userOf(route),
  sub: `f:kc:${route}`,
  email: `${route}@example.test`,
  name: `User ${route}`,
  groups: ['everyone'],
});
/** An Application's Kong `username` is its `namespace/name` here: carol's login names one. */
const CAROL = {
  username: `${NS}/carol`,
  password: 'carol-password',
  sub: 'f:kc:carol',
  email: 'carol@example.test',
  name: 'Carol Consumer',
  groups: ['everyone'],
};

interface Discovered {
  jwks_uri: string;
  introspection_endpoint: string;
  end_session_endpoint: string;
  revocation_endpoint: string;
}

interface Env {
  fx: Fixture;
  /** The IdP every example runs against. */
  idp: TestIdp;
  /** The same kind of IdP whose resource grants no OIDC scope (for claim-rule refusals). */
  narrow: TestIdp;
  browser(): Promise<Browser>;
}

type ClientAuth = 'client_secret_basic' | 'client_secret_post';

/**
 * A flow: drives the example's route (`/<route>`), asserting one success and
 * one refusal; `auth` is how the example's client authenticates (`client_auth`).
 */
type Flow = (env: Env, route: string, auth: ClientAuth) => Promise<void>;

/** Runs `fn`, checking that the proxy's token, introspection or revocation calls authenticated as `auth`. */
async function authenticatedAs<T>(env: Env, auth: ClientAuth, fn: () => Promise<T>): Promise<T> {
  const { result, calls } = await idpCalls(env.idp, fn);
  expect(calls[auth]).toBeGreaterThan(0);
  expect(calls[auth === 'client_secret_post' ? 'client_secret_basic' : 'client_secret_post']).toBe(0);
  return result;
}

// ---------------------------------------------------------------- flows

/** Basic username:password, as password_param_type header (the default list includes it). */
function passwordFlow(check: (seen: EchoResponse, env: Env, route: string) => Promise<void> | void): Flow {
  return async (env, route, auth) => {
    const user = userOf(route);
    const ok = await authenticatedAs(env, auth, () =>
      call(env.fx, `/${route}/resource`, { headers: { authorization: basic(user.username, user.password) } }),
    );
    const seen = upstreamSaw(ok);
    // The upstream gets the IdP's access token for the user, not the password.
    expect(upstreamToken(seen)).toMatchObject({ iss: env.idp.issuer, preferred_username: user.username });
    expect(String(seen.headers.authorization)).not.toContain(user.password);
    await check(seen, env, route);
    const wrong = await call(env.fx, `/${route}/resource`, {
      headers: { authorization: basic(user.username, 'not-the-password') },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['x-upstream-name']).toBeUndefined();
  };
}

/** A client's own id and secret in Basic, exchanged by the proxy for a token (client_credentials). */
function clientCredentialsFlow(client: { clientId: string; clientSecret: string }): Flow {
  return async (env, route, auth) => {
    const seen = upstreamSaw(
      await authenticatedAs(env, auth, () =>
        call(env.fx, `/${route}/resource`, {
          headers: { authorization: basic(client.clientId, client.clientSecret) },
        }),
      ),
    );
    expect(upstreamToken(seen)).toMatchObject({ iss: env.idp.issuer, azp: client.clientId });
    const wrong = await call(env.fx, `/${route}/resource`, {
      headers: { authorization: basic(client.clientId, 'wrong-secret') },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['x-upstream-name']).toBeUndefined();
  };
}

async function jwtFor(idp: TestIdp): Promise<string> {
  const res = await idp.clientCredentials(APP_BILLING.clientId, APP_BILLING.clientSecret, 'api:read');
  expect(res.status, JSON.stringify(res)).toBe(200);
  return res.access_token!;
}

/** A browser logs in through the IdP's form (authorization code) and lands on the upstream. */
const browserFlow: Flow = async (env, route, auth) => {
  const context = await (await env.browser()).newContext();
  try {
    const page = await context.newPage();
    const start = `${env.fx.origin}/${route}/page?from=browser`;
    // As in Kong, the login's query string comes back only with preserve_query_args.
    const preserve = (loadExample(`${route}.yaml`).config as { preserve_query_args?: boolean })
      .preserve_query_args;
    const back = preserve ? `/${route}/page?from=browser` : `/${route}/page`;
    const target = `${env.fx.origin}${back}`;
    await page.goto(start);
    expect(page.url().startsWith(env.idp.origin)).toBe(true);
    // Refused: a wrong password keeps the browser at the IdP, the upstream never sees it.
    await page.fill('input[name=login]', ALICE.username);
    await page.fill('input[name=password]', 'not-her-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Invalid username or password.');
    expect(page.url().startsWith(env.idp.origin)).toBe(true);
    await page.fill('input[name=login]', ALICE.username);
    await page.fill('input[name=password]', ALICE.password);
    await authenticatedAs(env, auth, () =>
      Promise.all([page.waitForURL(target), page.click('button[type=submit]')]),
    );
    const echo = JSON.parse(await page.locator('body').innerText()) as EchoResponse;
    expect(echo.url).toBe(back);
    expect(upstreamToken(echo)).toMatchObject({ iss: env.idp.issuer, preferred_username: 'alice' });
    expect(String(echo.headers.cookie ?? '')).not.toMatch(/(^|; )(session|authorization)=/);
  } finally {
    await context.close();
  }
  // An API client without credentials is refused, not sent to log in.
  const api = await call(env.fx, `/${route}/page`);
  expect(api.status).toBe(401);
  expect(String(api.headers['www-authenticate'])).toMatch(/^Bearer /);
};

/** Logs the route's user in with password on `route`; returns the session cookie and the token the upstream got. */
async function passwordSession(env: Env, route: string) {
  const user = userOf(route);
  const login = await call(env.fx, `/${route}/resource`, {
    headers: { authorization: basic(user.username, user.password) },
  });
  const token = String(upstreamSaw(login).headers.authorization);
  const session = cookieFrom(login, 'session');
  expect(session).toBeDefined();
  return { session: session!, token };
}

const FLOWS: Record<string, Flow> = {
  // authenticated_groups_claim is for Kong's ACL plugin (no effect here): the login itself works.
  'acl-auth.yaml': passwordFlow(() => {}),
  'amazon-cognito.yaml': browserFlow,
  // No client of its own: the caller's client credentials are exchanged with client_secret_basic.
  'auth0.yaml': clientCredentialsFlow(APP_BILLING),
  'azure-ad.yaml': browserFlow,
  'claims-based-auth.yaml': async (env, route, auth) => {
    // scopes_required [openid, email] on the `scope` claim: the user's token has `openid`.
    await passwordFlow((seen) => {
      expect(upstreamToken(seen).scope).toContain('openid');
    })(env, route, auth);
    // The same config on an IdP that grants neither scope: a valid login, refused with 403.
    const res = await call(env.fx, `/narrow/${route}/resource`, {
      headers: { authorization: basic(ALICE.username, ALICE.password) },
    });
    expect(res.status).toBe(403);
    expect(res.headers['x-upstream-name']).toBeUndefined();
  },
  'client-credentials.yaml': async (env, route, auth) => {
    await clientCredentialsFlow(APP_BILLING)(env, route, auth);
    // client_credentials_param_type [header]: the same pair in a form body is not looked for.
    const body = new URLSearchParams({
      client_id: APP_BILLING.clientId,
      client_secret: APP_BILLING.clientSecret,
    });
    const res = await call(env.fx, `/${route}/resource`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    expect(res.status).toBe(401);
  },
  'consumer-auth.yaml': async (env, route) => {
    // consumer_claims [[preferred_username]] by username: carol's login names the Application kong-compat/carol.
    const seen = upstreamSaw(
      await call(env.fx, `/${route}/resource`, {
        headers: { authorization: basic(CAROL.username, CAROL.password), 'x-consumer-username': 'forged' },
      }),
    );
    expect(seen.headers).toMatchObject({
      'x-consumer-id': `${NS}/carol`,
      'x-consumer-username': `${NS}/carol`,
      'x-consumer-custom-id': 'carol-app',
    });
    // alice logs in fine but names no Application: 403.
    const alice = await call(env.fx, `/${route}/resource`, {
      headers: { authorization: basic(ALICE.username, ALICE.password) },
    });
    expect(alice.status).toBe(403);
    expect(alice.headers['x-upstream-name']).toBeUndefined();
  },
  'curity.yaml': async (env, route, auth) => {
    // Introspection of an opaque token with `openid` (scopes_required), hidden from the upstream.
    const token = (await env.idp.password(ALICE.username, ALICE.password, 'openid', APP_OPAQUE))
      .access_token!;
    expect(token.split('.')).toHaveLength(1);
    const seen = upstreamSaw(
      await authenticatedAs(env, auth, () =>
        call(env.fx, `/${route}/resource`, {
          headers: { authorization: bearer(token), 'x-phantom-token': 'forged' },
        }),
      ),
    );
    // upstream_access_token_header: nil is a header named `nil`, as in Kong.
    expect(seen.headers.nil).toBe(token);
    expect(seen.headers.authorization).toBeUndefined();
    // The test IdP's introspection has no Curity phantom_token: the header is absent, never the client's.
    expect(seen.headers['x-phantom-token']).toBeUndefined();
    const noOpenid = (
      await env.idp.clientCredentials(APP_OPAQUE.clientId, APP_OPAQUE.clientSecret, 'api:read')
    ).access_token!;
    const res = await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(noOpenid) } });
    expect(res.status).toBe(403);
  },
  // response_mode form_post: the IdP posts the code back; preserve_query_args keeps `?from=browser`.
  'authorization-code.yaml': browserFlow,
  'extra-jwks.yaml': async (env, route) => {
    // Keys from extra_jwks_uris; verify_claims false still verifies claims here.
    const token = await jwtFor(env.idp);
    const seen = upstreamSaw(
      await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(token) } }),
    );
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    const now = Math.floor(Date.now() / 1000);
    const expired = env.idp.signJwt({
      ...env.idp.accessTokenClaims(APP_BILLING.clientId),
      iat: now - 600,
      exp: now - 120,
    });
    expect(
      (await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(expired) } })).status,
    ).toBe(401);
    const other = await jwtFor(env.narrow);
    expect(
      (await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(other) } })).status,
    ).toBe(401);
  },
  'google.yaml': browserFlow,
  'user-info-auth.yaml': async (env, route) => {
    // An opaque token good at userinfo only: the IdP's userinfo answer says who the caller is.
    const token = await userinfoToken(env.idp);
    const seen = upstreamSaw(
      await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(token) } }),
    );
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    const made = await call(env.fx, `/${route}/resource`, {
      headers: { authorization: bearer('made-up-token') },
    });
    expect(made.status).toBe(401);
  },
  'refresh-token.yaml': async (env, route, auth) => {
    // The Refresh-Token header is exchanged at the token endpoint by the gateway's own client.
    const refresh = await gatewayRefreshToken(env.idp);
    const seen = upstreamSaw(
      await authenticatedAs(env, auth, () =>
        call(env.fx, `/${route}/resource`, { headers: { 'refresh-token': refresh } }),
      ),
    );
    expect(upstreamToken(seen)).toMatchObject({ iss: env.idp.issuer });
    // upstream_refresh_token_header: refresh_token, the header name as Kong writes it.
    expect(seen.headers.refresh_token).toBeDefined();
    expect(seen.headers['refresh-token']).toBeUndefined();
    const made = await call(env.fx, `/${route}/resource`, { headers: { 'refresh-token': 'made-up' } });
    expect(made.status).toBe(401);
  },
  'headers.yaml': passwordFlow(async (seen, env, route) => {
    const user = userOf(route);
    expect(seen.headers['x-authenticated-user']).toBe(user.username);
    // The client cannot set it: without credentials it is refused, with them it is replaced.
    const forged = await call(env.fx, `/${route}/resource`, {
      headers: { authorization: basic(user.username, user.password), 'x-authenticated-user': 'admin' },
    });
    expect(upstreamSaw(forged).headers['x-authenticated-user']).toBe(user.username);
  }),
  'introspection-auth.yaml': async (env, route, auth) => {
    const token = (await env.idp.clientCredentials(APP_OPAQUE.clientId, APP_OPAQUE.clientSecret, 'api:read'))
      .access_token!;
    const { result, calls } = await idpCalls(env.idp, () =>
      authenticatedAs(env, auth, () =>
        call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(token) } }),
      ),
    );
    const seen = upstreamSaw(result);
    expect(calls.introspection).toBe(1);
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    expect(seen.headers['x-authenticated-scope']).toBe('api:read');
    const made = await call(env.fx, `/${route}/resource`, { headers: { authorization: 'Bearer made-up' } });
    expect(made.status).toBe(401);
  },
  'jwt-access-token.yaml': async (env, route) => {
    // bearer_token_param_type [query]: the token comes in `access_token`, which the upstream does not see.
    const token = await jwtFor(env.idp);
    const seen = upstreamSaw(await call(env.fx, `/${route}/resource?access_token=${token}&x=1`));
    expect(seen.url).toBe(`/${route}/resource?x=1`);
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    // In the header it is not looked for.
    const header = await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(token) } });
    expect(header.status).toBe(401);
    const other = await jwtFor(env.narrow);
    expect((await call(env.fx, `/${route}/resource?access_token=${other}`)).status).toBe(401);
  },
  'logout.yaml': async (env, route, auth) => {
    const { session, token } = await passwordSession(env, route);
    const again = upstreamSaw(await call(env.fx, `/${route}/resource`, { headers: { cookie: session } }));
    expect(again.headers.authorization).toBe(token);
    // POST …/logout ends the session, revokes its access token (logout_revoke) and goes to the IdP's end_session.
    const { result: out, calls } = await idpCalls(env.idp, () =>
      authenticatedAs(env, auth, () =>
        call(env.fx, `/${route}/logout`, { method: 'POST', headers: { cookie: session } }),
      ),
    );
    expect(out.status).toBe(302);
    expect(String(out.headers.location)).toMatch(/\/protocol\/openid-connect\/logout/);
    expect(out.headers['x-upstream-name']).toBeUndefined();
    expect(calls.revocation).toBe(1);
    expect(setCookies(out).some((c) => /^session=;/.test(c) || /^session=[^;]*;.*Max-Age=0/i.test(c))).toBe(
      true,
    );
    // A GET to the suffix is no logout (logout_methods [POST]): it needs credentials like any request.
    expect((await call(env.fx, `/${route}/logout`)).status).toBe(401);
  },
  'okta.yaml': browserFlow,
  'override-jwks-endpoint.yaml': async (env, route) => {
    // jwks_endpoint replaces the discovered keys; issuers_allowed names the IdP (and one other issuer).
    const token = await jwtFor(env.idp);
    const seen = upstreamSaw(
      await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(token) } }),
    );
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    // Another IdP's token: other issuer, other keys.
    const other = await jwtFor(env.narrow);
    expect(
      (await call(env.fx, `/${route}/resource`, { headers: { authorization: bearer(other) } })).status,
    ).toBe(401);
  },
  'password.yaml': passwordFlow(async (_seen, env, route) => {
    // password_param_type [header]: the same credentials in the query are not looked for.
    const { username, password } = userOf(route);
    const query = new URLSearchParams({ username, password });
    expect((await call(env.fx, `/${route}/resource?${query}`)).status).toBe(401);
  }),
  'session-auth.yaml': async (env, route) => {
    expect((await call(env.fx, `/${route}/resource`)).status).toBe(401);
    // Kong's example: a session cookie "retrieved using any other supported flow" is enough. A
    // password login on logout.yaml's route (same issuer, client and acceptance rules) gives one.
    const { session, token } = await passwordSession(env, 'logout');
    const seen = upstreamSaw(await call(env.fx, `/${route}/resource`, { headers: { cookie: session } }));
    expect(seen.headers.authorization).toBe(token);
    // A cookie that is not a session of these rules gets nothing.
    const forged = await call(env.fx, `/${route}/resource`, { headers: { cookie: 'session=forged' } });
    expect(forged.status).toBe(401);
  },
};

/** The examples whose flow needs a browser. */
const BROWSER = new Set([
  'amazon-cognito.yaml',
  'authorization-code.yaml',
  'azure-ad.yaml',
  'google.yaml',
  'okta.yaml',
]);

// ---------------------------------------------------------------- the examples, translated

function clientAuthOf(file: string): ClientAuth {
  const config = loadExample(file).config as { client_auth?: string[] };
  return config.client_auth?.[0] === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic';
}

function routeOf(file: string): string {
  return file.replace(/\.yaml$/, '');
}

/** The example's config with the IdP, its client and the gateway's callback put in; the rest as Kong wrote it. */
function substituted(
  config: Record<string, unknown>,
  idp: TestIdp,
  discovered: Discovered,
  origin: string,
  route: string,
): Record<string, unknown> {
  const client = { clientId: idp.gateway.clientId, clientSecret: idp.gateway.clientSecret! };
  const byField: Record<string, string> = {
    jwks_endpoint: discovered.jwks_uri,
    extra_jwks_uris: discovered.jwks_uri,
    introspection_endpoint: discovered.introspection_endpoint,
    end_session_endpoint: discovered.end_session_endpoint,
    revocation_endpoint: discovered.revocation_endpoint,
  };
  const out = mapStrings(config, (value, key) => {
    // extra-jwks' placeholders have no scheme at all (Kong's URL check refuses them too).
    if (key && key in byField && (value.startsWith('https://') || key === 'extra_jwks_uris'))
      return byField[key]!;
    if (value === PLACEHOLDER.callback) return `${origin}/${route}/callback`;
    if (value === PLACEHOLDER.allowedIssuer) return idp.issuer;
    return value
      .replace(PLACEHOLDER.issuer, idp.issuer)
      .replaceAll(PLACEHOLDER.clientSecret, client.clientSecret)
      .replaceAll(PLACEHOLDER.clientId, client.clientId);
  }) as Record<string, unknown>;
  // A new example naming another IdP URL must get a substitution, not run against nothing.
  expect(JSON.stringify(out)).not.toContain('idp.example.test');
  return out;
}

async function discover(idp: TestIdp): Promise<Discovered> {
  const res = await fetch(idp.discoveryUrl);
  return (await res.json()) as Discovered;
}

/** One snapshot: a KongPlugin and an Ingress per example (path `/<route>`), the echo Service, carol's Application. */
async function examplesSnapshot(env: Env, files: string[]) {
  const snapshot = emptySnapshot();
  snapshot.ingressClasses.push(ingressClass());
  const port = env.fx.echo.port;
  snapshot.services.push(service(NS, 'echo', { ports: [{ name: 'http', port: 80, targetPort: port }] }));
  snapshot.endpointSlices.push(endpointSlice(NS, 'echo', { addresses: ['127.0.0.1'], port }));
  snapshot.applications.push(application(NS, 'carol', 'carol-app'));
  const discovered = { idp: await discover(env.idp), narrow: await discover(env.narrow) };
  const add = (file: string, idp: TestIdp, meta: Discovered, prefix = '') => {
    const plugin: KongPlugin = loadExample(file);
    const name = `${prefix}${routeOf(file)}`;
    const path = prefix ? `${prefix}/${routeOf(file)}` : routeOf(file);
    plugin.metadata = { ...plugin.metadata, name, namespace: NS };
    plugin.config = substituted(plugin.config as Record<string, unknown>, idp, meta, env.fx.origin, path);
    snapshot.kongPlugins.push(plugin);
    snapshot.ingresses.push(
      ingress(NS, name, {
        annotations: { 'konghq.com/plugins': name },
        rules: [{ paths: [{ path: `/${path}`, service: 'echo' }] }],
      }),
    );
  };
  for (const file of files) add(file, env.idp, discovered.idp);
  add('claims-based-auth.yaml', env.narrow, discovered.narrow, 'narrow');
  return snapshot;
}

// ---------------------------------------------------------------- the run

const table = exampleTable();
const translating = exampleFiles().filter((f) => table.get(f)?.translates === true);
const env = {} as Env;
let browser: Promise<Browser> | undefined;

beforeAll(async () => {
  const fx = await startFixture({
    idp: {
      profile: 'keycloak',
      clients: [PROFILE_APP],
      users: [...DEFAULT_USERS, CAROL, ...translating.map((f) => exampleUser(routeOf(f)))],
    },
    narrow: { profile: 'keycloak', resourceScopes: ['api:read'] },
  });
  Object.assign(env, {
    fx,
    idp: fx.idps.idp!,
    narrow: fx.idps.narrow!,
    browser: () => (browser ??= launchChromium()),
  });
  const { origin } = fx;
  env.idp.setRedirectUris('gateway', [
    CALLBACK,
    ...[...BROWSER].flatMap((f) => [`${origin}/${routeOf(f)}/callback`, `${origin}/${routeOf(f)}/page`]),
  ]);
  const { config, problems } = translate(await examplesSnapshot(env, translating));
  expect(problems).toEqual([]);
  await fx.proxy.pushOk(config);
}, 60_000);

afterAll(async () => {
  await (await browser)?.close();
  await env.fx?.stop();
});

describe("Kong's openid-connect examples that translate, end to end", () => {
  it('every translating example has a flow, and every flow a translating example', () => {
    expect(translating.filter((f) => !FLOWS[f])).toEqual([]);
    expect(Object.keys(FLOWS).filter((f) => !translating.includes(f))).toEqual([]);
  });

  for (const file of translating) {
    const flow = FLOWS[file];
    // A translating example without a flow fails the test above; here it is just not run.
    if (!flow) continue;
    if (BROWSER.has(file) && !hasChromium()) {
      it.skip(`${file}: skipped, its browser login needs ${CHROMIUM} (Debian's chromium)`, () => {});
    } else it(file, () => flow(env, routeOf(file), clientAuthOf(file)));
  }
});

/**
 * openid-connect end to end, API credentials: client credentials, password,
 * bearer JWTs of each IdP profile, implicit-flow tokens and introspection,
 * through a real proxy (2 workers) to an echo upstream, asserting what the
 * upstream received and what the IdP was asked.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplesOf, sumOf } from '../../support/metrics.js';
import {
  basic,
  bearer,
  call,
  idpCalls,
  metrics,
  oidc,
  postForm,
  startFixture,
  upstreamSaw,
  upstreamToken,
  X_CONSUMER,
  type Fixture,
  type TestIdp,
} from './fixture.js';

let fx: Fixture;
let okta: TestIdp;
let azure: TestIdp;
let ping: TestIdp;
const BILLING_SECRET = 'app-billing-secret';

beforeAll(async () => {
  fx = await startFixture({
    okta: { profile: 'okta' },
    azure: { profile: 'azure' },
    ping: { profile: 'ping' },
  });
  okta = fx.idps.okta!;
  azure = fx.idps.azure!;
  ping = fx.idps.ping!;
  const cc = (overrides: Record<string, unknown> = {}) =>
    oidc(okta, {
      auth_methods: ['client_credentials'],
      scopes: ['api:read'],
      scopes_claim: ['scp'],
      consumer_claim: ['application_id'],
      consumer_by: ['custom_id'],
      ...overrides,
    });
  const pw = (overrides: Record<string, unknown> = {}) =>
    oidc(okta, {
      auth_methods: ['password'],
      scopes: ['openid', 'profile', 'email'],
      scopes_claim: ['scp'],
      // Sent with the password grant: a differently shaped scope list keeps its token cache apart.
      ...overrides,
    });
  const bearerOkta = (overrides: Record<string, unknown> = {}) =>
    oidc(okta, { auth_methods: ['bearer'], scopes_claim: ['scp'], ...overrides });
  await fx.push([
    {
      id: 'cc',
      plugin: cc({
        // The default hides credentials (Kong 3.14); this route shows what passes when not.
        hide_credentials: false,
        upstream_headers_claims: ['cid', 'ver'],
        upstream_headers_names: ['x-okta-cid', 'x-okta-ver'],
      }),
    },
    {
      // Kong's headers example (3.14's upstream_headers), on a client credentials token.
      id: 'ccpath',
      plugin: cc({ upstream_headers: [{ header: 'X-Okta-Cid', path: ['cid'] }], timeout: 10_019 }),
    },
    { id: 'cchide', plugin: cc({ hide_credentials: true, timeout: 10_001 }) },
    { id: 'ccheader', plugin: cc({ client_credentials_param_type: ['header'], timeout: 10_002 }) },
    { id: 'cccache', plugin: cc({ timeout: 10_003 }) },
    { id: 'ccflight', plugin: cc({ timeout: 10_004 }) },
    { id: 'ccwrong', plugin: cc({ timeout: 10_005 }) },
    { id: 'ccclock', plugin: cc({ timeout: 10_008 }) },
    { id: 'pw', plugin: pw() },
    { id: 'pwadmins', plugin: pw({ groups_required: ['admins'], timeout: 10_006 }) },
    {
      // Kong's login_action response: the password login answers with the tokens, nothing is proxied.
      id: 'pwlogin',
      plugin: pw({
        login_action: 'response',
        login_methods: ['password'],
        login_tokens: ['access_token', 'id_token'],
        timeout: 10_023,
      }),
    },
    {
      id: 'cclogin',
      plugin: cc({
        login_action: 'redirect',
        login_methods: ['client_credentials'],
        login_redirect_uri: ['https://app.example.test/done'],
        login_tokens: ['tokens'],
        timeout: 10_024,
      }),
    },
    {
      id: 'okta',
      plugin: bearerOkta({ consumer_claim: ['application_id'], consumer_by: ['custom_id'] }),
    },
    {
      id: 'discovery',
      plugin: bearerOkta({ issuer: `${okta.issuer}/.well-known/openid-configuration`, timeout: 10_009 }),
    },
    // Kong 3.14's jwks_endpoint replaces the discovered jwks_uri: the real keys, then a URL with none.
    { id: 'jwksok', plugin: bearerOkta({ jwks_endpoint: `${okta.issuer}/v1/keys`, timeout: 10_020 }) },
    { id: 'jwksbad', plugin: bearerOkta({ jwks_endpoint: `${okta.issuer}/v1/no-keys`, timeout: 10_021 }) },
    {
      // Kong 3.14's consumer_claims: the first path that names an Application wins.
      id: 'claims',
      plugin: bearerOkta({
        consumer_claims: [['no_such_claim'], ['application_id']],
        consumer_by: ['custom_id'],
      }),
    },
    {
      // A bearer token in a cookie (a browser app that keeps one); hide_credentials is the default.
      id: 'cookie',
      plugin: bearerOkta({
        bearer_token_param_type: ['cookie'],
        bearer_token_cookie_name: 'at',
        timeout: 10_022,
      }),
    },
    { id: 'scopeor', plugin: bearerOkta({ scopes_required: ['api:write', 'api:read'] }) },
    { id: 'scopeand', plugin: bearerOkta({ scopes_required: ['api:write', 'api:read openid'] }) },
    { id: 'aud', plugin: bearerOkta({ audience_required: ['api://other'] }) },
    { id: 'audok', plugin: bearerOkta({ audience_required: ['api://nope', okta.resources.jwtAudience] }) },
    { id: 'admins', plugin: bearerOkta({ groups_required: ['admins'] }) },
    {
      id: 'strict',
      plugin: bearerOkta({ consumer_claim: ['application_id'], consumer_by: ['custom_id'] }),
    },
    {
      id: 'optional',
      plugin: bearerOkta({
        consumer_claim: ['application_id'],
        consumer_by: ['custom_id'],
        consumer_optional: true,
      }),
    },
    {
      id: 'azappid',
      plugin: oidc(azure, {
        auth_methods: ['bearer'],
        consumer_claim: ['appid'],
        consumer_by: ['custom_id'],
        scopes_claim: ['roles'],
        roles_required: ['Billing.Read'],
      }),
    },
    {
      id: 'azazp',
      plugin: oidc(azure, { auth_methods: ['bearer'], consumer_claim: ['azp'], consumer_by: ['custom_id'] }),
    },
    {
      id: 'azadmin',
      plugin: oidc(azure, { auth_methods: ['bearer'], roles_required: ['Billing.Admin', 'Billing.Root'] }),
    },
    {
      id: 'ping',
      plugin: oidc(ping, {
        auth_methods: ['bearer'],
        consumer_claim: ['client_id'],
        consumer_by: ['custom_id'],
        scopes_required: ['api:read'],
      }),
    },
    {
      id: 'intro',
      plugin: oidc(okta, {
        auth_methods: ['introspection'],
        consumer_claim: ['application_id'],
        consumer_by: ['custom_id'],
        scopes_claim: ['scp'],
      }),
    },
    {
      id: 'intronocache',
      plugin: oidc(okta, { auth_methods: ['introspection'], cache_introspection: false, timeout: 10_007 }),
    },
  ]);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

async function oktaToken(clientId = 'app-billing', secret = BILLING_SECRET, scope = 'api:read') {
  const res = await okta.clientCredentials(clientId, secret, scope);
  expect(res.status, JSON.stringify(res)).toBe(200);
  return res.access_token!;
}

describe('client credentials', () => {
  it('exchanges Basic credentials and sends the IdP token and identity upstream', async () => {
    const res = await call(fx, '/cc/basic', {
      headers: { authorization: basic('app-billing', BILLING_SECRET) },
    });
    const seen = upstreamSaw(res);
    expect(seen.headers).toMatchObject({
      'x-consumer-id': 'billing/billing',
      'x-consumer-custom-id': 'app-billing',
      'x-consumer-username': 'billing/billing',
      'x-credential-identifier': 'app-billing',
      'x-authenticated-scope': 'api:read',
      'x-okta-cid': 'app-billing',
      'x-okta-ver': '1',
    });
    // The upstream gets the access token the IdP issued, not the caller's Basic credentials.
    expect(upstreamToken(seen)).toMatchObject({ iss: okta.issuer, application_id: 'app-billing' });
  });

  it('upstream_headers (Kong 3.14) sets a header from a claim path; the client cannot set it', async () => {
    const res = await call(fx, '/ccpath/basic', {
      headers: { authorization: basic('app-billing', BILLING_SECRET), 'x-okta-cid': 'forged' },
    });
    expect(upstreamSaw(res).headers['x-okta-cid']).toBe('app-billing');
  });

  it('takes client_id/client_secret from a form body, and passes them on without hide_credentials', async () => {
    const res = await postForm(fx, '/cc/form', {
      client_id: 'app-billing',
      client_secret: BILLING_SECRET,
      keep: 'me',
    });
    const seen = upstreamSaw(res);
    expect(seen.headers['x-consumer-custom-id']).toBe('app-billing');
    expect(new URLSearchParams(seen.body).get('client_secret')).toBe(BILLING_SECRET);
    expect(new URLSearchParams(seen.body).get('keep')).toBe('me');
    expect(upstreamToken(seen).application_id).toBe('app-billing');
  });

  it('takes them from the query', async () => {
    const res = await call(fx, `/cc/query?client_id=app-billing&client_secret=${BILLING_SECRET}&keep=me`);
    const seen = upstreamSaw(res);
    expect(seen.headers['x-consumer-custom-id']).toBe('app-billing');
    expect(seen.url).toContain('client_secret=');
  });

  it('hide_credentials removes them from the header, the body and the query', async () => {
    const viaHeader = upstreamSaw(
      await call(fx, '/cchide/h', { headers: { authorization: basic('app-billing', BILLING_SECRET) } }),
    );
    expect(String(viaHeader.headers.authorization)).toMatch(/^Bearer /);
    expect(JSON.stringify(viaHeader)).not.toContain(BILLING_SECRET);

    const viaBody = upstreamSaw(
      await postForm(fx, '/cchide/b', {
        client_id: 'app-billing',
        client_secret: BILLING_SECRET,
        keep: 'me',
      }),
    );
    expect(viaBody.body).toBe('keep=me');
    expect(viaBody.headers['content-length']).toBe('7');
    expect(viaBody.headers['x-consumer-custom-id']).toBe('app-billing');

    const viaQuery = upstreamSaw(
      await call(fx, `/cchide/q?client_id=app-billing&client_secret=${BILLING_SECRET}&keep=me`),
    );
    expect(viaQuery.url).toBe('/cchide/q?keep=me');
    expect(viaQuery.headers['x-consumer-custom-id']).toBe('app-billing');
  });

  it('looks only where client_credentials_param_type says', async () => {
    const header = await call(fx, '/ccheader/x', {
      headers: { authorization: basic('app-billing', BILLING_SECRET) },
    });
    expect(header.status, header.text).toBe(200);
    const query = await call(fx, `/ccheader/x?client_id=app-billing&client_secret=${BILLING_SECRET}`);
    expect(query.status).toBe(401);
    expect(query.headers['www-authenticate']).not.toContain('error=');
    const body = await postForm(fx, '/ccheader/x', {
      client_id: 'app-billing',
      client_secret: BILLING_SECRET,
    });
    expect(body.status).toBe(401);
  });

  it('accepts a token the IdP minted in the next second while the exchange ran', async () => {
    // A fresh instance: its first request fetches discovery, the token and the keys (tens of ms),
    // started just before a second boundary so the token's `iat` is the next second.
    while (Date.now() % 1000 < 960) await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await call(fx, '/ccclock/x', {
      headers: { authorization: basic('app-billing', BILLING_SECRET) },
    });
    expect(res.status, res.text).toBe(200);
  });

  it('caches the token: once each worker has one, requests make no token call', async () => {
    const auth = { authorization: basic('app-billing', BILLING_SECRET) };
    const first = await idpCalls(okta, async () => {
      for (let i = 0; i < 4; i++) expect((await call(fx, '/cccache/x', { headers: auth })).status).toBe(200);
    });
    // One per worker at most (the cache is per worker process).
    expect(first.calls.token).toBeGreaterThanOrEqual(1);
    expect(first.calls.token).toBeLessThanOrEqual(2);
    const later = await idpCalls(okta, async () => {
      for (let i = 0; i < 6; i++) expect((await call(fx, '/cccache/x', { headers: auth })).status).toBe(200);
    });
    expect(later.calls.token).toBe(0);
  });

  it('concurrent first requests share one token call per worker (single flight)', async () => {
    const auth = { authorization: basic('app-billing', BILLING_SECRET) };
    const { result, calls } = await idpCalls(okta, () =>
      Promise.all(Array.from({ length: 10 }, () => call(fx, '/ccflight/x', { headers: auth }))),
    );
    expect(result.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(calls.token).toBeGreaterThanOrEqual(1);
    expect(calls.token).toBeLessThanOrEqual(2);
  });

  it('refuses a wrong secret with invalid_token, and does not ask the IdP again for each retry', async () => {
    const auth = { authorization: basic('app-billing', 'wrong-secret') };
    const { result, calls } = await idpCalls(okta, async () => {
      const answers = [];
      for (let i = 0; i < 8; i++) answers.push(await call(fx, '/ccwrong/x', { headers: auth }));
      return answers;
    });
    for (const res of result) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
      expect(res.headers['x-upstream-name']).toBeUndefined();
    }
    expect(calls.token).toBeGreaterThanOrEqual(1);
    expect(calls.token).toBeLessThanOrEqual(2);
  });
});

describe('password grant', () => {
  it('accepts Basic username:password and sends the user token upstream', async () => {
    const res = await call(fx, '/pw/x', { headers: { authorization: basic('alice', 'alice-password') } });
    const seen = upstreamSaw(res);
    expect(seen.headers['x-credential-identifier']).toBe('alice@example.test');
    expect(seen.headers['x-authenticated-scope']).toBe('openid profile email');
    expect(upstreamToken(seen)).toMatchObject({ sub: 'alice@example.test', groups: ['admins', 'everyone'] });
    for (const h of X_CONSUMER) expect(seen.headers[h]).toBeUndefined();
  });

  it('accepts username and password form parameters', async () => {
    const res = await postForm(fx, '/pw/x', { username: 'bob', password: 'bob-password' });
    const seen = upstreamSaw(res);
    expect(seen.headers['x-credential-identifier']).toBe('bob@example.test');
  });

  it('refuses a wrong password', async () => {
    const res = await call(fx, '/pw/x', { headers: { authorization: basic('alice', 'not-her-password') } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('applies groups_required to the user: alice (admins) passes, bob does not', async () => {
    const alice = await call(fx, '/pwadmins/x', {
      headers: { authorization: basic('alice', 'alice-password') },
    });
    expect(alice.status, alice.text).toBe(200);
    const bob = await call(fx, '/pwadmins/x', { headers: { authorization: basic('bob', 'bob-password') } });
    expect(bob.status).toBe(403);
    expect(bob.headers['x-upstream-name']).toBeUndefined();
  });
});

describe('login_action', () => {
  it('response: a password login answers with the tokens asked for, and the upstream sees nothing', async () => {
    const { username, password } = okta.users.alice!;
    const res = await call(fx, '/pwlogin/x', { headers: { authorization: basic(username, password) } });
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream-name']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<Record<string, string>>();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'id_token']);
    expect(decodeJwt(body.access_token!)).toMatchObject({ iss: okta.issuer });
    // A wrong password is refused as before, not answered with tokens.
    expect(
      (await call(fx, '/pwlogin/x', { headers: { authorization: basic(username, 'nope') } })).status,
    ).toBe(401);
  });

  it('redirect: a client credentials login goes to login_redirect_uri with the tokens in the fragment only', async () => {
    const res = await call(fx, '/cclogin/x', {
      headers: { authorization: basic('app-billing', BILLING_SECRET) },
    });
    expect(res.status).toBe(302);
    expect(res.headers['x-upstream-name']).toBeUndefined();
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}${location.search}`).toBe('https://app.example.test/done');
    const fragment = new URLSearchParams(location.hash.slice(1));
    const tokens = JSON.parse(Buffer.from(fragment.get('tokens')!, 'base64url').toString('utf8'));
    expect(tokens).toMatchObject({ token_type: 'Bearer' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: okta.issuer });
  });
});

describe('bearer JWTs', () => {
  it('okta: maps application_id to the consumer by custom_id', async () => {
    const token = await oktaToken();
    const seen = upstreamSaw(await call(fx, '/okta/x', { headers: { authorization: bearer(token) } }));
    expect(seen.headers).toMatchObject({
      'x-consumer-id': 'billing/billing',
      'x-consumer-custom-id': 'app-billing',
      'x-consumer-username': 'billing/billing',
      'x-credential-identifier': 'app-billing',
      'x-authenticated-scope': 'api:read',
      authorization: `Bearer ${token}`,
    });
  });

  it('azure: consumer from appid or azp, roles_required', async () => {
    const res = await azure.clientCredentials(
      'app-billing',
      BILLING_SECRET,
      `${azure.resources.jwt}/.default`,
    );
    expect(res.status).toBe(200);
    const auth = { authorization: bearer(res.access_token) };
    const byAppid = upstreamSaw(await call(fx, '/azappid/x', { headers: auth }));
    expect(byAppid.headers['x-consumer-custom-id']).toBe('app-billing');
    expect(byAppid.headers['x-authenticated-scope']).toBe('Billing.Read Billing.Write');
    const byAzp = upstreamSaw(await call(fx, '/azazp/x', { headers: auth }));
    expect(byAzp.headers['x-consumer-id']).toBe('billing/billing');
    const missingRole = await call(fx, '/azadmin/x', { headers: auth });
    expect(missingRole.status).toBe(403);
    expect(missingRole.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('ping: consumer from client_id, scope string', async () => {
    const res = await ping.clientCredentials('app-billing', BILLING_SECRET, 'api:read');
    const seen = upstreamSaw(
      await call(fx, '/ping/x', { headers: { authorization: bearer(res.access_token) } }),
    );
    expect(seen.headers).toMatchObject({
      'x-consumer-custom-id': 'app-billing',
      'x-authenticated-scope': 'api:read',
      authorization: bearer(res.access_token),
    });
    // An okta token is not a ping token.
    const foreign = await call(fx, '/ping/x', { headers: { authorization: bearer(await oktaToken()) } });
    expect(foreign.status).toBe(401);
  });

  it('issuer given as the discovery URL (Kong’s examples do): its tokens pass, another issuer’s do not', async () => {
    const ok = await call(fx, '/discovery/x', { headers: { authorization: bearer(await oktaToken()) } });
    expect(ok.status, ok.text).toBe(200);
    const other = await azure.clientCredentials('app-billing', BILLING_SECRET, 'api:read');
    expect(other.status, JSON.stringify(other)).toBe(200);
    const refused = await call(fx, '/discovery/x', {
      headers: { authorization: bearer(other.access_token!) },
    });
    expect(refused.status).toBe(401);
  });

  it('jwks_endpoint (Kong 3.14) is where the keys come from, instead of the discovered jwks_uri', async () => {
    const auth = { authorization: bearer(await oktaToken()) };
    const ok = await call(fx, '/jwksok/x', { headers: auth });
    expect(ok.status, ok.text).toBe(200);
    // Discovery still names good keys; only the override being used explains a failure here.
    const bad = await call(fx, '/jwksbad/x', { headers: auth });
    expect(bad.status, bad.text).toBe(503);
    expect(bad.json()).toMatchObject({ error: 'PCS_IDP_UNAVAILABLE' });
  });

  it('consumer_claims (Kong 3.14) tries its paths in order; an unmapped caller is refused', async () => {
    const seen = upstreamSaw(
      await call(fx, '/claims/x', { headers: { authorization: bearer(await oktaToken()) } }),
    );
    expect(seen.headers['x-consumer-id']).toBe('billing/billing');
    const other = await oktaToken('app-other', 'app-other-secret');
    const refused = await call(fx, '/claims/x', { headers: { authorization: bearer(other) } });
    expect(refused.status).toBe(403);
  });

  describe('bearer_token_param_type cookie', () => {
    it('takes the token from the named cookie and keeps it, not the other cookies, from the upstream', async () => {
      const token = await oktaToken();
      const seen = upstreamSaw(
        await call(fx, '/cookie/x', { headers: { cookie: `theme=dark; at=${token}` } }),
      );
      expect(seen.headers.cookie).toBe('theme=dark');
      expect(seen.headers['x-credential-identifier']).toBe('app-billing');
    });

    it('looks nowhere else: a header token is not enough', async () => {
      const token = await oktaToken();
      expect((await call(fx, '/cookie/x', { headers: { authorization: bearer(token) } })).status).toBe(401);
    });

    it('refuses a cross-site POST carrying the cookie (CSRF), allows a same-origin one', async () => {
      const token = await oktaToken();
      const post = (headers: Record<string, string>) =>
        call(fx, '/cookie/x', { method: 'POST', headers: { cookie: `at=${token}`, ...headers }, body: '' });
      expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      expect((await post({ origin: 'https://evil.example.test' })).status).toBe(403);
      expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
      // No browser headers: not something another site can cause.
      expect((await post({})).status).toBe(200);
    });

    it('refuses a cross-site WebSocket handshake carrying the cookie (a GET whose answer the page reads)', async () => {
      const token = await oktaToken();
      const upgrade = {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      };
      const res = await call(fx, '/cookie/x', {
        headers: {
          cookie: `at=${token}`,
          origin: 'https://evil.example.test',
          'sec-fetch-site': 'cross-site',
          ...upgrade,
        },
      });
      expect(res.status).toBe(403);
      const sameSite = await call(fx, '/cookie/x', {
        headers: { cookie: `at=${token}`, 'sec-fetch-site': 'same-site', ...upgrade },
      });
      expect(sameSite.status).toBe(403);
    });

    it('refuses two cookies of that name (400), a forged token (401)', async () => {
      const token = await oktaToken();
      expect((await call(fx, '/cookie/x', { headers: { cookie: `at=${token}; at=${token}` } })).status).toBe(
        400,
      );
      expect((await call(fx, '/cookie/x', { headers: { cookie: 'at=a.b.c' } })).status).toBe(401);
    });
  });

  it('scopes_required: alternatives are ORed, scopes within one are ANDed', async () => {
    const auth = { authorization: bearer(await oktaToken()) };
    expect((await call(fx, '/scopeor/x', { headers: auth })).status).toBe(200);
    const missing = await call(fx, '/scopeand/x', { headers: auth });
    expect(missing.status).toBe(403);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect(missing.json()).toEqual({ message: 'Forbidden' });
  });

  it('audience_required: a mismatch is 401 invalid_token, a match passes', async () => {
    const auth = { authorization: bearer(await oktaToken()) };
    const wrong = await call(fx, '/aud/x', { headers: auth });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((await call(fx, '/audok/x', { headers: auth })).status).toBe(200);
  });

  it('groups_required on a password-grant user token: alice passes, bob is 403', async () => {
    const alice = await okta.password('alice', 'alice-password');
    const bob = await okta.password('bob', 'bob-password');
    const a = await call(fx, '/admins/x', { headers: { authorization: bearer(alice.access_token) } });
    expect(a.status, a.text).toBe(200);
    expect(upstreamSaw(a).headers['x-credential-identifier']).toBe('alice@example.test');
    const b = await call(fx, '/admins/x', { headers: { authorization: bearer(bob.access_token) } });
    expect(b.status).toBe(403);
  });

  it('consumer_optional false refuses an unknown client with 403; true lets it through anonymously', async () => {
    const other = await oktaToken('app-other', 'app-other-secret');
    const strict = await call(fx, '/strict/x', { headers: { authorization: bearer(other) } });
    expect(strict.status).toBe(403);
    expect(strict.headers['x-upstream-name']).toBeUndefined();
    const seen = upstreamSaw(await call(fx, '/optional/x', { headers: { authorization: bearer(other) } }));
    for (const h of X_CONSUMER) expect(seen.headers[h]).toBeUndefined();
    expect(seen.headers['x-credential-identifier']).toBe('app-other');
    // A known client on the optional route is still mapped.
    const known = upstreamSaw(
      await call(fx, '/optional/x', { headers: { authorization: bearer(await oktaToken()) } }),
    );
    expect(known.headers['x-consumer-custom-id']).toBe('app-billing');
  });

  it('accepts an access token from the implicit flow', async () => {
    const implicit = await okta.implicitLogin(okta.implicitAuthorizationUrl({ scope: 'openid profile' }), {
      username: 'alice',
      password: 'alice-password',
    });
    expect(implicit.error).toBeUndefined();
    const seen = upstreamSaw(
      await call(fx, '/admins/x', { headers: { authorization: bearer(implicit.access_token) } }),
    );
    expect(seen.headers['x-credential-identifier']).toBe('alice@example.test');
    // The ID token from the same response is not an access token.
    const idToken = await call(fx, '/admins/x', { headers: { authorization: bearer(implicit.id_token) } });
    expect(idToken.status).toBe(401);
  });
});

describe('introspection', () => {
  async function opaqueToken() {
    const res = await okta.clientCredentials('app-opaque', 'app-opaque-secret', 'api:read');
    expect(res.status).toBe(200);
    expect(res.access_token!.split('.')).toHaveLength(1);
    return res.access_token!;
  }

  it('accepts an active opaque token and caches the answer', async () => {
    const auth = { authorization: bearer(await opaqueToken()) };
    const first = await idpCalls(okta, async () => {
      for (let i = 0; i < 4; i++) {
        const seen = upstreamSaw(await call(fx, '/intro/x', { headers: auth }));
        expect(seen.headers).toMatchObject({
          'x-consumer-custom-id': 'app-opaque',
          'x-authenticated-scope': 'api:read',
          authorization: auth.authorization,
        });
      }
    });
    expect(first.calls.introspection).toBeGreaterThanOrEqual(1);
    expect(first.calls.introspection).toBeLessThanOrEqual(2);
    const later = await idpCalls(okta, async () => {
      for (let i = 0; i < 4; i++) expect((await call(fx, '/intro/x', { headers: auth })).status).toBe(200);
    });
    expect(later.calls.introspection).toBe(0);
  });

  it('refuses a revoked token (introspection cache off)', async () => {
    const token = await opaqueToken();
    expect((await call(fx, '/intronocache/x', { headers: { authorization: bearer(token) } })).status).toBe(
      200,
    );
    const metadata = (await (await fetch(okta.discoveryUrl)).json()) as { revocation_endpoint: string };
    const revoke = await fetch(metadata.revocation_endpoint, {
      method: 'POST',
      headers: {
        authorization: basic('app-opaque', 'app-opaque-secret'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoke.status).toBe(200);
    const after = await call(fx, '/intronocache/x', { headers: { authorization: bearer(token) } });
    expect(after.status).toBe(401);
    expect(after.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses a token the IdP does not know', async () => {
    const res = await call(fx, '/intro/x', { headers: { authorization: 'Bearer not-a-real-token' } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});

describe('metrics', () => {
  it('counts decisions, IdP requests and cache lookups with bounded labels', async () => {
    const samples = await metrics(fx);
    expect(
      sumOf(samples, 'portcullis_oidc_auth_decisions_total', {
        route: 'cc',
        plugin: 'test/cc',
        method: 'client_credentials',
        outcome: 'allowed',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sumOf(samples, 'portcullis_oidc_auth_decisions_total', {
        route: 'okta',
        method: 'bearer',
        outcome: 'allowed',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sumOf(samples, 'portcullis_oidc_auth_decisions_total', { route: 'scopeand', outcome: 'scopes' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sumOf(samples, 'portcullis_oidc_auth_decisions_total', {
        route: 'intro',
        method: 'introspection',
        outcome: 'allowed',
      }),
    ).toBeGreaterThanOrEqual(8);
    for (const endpoint of ['discovery', 'jwks', 'token', 'introspection']) {
      expect(
        sumOf(samples, 'portcullis_oidc_idp_requests_total', {
          issuer: okta.issuer,
          endpoint,
          outcome: 'ok',
        }),
        endpoint,
      ).toBeGreaterThanOrEqual(1);
    }
    expect(
      sumOf(samples, 'portcullis_oidc_idp_requests_total', { issuer: azure.issuer }),
    ).toBeGreaterThanOrEqual(2);
    for (const [cache, result] of [
      ['grant', 'hit'],
      ['grant', 'miss'],
      ['introspection', 'hit'],
      ['introspection', 'miss'],
    ] as const) {
      expect(
        sumOf(samples, 'portcullis_oidc_cache_lookups_total', { cache, result }),
        `${cache} ${result}`,
      ).toBeGreaterThan(0);
    }
    // No token, secret or user name ends up in a label.
    const labels = samplesOf(samples, 'portcullis_oidc_auth_decisions_total').flatMap((s) =>
      Object.values(s.labels),
    );
    expect(labels.join(' ')).not.toMatch(/secret|alice|eyJ/);
  });
});

/**
 * Proves each capability of the test IdP against each profile, so the
 * proxy's end-to-end and attack tests can rely on it: discovery, token shapes
 * per profile, password grant, opaque tokens + introspection, code + PKCE
 * through the login page (openid-client as the RP), implicit, key rotation,
 * outages, request counts and JWT forging.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import * as client from 'openid-client';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type IdpProfile, type TestIdp } from '../../demo/idp/test-idp.js';

const CALLBACK = 'http://127.0.0.1:1/callback';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

async function jwksOf(idp: TestIdp): Promise<JSONWebKeySet> {
  const { body } = await getJson(idp.discoveryUrl);
  return (await getJson(String(body.jwks_uri))).body as unknown as JSONWebKeySet;
}

async function verify(idp: TestIdp, token: string, audience = idp.resources.jwtAudience) {
  return jwtVerify(token, createLocalJWKSet(await jwksOf(idp)), { issuer: idp.issuer, audience });
}

const ISSUER_PATH: Record<IdpProfile, RegExp> = {
  okta: /^http:\/\/127\.0\.0\.1:\d+\/oauth2\/default$/,
  azure: /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/v2\.0$/,
  ping: /^http:\/\/127\.0\.0\.1:\d+\/as$/,
  keycloak: /^http:\/\/127\.0\.0\.1:\d+\/realms\/kong-compat$/,
};

describe.each<IdpProfile>(['okta', 'azure', 'ping', 'keycloak'])('test IdP, %s profile', (profile) => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startTestIdp({ profile, redirectUris: [CALLBACK], postLogoutRedirectUris: [CALLBACK] });
  });
  afterAll(async () => {
    await idp?.stop();
  });

  it('serves discovery at <issuer>/.well-known/openid-configuration', async () => {
    expect(idp.issuer).toMatch(ISSUER_PATH[profile]);
    const { status, body } = await getJson(idp.discoveryUrl);
    expect(status).toBe(200);
    expect(body.issuer).toBe(idp.issuer);
    for (const key of [
      'jwks_uri',
      'token_endpoint',
      'authorization_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
      'userinfo_endpoint',
    ]) {
      expect(String(body[key]), key).toMatch(new RegExp(`^${idp.issuer}/`));
    }
    expect(body.authorization_response_iss_parameter_supported).toBe(true);
    expect(body.code_challenge_methods_supported).toEqual(['S256']);
    expect(body.grant_types_supported).toEqual(
      expect.arrayContaining([
        'authorization_code',
        'client_credentials',
        'password',
        'implicit',
        'refresh_token',
      ]),
    );
    expect(body.response_types_supported).toEqual(expect.arrayContaining(['code', 'id_token token']));
    expect(body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(body.id_token_signing_alg_values_supported).toContain('RS256');

    const jwks = await jwksOf(idp);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: idp.currentKey().kid });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('issues client-credentials JWTs shaped like the profile', async () => {
    const scope = profile === 'azure' ? `${idp.resources.jwt}/.default` : 'api:read';
    const res = await idp.clientCredentials('app-billing', 'app-billing-secret', scope);
    expect(res.status).toBe(200);
    expect(res.token_type).toBe('Bearer');
    const { payload, protectedHeader } = await verify(idp, res.access_token!);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: idp.currentKey().kid });
    expect(payload.iss).toBe(idp.issuer);
    if (profile === 'okta') {
      expect(payload).toMatchObject({
        aud: 'api://default',
        application_id: 'app-billing',
        cid: 'app-billing',
        scp: ['api:read'],
        sub: 'app-billing',
      });
      expect(payload).not.toHaveProperty('scope');
      expect(payload).not.toHaveProperty('client_id');
    } else if (profile === 'azure') {
      expect(payload).toMatchObject({
        azp: 'app-billing',
        appid: 'app-billing',
        tid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        ver: '2.0',
        roles: ['Billing.Read', 'Billing.Write'],
      });
      expect(payload.sub).toBe(payload.oid);
      expect(payload).not.toHaveProperty('scp');
      expect(payload).not.toHaveProperty('scope');
    } else if (profile === 'keycloak') {
      expect(payload).toMatchObject({
        azp: 'app-billing',
        scope: 'api:read',
        aud: 'account',
        preferred_username: 'service-account-app-billing',
      });
    } else {
      expect(payload).toMatchObject({
        client_id: 'app-billing',
        scope: 'api:read',
        aud: 'https://api.portcullis.test',
      });
    }

    const wrong = await idp.clientCredentials('app-billing', 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.error).toBe('invalid_client');
  });

  it('accepts client_secret_post as well as client_secret_basic, and counts which one came', async () => {
    const tokenEndpoint = String((await getJson(idp.discoveryUrl)).body.token_endpoint);
    const before = idp.requestCounts();
    const res = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'gateway',
        client_secret: 'gateway-secret',
      }).toString(),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string };
    expect(decodeJwt(body.access_token).aud).toBe(idp.resources.jwtAudience);
    await idp.clientCredentials('app-billing', 'app-billing-secret');
    const after = idp.requestCounts();
    expect(after.client_secret_post - before.client_secret_post).toBe(1);
    expect(after.client_secret_basic - before.client_secret_basic).toBe(1);
  });

  it('supports the password grant with good and bad credentials', async () => {
    const good = await idp.password('alice', 'alice-password', 'openid profile email groups api:read');
    expect(good.status).toBe(200);
    const { payload } = await verify(idp, good.access_token!);
    const idToken = decodeJwt(good.id_token!);
    expect(idToken).toMatchObject({
      iss: idp.issuer,
      aud: 'gateway',
      sub: idp.users.alice!.sub,
      email: 'alice@example.test',
      preferred_username: 'alice',
      groups: ['admins', 'everyone'],
    });
    expect(typeof idToken.at_hash).toBe('string');
    if (profile === 'okta') {
      expect(payload).toMatchObject({
        sub: 'alice@example.test',
        uid: idp.users.alice!.sub,
        cid: 'gateway',
        application_id: 'gateway',
      });
      expect(payload.scp).toEqual(expect.arrayContaining(['openid', 'api:read']));
    } else if (profile === 'azure') {
      expect(payload).toMatchObject({
        azp: 'gateway',
        scp: 'api:read',
        preferred_username: 'alice@example.test',
        groups: ['admins', 'everyone'],
      });
    } else if (profile === 'keycloak') {
      expect(payload).toMatchObject({
        azp: 'gateway',
        preferred_username: 'alice',
        email: 'alice@example.test',
        sub: idp.users.alice!.sub,
      });
      expect(String(payload.scope).split(' ')).toEqual(expect.arrayContaining(['openid', 'api:read']));
    } else {
      expect(payload).toMatchObject({ client_id: 'gateway', username: 'alice', sub: idp.users.alice!.sub });
      expect(String(payload.scope).split(' ')).toEqual(expect.arrayContaining(['openid', 'api:read']));
    }

    const bad = await idp.password('alice', 'wrong');
    expect(bad).toMatchObject({ status: 400, error: 'invalid_grant' });
    const unknown = await idp.password('mallory', 'x');
    expect(unknown).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('issues opaque tokens that only introspection can resolve', async () => {
    const res = await idp.clientCredentials('app-opaque', 'app-opaque-secret', 'api:read');
    expect(res.status).toBe(200);
    const opaque = res.access_token!;
    expect(opaque.split('.')).toHaveLength(1);

    const active = await idp.introspect(opaque);
    expect(active).toMatchObject({
      active: true,
      client_id: 'app-opaque',
      scope: 'api:read',
      iss: idp.issuer,
      aud: idp.resources.opaque,
    });
    if (profile === 'okta') expect(active).toMatchObject({ application_id: 'app-opaque', cid: 'app-opaque' });
    if (profile === 'azure') expect(active).toMatchObject({ azp: 'app-opaque', roles: ['Opaque.Read'] });

    // Explicit resource indicator: the gateway can ask for an opaque token too.
    const explicit = await idp.clientCredentials(
      'gateway',
      'gateway-secret',
      'api:read',
      idp.resources.opaque,
    );
    expect((await idp.introspect(explicit.access_token!)).active).toBe(true);

    expect(await idp.introspect('not-a-token')).toEqual({ active: false });

    // Client authentication is required.
    const introspectionEndpoint = String((await getJson(idp.discoveryUrl)).body.introspection_endpoint);
    const anon = await fetch(introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: opaque }).toString(),
    });
    expect(anon.status).toBe(400);
    const badAuth = await idp.introspect(opaque, { clientId: 'gateway', clientSecret: 'nope' });
    expect(badAuth.error).toBe('invalid_client');

    // Revoked: inactive.
    const revocationEndpoint = String((await getJson(idp.discoveryUrl)).body.revocation_endpoint);
    const revoke = await fetch(revocationEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('app-opaque:app-opaque-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: opaque }).toString(),
    });
    expect(revoke.status).toBe(200);
    expect(await idp.introspect(opaque)).toEqual({ active: false });
  });

  it('completes authorization code + PKCE through the login page (openid-client as RP)', async () => {
    const config = await client.discovery(
      new URL(idp.issuer),
      'gateway',
      undefined,
      client.ClientSecretBasic('gateway-secret'),
      {
        execute: [client.allowInsecureRequests],
      },
    );
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email groups api:read',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const { callbackUrl } = await idp.completeLogin(url, { username: 'bob', password: 'bob-password' });
    const cb = new URL(callbackUrl);
    expect(`${cb.origin}${cb.pathname}`).toBe(CALLBACK);
    expect(cb.searchParams.get('iss')).toBe(idp.issuer); // RFC 9207
    expect(cb.searchParams.get('code')).toBeTruthy();

    const tokens = await client.authorizationCodeGrant(config, cb, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.claims()).toMatchObject({
      sub: idp.users.bob!.sub,
      email: 'bob@example.test',
      groups: ['developers', 'everyone'],
    });
    const { payload } = await verify(idp, tokens.access_token);
    if (profile === 'okta')
      expect(payload).toMatchObject({
        sub: 'bob@example.test',
        cid: 'gateway',
        groups: ['developers', 'everyone'],
      });
    if (profile === 'azure') expect(payload).toMatchObject({ azp: 'gateway', scp: 'api:read', ver: '2.0' });
    if (profile === 'ping') expect(payload).toMatchObject({ client_id: 'gateway', username: 'bob' });

    // Wrong password: the login page says so and completeLogin rejects.
    const again = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    await expect(idp.completeLogin(again, { username: 'bob', password: 'nope' })).rejects.toThrow(
      /login rejected/,
    );
  });

  it('requires PKCE (S256) from the public SPA client', async () => {
    const authorize = String((await getJson(idp.discoveryUrl)).body.authorization_endpoint);
    const url = new URL(authorize);
    url.search = new URLSearchParams({
      client_id: 'spa',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      state: 's',
    }).toString();
    const { callbackUrl } = await idp.completeLogin(url, { username: 'alice', password: 'alice-password' });
    const cb = new URL(callbackUrl);
    expect(cb.searchParams.get('error')).toBe('invalid_request');
    expect(cb.searchParams.get('error_description')).toMatch(/PKCE/);

    url.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    url.searchParams.set('code_challenge_method', 'S256');
    const ok = new URL(
      (await idp.completeLogin(url, { username: 'alice', password: 'alice-password' })).callbackUrl,
    );
    expect(ok.searchParams.get('code')).toBeTruthy();
  });

  it('supports the implicit flow (id_token token) with tokens in the fragment', async () => {
    const result = await idp.implicitLogin(
      idp.implicitAuthorizationUrl({ state: 'st-1', nonce: 'n-1', scope: 'openid profile api:read' }),
      {
        username: 'alice',
        password: 'alice-password',
      },
    );
    expect(result.error).toBeUndefined();
    expect(result.state).toBe('st-1');
    // RFC 9207 §2.4: with an ID token in the response, `iss` is that token's claim.
    expect(result.iss).toBeUndefined();
    expect(result.token_type).toBe('Bearer');
    const idToken = decodeJwt(result.id_token!);
    expect(idToken).toMatchObject({ iss: idp.issuer, aud: 'spa', nonce: 'n-1', sub: idp.users.alice!.sub });
    expect(typeof idToken.at_hash).toBe('string');
    const { payload } = await verify(idp, result.access_token!);
    if (profile === 'okta') expect(payload).toMatchObject({ cid: 'spa', application_id: 'spa' });
    if (profile === 'azure') expect(payload).toMatchObject({ azp: 'spa', azpacr: '0' });
    if (profile === 'ping') expect(payload).toMatchObject({ client_id: 'spa' });
  });

  it('rotates signing keys, with and without keeping the old one', async () => {
    const before = await idp.clientCredentials('app-other', 'app-other-secret');
    const oldKid = decodeProtectedHeader(before.access_token!).kid;
    expect(oldKid).toBe(idp.currentKey().kid);

    const fresh = await idp.rotateKeys({ keepOld: true });
    expect(fresh.kid).not.toBe(oldKid);
    let kids = (await jwksOf(idp)).keys.map((k) => k.kid);
    expect(kids).toEqual([fresh.kid, oldKid]);
    const after = await idp.clientCredentials('app-other', 'app-other-secret');
    expect(decodeProtectedHeader(after.access_token!).kid).toBe(fresh.kid);
    await verify(idp, before.access_token!); // old token still verifiable during the grace period
    await verify(idp, after.access_token!);

    await idp.retireOldKeys();
    kids = (await jwksOf(idp)).keys.map((k) => k.kid);
    expect(kids).toEqual([fresh.kid]);
    await expect(verify(idp, before.access_token!)).rejects.toThrow();

    const third = await idp.rotateKeys();
    kids = (await jwksOf(idp)).keys.map((k) => k.kid);
    expect(kids).toEqual([third.kid]);
    expect(idp.signingKeys().map((k) => k.kid)).toEqual([third.kid]);
    await expect(verify(idp, after.access_token!)).rejects.toThrow();
    // Sessions survive the Provider rebuild a rotation implies.
    expect((await idp.password('bob', 'bob-password')).status).toBe(200);
  });

  it('counts requests by endpoint', async () => {
    idp.resetCounts();
    await jwksOf(idp);
    await jwksOf(idp);
    await idp.clientCredentials('app-other', 'app-other-secret');
    await idp.introspect('x');
    const endSession = String((await getJson(idp.discoveryUrl)).body.end_session_endpoint);
    expect((await fetch(endSession)).status).toBe(200); // the logout confirmation form
    expect(idp.requestCounts()).toMatchObject({
      discovery: 3,
      jwks: 2,
      token: 1,
      introspection: 1,
      end_session: 1,
      authorization: 0,
    });
    idp.resetCounts();
    expect(idp.requestCounts().jwks).toBe(0);
  });
});

describe('test IdP outages and forging', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp({ profile: 'okta' });
  });
  afterAll(async () => {
    await idp?.stop();
  });

  it('answers 503 everywhere while down (http-503), and recovers', async () => {
    const jwksUri = String((await getJson(idp.discoveryUrl)).body.jwks_uri);
    await idp.setDown(true);
    expect(idp.isDown).toBe(true);
    idp.resetCounts();
    expect((await getJson(idp.discoveryUrl)).status).toBe(503);
    expect((await getJson(jwksUri)).status).toBe(503);
    expect((await idp.clientCredentials('app-billing', 'app-billing-secret')).status).toBe(503);
    expect(idp.requestCounts()).toMatchObject({ discovery: 1, jwks: 1, token: 1 });
    await idp.setDown(false);
    expect((await getJson(jwksUri)).status).toBe(200);
  });

  it('refuses connections in refuse mode and hangs in hang mode', async () => {
    await idp.setDown(true, 'refuse');
    await expect(fetch(idp.discoveryUrl)).rejects.toThrow();
    await idp.setDown(false);
    expect((await getJson(idp.discoveryUrl)).status).toBe(200);

    await idp.setDown(true, 'hang');
    await expect(fetch(idp.discoveryUrl, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    await idp.setDown(false);
    expect((await getJson(idp.discoveryUrl)).status).toBe(200);
  });

  it('signs arbitrary JWTs for attack tests', async () => {
    const jwks = createLocalJWKSet(await jwksOf(idp));
    const claims = idp.accessTokenClaims('app-billing');
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: 'api://default',
      cid: 'app-billing',
      application_id: 'app-billing',
    });

    // Default: current key, valid.
    const valid = idp.signJwt(claims);
    expect((await jwtVerify(valid, jwks, { issuer: idp.issuer })).payload.cid).toBe('app-billing');

    // Custom headers are carried verbatim.
    const jku = idp.signJwt(claims, { header: { jku: 'http://evil.test/jwks', kid: 'random-kid' } });
    expect(decodeProtectedHeader(jku)).toMatchObject({
      alg: 'RS256',
      jku: 'http://evil.test/jwks',
      kid: 'random-kid',
    });

    // alg none: empty signature.
    const none = idp.signJwt(claims, { header: { alg: 'none', kid: undefined } });
    expect(none.endsWith('.')).toBe(true);
    expect(decodeProtectedHeader(none)).toEqual({ alg: 'none', typ: 'JWT' });

    // HS256 keyed with the RSA public key PEM (alg confusion).
    const pem = idp.currentKey().publicKeyPem;
    const hs = idp.signJwt(claims, { header: { alg: 'HS256' }, key: pem });
    const [h, p, s] = hs.split('.');
    expect(createHmac('sha256', pem).update(`${h}.${p}`).digest('base64url')).toBe(s);

    // Embedded jwk header with an attacker key.
    const { generateKeyPairSync } = await import('node:crypto');
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const embedded = idp.signJwt(claims, {
      header: { jwk: createPublicKey(attacker.privateKey).export({ format: 'jwk' }) },
      key: attacker.privateKey,
    });
    await expect(jwtVerify(embedded, jwks)).rejects.toThrow();

    expect(idp.signingKeys()[0]).toMatchObject({
      current: true,
      alg: 'RS256',
      publicJwk: { kty: 'RSA', kid: idp.currentKey().kid },
    });
  });

  it('lets a test set the redirect URIs once the proxy port is known', async () => {
    const cb = 'http://127.0.0.1:9/late/callback';
    idp.setRedirectUris('gateway', [cb]);
    const authorize = String((await getJson(idp.discoveryUrl)).body.authorization_endpoint);
    const url = new URL(authorize);
    url.search = new URLSearchParams({
      client_id: 'gateway',
      response_type: 'code',
      redirect_uri: cb,
      scope: 'openid',
      state: 's',
    }).toString();
    const { callbackUrl } = await idp.completeLogin(url, { username: 'alice', password: 'alice-password' });
    expect(callbackUrl.startsWith(`${cb}?code=`)).toBe(true);
  });
});

describe('test IdP over TLS', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp({ profile: 'ping', tls: true });
  });
  afterAll(async () => {
    await idp?.stop();
  });

  it('serves HTTPS with a self-signed certificate the caller can trust', async () => {
    expect(idp.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/as$/);
    expect(idp.caPem).toMatch(/BEGIN CERTIFICATE/);
    await expect(fetch(idp.discoveryUrl)).rejects.toThrow();
    const dispatcher = new Agent({ connect: { ca: idp.caPem } });
    try {
      const res = await fetch(idp.discoveryUrl, { dispatcher });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { issuer: string }).issuer).toBe(idp.issuer);
    } finally {
      await dispatcher.close();
    }
    const token = await idp.clientCredentials('app-billing', 'app-billing-secret', 'api:read');
    expect(decodeJwt(token.access_token!)).toMatchObject({ iss: idp.issuer, client_id: 'app-billing' });
  });
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('test IdP driven by a real headless Chromium', () => {
  let idp: TestIdp;
  let rp: Server;
  let callback: string;
  beforeAll(async () => {
    rp = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached'),
    );
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    callback = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/callback`;
    idp = await startTestIdp({ profile: 'azure', redirectUris: [callback] });
  });
  afterAll(async () => {
    await idp?.stop();
    rp?.closeAllConnections();
    await new Promise((resolve) => rp?.close(resolve));
  });

  it('logs in through the HTML form and lands on the client callback (implicit)', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(idp.implicitAuthorizationUrl({ state: 'browser', redirectUri: callback }));
      await page.fill('input[name=login]', 'alice');
      await page.fill('input[name=password]', 'alice-password');
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(callback)),
        page.click('button[type=submit]'),
      ]);
      const fragment = new URLSearchParams(new URL(page.url()).hash.slice(1));
      expect(fragment.get('state')).toBe('browser');
      expect(decodeJwt(fragment.get('access_token')!)).toMatchObject({ azp: 'spa', tid: expect.any(String) });
    } finally {
      await browser.close();
    }
  });
});

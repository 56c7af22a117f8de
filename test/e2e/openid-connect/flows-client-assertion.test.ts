/**
 * openid-connect end to end, client authentication by signed assertion
 * (`client_auth: client_secret_jwt | private_key_jwt`, RFC 7523): the IdP
 * clients here accept nothing else, so every 200 shows the assertion was
 * made and accepted. A wrong key or secret is refused by the IdP, and the
 * proxy answers as it does for a wrong client secret.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JWK_PRIVATE_MEMBERS } from '../../../contract/plugins/client-jwk.js';
import type { Jwk } from '../../../contract/plugins/openid-connect.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import {
  basic,
  bearer,
  call,
  cookieFrom,
  idpCalls,
  startFixture,
  upstreamSaw,
  type Fixture,
  type TestIdp,
} from './fixture.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };
// oidc-provider wants an HS256 secret of at least 32 bytes.
const HS_SECRET = 'gateway-hs-secret-0123456789-0123456789-0123456789';
const APP_JWT_SECRET = 'app-jwt-secret-0123456789-0123456789-0123456789-abc';

function rsaKey(kid: string): { priv: Jwk; pub: Jwk } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    priv: { ...(privateKey.export({ format: 'jwk' }) as Jwk), kid },
    pub: { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, use: 'sig', alg: 'RS256' },
  };
}

const GATEWAY_KEY = rsaKey('gateway-pk-1');
// Another valid key, not registered at the IdP.
const WRONG_KEY = rsaKey('gateway-pk-1');
const EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EC_PRIV = { ...(EC.privateKey.export({ format: 'jwk' }) as Jwk), kid: 'gateway-ec-1' };

let fx: Fixture;
let idp: TestIdp;

beforeAll(async () => {
  fx = await startFixture({
    okta: {
      profile: 'okta',
      // Added next to the default clients, which stay as they are.
      clients: [
        {
          clientId: 'gateway-pk',
          kind: 'gateway',
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: {
            keys: [
              GATEWAY_KEY.pub,
              { ...(EC.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'gateway-ec-1' },
            ],
          },
          grantTypes: ['authorization_code', 'password', 'client_credentials'],
          responseTypes: ['code'],
        },
        {
          clientId: 'gateway-hs',
          clientSecret: HS_SECRET,
          kind: 'gateway',
          tokenEndpointAuthMethod: 'client_secret_jwt',
          grantTypes: ['password'],
        },
        {
          clientId: 'app-jwt',
          clientSecret: APP_JWT_SECRET,
          tokenEndpointAuthMethod: 'client_secret_jwt',
          grantTypes: ['client_credentials'],
        },
        {
          // A caller's client registered with the gateway's public key: the gateway's key must never
          // sign for it, or anyone knowing its id would get its tokens.
          clientId: 'app-borrows-key',
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [GATEWAY_KEY.pub] },
          grantTypes: ['client_credentials'],
        },
      ],
    },
  });
  idp = fx.idps.okta!;
  const { origin } = fx;
  idp.setRedirectUris('gateway-pk', [`${origin}/pkweb/cb`]);
  const base = { issuer: idp.issuer, scopes_claim: ['scp'] };
  const pk = (overrides: Record<string, unknown>) => ({
    ...base,
    client_id: ['gateway-pk'],
    client_auth: ['private_key_jwt'],
    client_jwk: [GATEWAY_KEY.priv],
    ...overrides,
  });
  const hs = (overrides: Record<string, unknown>) => ({
    ...base,
    client_id: ['gateway-hs'],
    client_secret: [HS_SECRET],
    client_auth: ['client_secret_jwt'],
    ...overrides,
  });
  const password = { auth_methods: ['password'], scopes: ['openid', 'profile', 'email'] };
  const cc = { auth_methods: ['client_credentials'], scopes: ['api:read'] };
  await fx.push([
    // client_secret_jwt: the caller's own secret signs the assertion for its client id.
    { id: 'hscc', plugin: hs(cc) },
    // The control: a wrong secret with Basic, as every other route sends it.
    {
      id: 'basiccc',
      plugin: { ...base, client_id: ['gateway'], client_secret: ['gateway-secret'], ...cc },
    },
    // client_secret_jwt for the proxy's own client (password grant).
    { id: 'hspw', plugin: hs(password) },
    { id: 'hspwwrong', plugin: hs({ ...password, client_secret: ['not-the-secret-0123456789-0123456789'] }) },
    // private_key_jwt for the proxy's own client: password grant, introspection, code flow, revocation.
    { id: 'pkpw', plugin: pk(password) },
    { id: 'pkpwec', plugin: pk({ ...password, client_jwk: [EC_PRIV] }) },
    { id: 'pkpwwrong', plugin: pk({ ...password, client_jwk: [WRONG_KEY.priv] }) },
    {
      id: 'basicpwwrong',
      plugin: { ...base, client_id: ['gateway'], client_secret: ['not-the-secret'], ...password },
    },
    { id: 'pkintro', plugin: pk({ auth_methods: ['introspection'], cache_introspection: false }) },
    {
      id: 'pkintrowrong',
      plugin: pk({
        auth_methods: ['introspection'],
        client_jwk: [WRONG_KEY.priv],
        cache_introspection: false,
      }),
    },
    { id: 'pkcc', plugin: pk(cc) },
    {
      id: 'pkweb',
      plugin: pk({
        auth_methods: ['authorization_code', 'session'],
        scopes: ['openid', 'profile', 'email'],
        redirect_uri: [`${origin}/pkweb/cb`],
        session_secret: 'client-assertion-session-secret-0123456789',
        logout_uri_suffix: '/logout',
        logout_methods: ['POST'],
        logout_revoke: true,
      }),
    },
  ]);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

const ALICE = basic('alice', 'alice-password');

/** The proxy's answer without what differs between two requests. */
function refusal(res: { status: number; headers: Record<string, unknown>; text: string }) {
  return {
    status: res.status,
    wwwAuthenticate: res.headers['www-authenticate'],
    body: res.text,
    upstream: res.headers['x-upstream-name'],
  };
}

describe('client_secret_jwt', () => {
  it("signs the caller's client credentials with its secret: the IdP, which refuses Basic for it, issues a token", async () => {
    // The IdP takes nothing but an assertion from this client...
    expect((await idp.clientCredentials('app-jwt', APP_JWT_SECRET, 'api:read')).error).toBe('invalid_client');
    // ...and the proxy gets its token.
    const seen = upstreamSaw(
      await call(fx, '/hscc/x', { headers: { authorization: basic('app-jwt', APP_JWT_SECRET) } }),
    );
    expect(seen.headers['x-credential-identifier']).toBe('app-jwt');
  });

  it('a wrong caller secret is refused as it is with Basic', async () => {
    const jwt = await call(fx, '/hscc/x', { headers: { authorization: basic('app-jwt', 'wrong-secret') } });
    const control = await call(fx, '/basiccc/x', {
      headers: { authorization: basic('app-billing', 'wrong-secret') },
    });
    expect(jwt.status).toBe(401);
    expect(refusal(jwt)).toEqual(refusal(control));
  });

  it("authenticates the proxy's own client for the password grant; a wrong secret is refused as with Basic", async () => {
    const seen = upstreamSaw(await call(fx, '/hspw/x', { headers: { authorization: ALICE } }));
    expect(seen.headers['x-credential-identifier']).toBe('alice@example.test');
    const wrong = await call(fx, '/hspwwrong/x', { headers: { authorization: ALICE } });
    const control = await call(fx, '/basicpwwrong/x', { headers: { authorization: ALICE } });
    expect(wrong.status).toBe(401);
    expect(refusal(wrong)).toEqual(refusal(control));
  });
});

describe('private_key_jwt', () => {
  it.each([
    ['an RSA key (RS256)', '/pkpw/x'],
    ['an EC key (ES256)', '/pkpwec/x'],
  ])("authenticates the proxy's client with %s for the password grant", async (_name, path) => {
    const { result, calls } = await idpCalls(idp, () =>
      call(fx, path, { headers: { authorization: ALICE } }),
    );
    expect(upstreamSaw(result).headers['x-credential-identifier']).toBe('alice@example.test');
    expect(calls.token).toBe(1);
  });

  it('a key the IdP does not know is refused by the IdP, and the proxy answers as for a wrong client secret', async () => {
    const { result: wrong, calls } = await idpCalls(idp, () =>
      call(fx, '/pkpwwrong/x', { headers: { authorization: ALICE } }),
    );
    expect(calls.token).toBe(1);
    const control = await call(fx, '/basicpwwrong/x', { headers: { authorization: ALICE } });
    expect(wrong.status).toBe(401);
    expect(refusal(wrong)).toEqual(refusal(control));
  });

  it('introspects an opaque token as the proxy client; with a wrong key the token is refused', async () => {
    const token = (await idp.clientCredentials('app-opaque', 'app-opaque-secret', 'api:read')).access_token;
    const { result, calls } = await idpCalls(idp, () =>
      call(fx, '/pkintro/x', { headers: { authorization: bearer(token) } }),
    );
    expect(upstreamSaw(result).headers.authorization).toBe(bearer(token));
    expect(calls.introspection).toBe(1);
    const wrong = await call(fx, '/pkintrowrong/x', { headers: { authorization: bearer(token) } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['x-upstream-name']).toBeUndefined();
  });

  it("never signs for a caller's client: client credentials of a client registered with the proxy's key get 401", async () => {
    const res = await call(fx, '/pkcc/x', {
      headers: { authorization: basic('app-borrows-key', 'anything') },
    });
    expect(res.status).toBe(401);
    expect(res.headers['x-upstream-name']).toBeUndefined();
    // A caller with a secret still authenticates as usual (Basic).
    upstreamSaw(
      await call(fx, '/pkcc/x', { headers: { authorization: basic('app-billing', 'app-billing-secret') } }),
    );
  });

  it('exchanges the authorization code and revokes at logout as the proxy client', async () => {
    const start = await call(fx, '/pkweb/page', { headers: HTML });
    expect(start.status, start.text).toBe(302);
    const { callbackUrl } = await idp.completeLogin(new URL(String(start.headers.location)), {
      username: 'alice',
      password: 'alice-password',
    });
    const callback = new URL(callbackUrl);
    const done = await call(fx, callback.pathname + callback.search, {
      headers: { ...HTML, cookie: cookieFrom(start, 'authorization')! },
    });
    expect(done.status, done.text).toBe(302);
    const session = cookieFrom(done, 'session')!;
    expect(
      upstreamSaw(await call(fx, '/pkweb/page', { headers: { cookie: session } })).headers[
        'x-credential-identifier'
      ],
    ).toBe('alice@example.test');
    const { result: out, calls } = await idpCalls(idp, () =>
      call(fx, '/pkweb/logout', { method: 'POST', headers: { cookie: session } }),
    );
    expect(out.status).toBe(302);
    expect(calls.revocation).toBe(1);
    // oidc-provider cannot revoke its JWT access tokens: it says so once the client is authenticated,
    // and answers invalid_client before that.
    // The line comes after the IdP's answer, which may be after our 302: read the log until it is there.
    await vi.waitFor(
      () => {
        const warning = fx.proxy.logLines().find((l) => l.msg === 'token revocation at logout failed');
        expect(warning?.code).toBe('unsupported_token_type');
      },
      { timeout: 5000, interval: 20 },
    );
  });
});

describe('the private key never reaches the logs', () => {
  it('after every flow above, and after a push with a broken key', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'jwk',
    }) as Jwk;
    const broken = new ConfigBuilder()
      .upstream('echo', [fx.echo.port])
      .plugin('test/weak', 'openid-connect', {
        issuer: idp.issuer,
        client_id: ['gateway-pk'],
        client_auth: ['private_key_jwt'],
        client_jwk: [weak],
      })
      .route('weak', '/weak', 'echo', { plugins: ['test/weak'], service: 'test/echo' })
      .build();
    // The proxy checks plugin configs as translate does: the route answers 503, naming the field.
    await fx.proxy.pushOk(broken);
    const res = await call(fx, '/weak/x', { headers: { authorization: ALICE } });
    expect(res.status).toBe(503);
    expect(res.headers['x-upstream-name']).toBeUndefined();
    const output = fx.proxy.output();
    for (const jwk of [GATEWAY_KEY.priv, WRONG_KEY.priv, EC_PRIV, weak]) {
      for (const member of JWK_PRIVATE_MEMBERS) {
        const value = (jwk as Record<string, unknown>)[member];
        if (typeof value === 'string') expect(output).not.toContain(value);
      }
    }
  });
});

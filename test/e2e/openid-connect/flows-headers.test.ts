/**
 * openid-connect end to end, Kong's header settings: tokens, the
 * introspection answer, JWKs and claims sent to the client (`downstream_*`)
 * and upstream, through a real proxy to an echo upstream and the test IdP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  basic,
  bearer,
  call,
  oidc,
  startFixture,
  upstreamSaw,
  type Fixture,
  type TestIdp,
} from './fixture.js';

let fx: Fixture;
let okta: TestIdp;
const BILLING = basic('app-billing', 'app-billing-secret');
const fromBase64 = (value: unknown) =>
  JSON.parse(Buffer.from(String(value), 'base64').toString('utf8')) as unknown;

beforeAll(async () => {
  fx = await startFixture({ okta: { profile: 'okta' } });
  okta = fx.idps.okta!;
  const cc = (overrides: Record<string, unknown>) =>
    oidc(okta, {
      auth_methods: ['client_credentials'],
      scopes: ['api:read'],
      scopes_claim: ['scp'],
      ...overrides,
    });
  await fx.push([
    { id: 'ccdown', plugin: cc({ downstream_access_token_header: 'x-access-token' }) },
    { id: 'ccplain', plugin: cc({ timeout: 10_001 }) },
    {
      id: 'introhead',
      plugin: oidc(okta, {
        auth_methods: ['introspection'],
        scopes_claim: ['scp'],
        upstream_introspection_header: 'x-introspection',
        downstream_introspection_header: 'x-introspection',
      }),
    },
    {
      id: 'claimsdown',
      plugin: oidc(okta, {
        auth_methods: ['bearer'],
        scopes_claim: ['scp'],
        downstream_headers_claims: ['cid'],
        downstream_headers_names: ['x-client'],
        downstream_headers: [{ header: 'x-token-version', path: ['ver'] }],
      }),
    },
    {
      id: 'jwk',
      plugin: oidc(okta, {
        auth_methods: ['bearer'],
        scopes_claim: ['scp'],
        upstream_access_token_jwk_header: 'x-access-token-jwk',
        downstream_access_token_jwk_header: 'x-access-token-jwk',
        timeout: 10_002,
      }),
    },
    {
      id: 'pwid',
      plugin: oidc(okta, {
        auth_methods: ['password'],
        scopes: ['openid', 'profile', 'email'],
        scopes_claim: ['scp'],
        downstream_id_token_header: 'x-id-token',
        upstream_id_token_jwk_header: 'x-id-token-jwk',
      }),
    },
  ]);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

async function oktaToken(clientId = 'app-billing', secret = 'app-billing-secret') {
  const res = await okta.clientCredentials(clientId, secret, 'api:read');
  expect(res.status, JSON.stringify(res)).toBe(200);
  return res.access_token!;
}

describe('downstream_access_token_header', () => {
  it('gives the client the token the proxy got, the one the upstream received, and no-store', async () => {
    const res = await call(fx, '/ccdown/a', { headers: { authorization: BILLING } });
    const seen = upstreamSaw(res);
    const token = res.headers['x-access-token'];
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("replaces the upstream's headers of the same names: one value, ours", async () => {
    const res = await call(
      fx,
      '/ccdown/a?set=x-access-token:forged&set=cache-control:public,%20max-age%3D600',
      {
        headers: { authorization: BILLING },
      },
    );
    const seen = upstreamSaw(res);
    expect(seen.headers.authorization).toBe(`Bearer ${String(res.headers['x-access-token'])}`);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("leaves the upstream's Cache-Control alone on a route that sends no token (control)", async () => {
    const res = await call(fx, '/ccplain/a?set=cache-control:max-age%3D60', {
      headers: { authorization: BILLING },
    });
    upstreamSaw(res);
    expect(res.headers['cache-control']).toBe('max-age=60');
    expect(res.headers).not.toHaveProperty('x-access-token');
  });
});

describe('upstream_introspection_header', () => {
  it('gives the upstream, and the client, base64 JSON of the introspection answer', async () => {
    const token = await oktaToken('app-opaque', 'app-opaque-secret');
    const res = await call(fx, '/introhead/a', { headers: { authorization: bearer(token) } });
    const seen = upstreamSaw(res);
    const answer = await okta.introspect(token);
    expect(answer).toMatchObject({ active: true });
    expect(fromBase64(seen.headers['x-introspection'])).toEqual(answer);
    expect(fromBase64(res.headers['x-introspection'])).toEqual(answer);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a client cannot send its own introspection header upstream', async () => {
    const forged = Buffer.from(JSON.stringify({ active: true, sub: 'admin' })).toString('base64');
    const token = await oktaToken('app-opaque', 'app-opaque-secret');
    const res = await call(fx, '/introhead/a', {
      headers: { authorization: bearer(token), 'x-introspection': forged },
    });
    expect(upstreamSaw(res).headers['x-introspection']).not.toBe(forged);
  });
});

describe('downstream_headers_claims', () => {
  it("sets the token's claims on the client's response, private (no shared cache) rather than no-store", async () => {
    const res = await call(fx, '/claimsdown/a', { headers: { authorization: bearer(await oktaToken()) } });
    upstreamSaw(res);
    expect(res.headers['x-client']).toBe('app-billing');
    expect(res.headers['x-token-version']).toBe('1');
    expect(res.headers['cache-control']).toBe('private');
  });
});

describe('*_access_token_jwk_header', () => {
  it('sends the public key that verified the token, as published, and nothing private', async () => {
    const token = await oktaToken();
    const res = await call(fx, '/jwk/a', { headers: { authorization: bearer(token) } });
    const seen = upstreamSaw(res);
    const jwk = fromBase64(seen.headers['x-access-token-jwk']) as Record<string, unknown>;
    expect(fromBase64(res.headers['x-access-token-jwk'])).toEqual(jwk);
    expect(jwk.kid).toBe(decodeProtectedHeader(token).kid);
    const published = (await (await fetch(`${okta.issuer}/v1/keys`)).json()) as { keys: { kid: string }[] };
    expect(published.keys.find((k) => k.kid === jwk.kid)).toMatchObject(jwk);
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(jwk).not.toHaveProperty(member);
  });
});

describe('downstream_id_token_header and upstream_id_token_jwk_header', () => {
  it('gives the client the ID token and the upstream the key that signed it', async () => {
    const res = await call(fx, '/pwid/a', { headers: { authorization: basic('alice', 'alice-password') } });
    const seen = upstreamSaw(res);
    const idToken = String(res.headers['x-id-token']);
    expect(decodeJwt(idToken)).toMatchObject({ iss: okta.issuer, aud: okta.gateway.clientId });
    expect(res.headers['cache-control']).toBe('no-store');
    const jwk = fromBase64(seen.headers['x-id-token-jwk']) as Record<string, unknown>;
    expect(jwk.kid).toBe(decodeProtectedHeader(idToken).kid);
    expect(jwk).not.toHaveProperty('d');
  });
});

describe('logs', () => {
  it('never contain a token or introspection answer sent in these headers', async () => {
    const res = await call(fx, '/ccdown/a', { headers: { authorization: BILLING } });
    const token = String(res.headers['x-access-token']);
    const opaque = await oktaToken('app-opaque', 'app-opaque-secret');
    const intro = await call(fx, '/introhead/a', { headers: { authorization: bearer(opaque) } });
    const output = fx.proxy.output();
    expect(output).not.toContain(token);
    expect(output).not.toContain(opaque);
    expect(output).not.toContain(String(intro.headers['x-introspection']));
  });
});

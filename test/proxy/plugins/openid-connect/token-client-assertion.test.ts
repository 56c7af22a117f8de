/** Which endpoint a client assertion names as its audience, per IdP call (Okta takes only the URL called). */
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import type { Jwk } from '../../../../contract/plugins/openid-connect.js';
import { UNLIMITED } from '../../../../proxy/plugins/openid-connect/idp-call-limiter.js';
import type { OidcMetrics } from '../../../../proxy/plugins/openid-connect/metrics.js';
import type { Provider } from '../../../../proxy/plugins/openid-connect/provider.js';
import { TokenClient, type Client } from '../../../../proxy/plugins/openid-connect/token-client.js';

const ISSUER = 'https://idp.example.test/oauth2/default';
const METADATA = {
  issuer: ISSUER,
  token_endpoint: `${ISSUER}/v1/token`,
  introspection_endpoint: `${ISSUER}/v1/introspect`,
  revocation_endpoint: `${ISSUER}/v1/revoke`,
};

/** A TokenClient whose IdP accepts every call and records what it was sent. */
function tokenClient() {
  const sent: { url: string; form: URLSearchParams; authorization: string | null }[] = [];
  const fetch = async (url: string | URL, init?: RequestInit) => {
    sent.push({
      url: String(url),
      form: new URLSearchParams(String(init?.body)),
      authorization: new Headers(init?.headers).get('authorization'),
    });
    const body = String(url).endsWith('/introspect')
      ? { active: true, sub: 'x' }
      : { access_token: 'at', token_type: 'Bearer', expires_in: 60 };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  const provider = {
    metadata: async () => METADATA,
    http: { fetchFor: () => fetch },
    options: { timeout: 5000 },
  } as unknown as Provider;
  const metrics = { cache: () => undefined } as unknown as OidcMetrics;
  return { tokens: new TokenClient(provider, metrics), sent };
}

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Jwk;
const CLIENTS: Record<string, Client> = {
  private_key_jwt: { id: 'gateway', auth: 'private_key_jwt', alg: 'ES256', jwk: key },
  client_secret_jwt: { id: 'gateway', auth: 'client_secret_jwt', alg: 'HS256', secret: 's'.repeat(32) },
};

describe.each(Object.keys(CLIENTS))('TokenClient with %s', (method) => {
  const client = CLIENTS[method]!;

  it.each([
    ['the password grant', METADATA.token_endpoint],
    ['introspection', METADATA.introspection_endpoint],
    ['revocation', METADATA.revocation_endpoint],
  ])('%s sends an assertion for %s, and no secret', async (call, audience) => {
    const { tokens, sent } = tokenClient();
    if (call === 'the password grant') {
      expect((await tokens.password(client, 'alice', 'pw', ['openid'], false, UNLIMITED)).ok).toBe(true);
    } else if (call === 'introspection') {
      expect((await tokens.introspect(client, 'opaque', 60, false, UNLIMITED)).ok).toBe(true);
    } else {
      await oidc.tokenRevocation(await tokens.configuration(client, 'token', 'revocation_endpoint'), 'at');
    }
    expect(sent).toHaveLength(1);
    const { url, form, authorization } = sent[0]!;
    expect(url).toBe(audience);
    expect(authorization).toBeNull();
    expect(form.has('client_secret')).toBe(false);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(decodeJwt(form.get('client_assertion')!)).toMatchObject({
      iss: 'gateway',
      sub: 'gateway',
      aud: audience,
    });
  });
});

describe('TokenClient caches', () => {
  it('do not share a password grant between two keys of the same client id', async () => {
    const { tokens, sent } = tokenClient();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'jwk',
    }) as Jwk;
    const a = CLIENTS.private_key_jwt!;
    const b: Client = { ...a, jwk: other };
    await tokens.password(a, 'alice', 'pw', ['openid'], true, UNLIMITED);
    await tokens.password(a, 'alice', 'pw', ['openid'], true, UNLIMITED);
    expect(sent).toHaveLength(1);
    await tokens.password(b, 'alice', 'pw', ['openid'], true, UNLIMITED);
    expect(sent).toHaveLength(2);
  });
});

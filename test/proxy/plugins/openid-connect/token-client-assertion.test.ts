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

/** A TokenClient whose IdP accepts every call (unless `refuses` says no to its form) and records what it was sent. */
function tokenClient(refuses: (form: URLSearchParams) => boolean = () => false) {
  const sent: { url: string; form: URLSearchParams; authorization: string | null }[] = [];
  const fetch = async (url: string | URL, init?: RequestInit) => {
    const form = new URLSearchParams(String(init?.body));
    sent.push({
      url: String(url),
      form,
      authorization: new Headers(init?.headers).get('authorization'),
    });
    if (refuses(form)) {
      return new Response(JSON.stringify({ error: 'invalid_client' }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      });
    }
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

  it("do not answer a client's refresh with the refusal another secret of the same client id got", async () => {
    const { tokens, sent } = tokenClient((form) => form.get('client_secret') !== 'right-secret');
    const wrong: Client = { id: 'gateway', auth: 'client_secret_post', secret: 'wrong-secret' };
    const right: Client = { ...wrong, secret: 'right-secret' };
    expect(await tokens.refresh(wrong, 'rt', UNLIMITED)).toEqual({ ok: false, reason: 'invalid_client' });
    // The misconfigured instance's refusal is remembered for it…
    expect(await tokens.refresh(wrong, 'rt', UNLIMITED)).toEqual({ ok: false, reason: 'invalid_client' });
    expect(sent).toHaveLength(1);
    // …and the correct one still reaches the IdP.
    expect((await tokens.refresh(right, 'rt', UNLIMITED)).ok).toBe(true);
    expect(sent).toHaveLength(2);
  });
});

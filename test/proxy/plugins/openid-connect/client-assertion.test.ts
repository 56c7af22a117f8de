/** The client assertion of `client_secret_jwt` and `private_key_jwt` (RFC 7523 §3, OIDC Core §9). */
import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Jwk } from '../../../../contract/plugins/openid-connect.js';
import {
  ASSERTION_LIFETIME_S,
  assertionAuth,
  assertionClaims,
  type AssertionOptions,
} from '../../../../proxy/plugins/openid-connect/client-assertion.js';

const TOKEN_ENDPOINT = 'https://idp.example.test/oauth2/v1/token';

describe('assertionClaims', () => {
  it.each([
    ['the token endpoint', 'gateway', TOKEN_ENDPOINT, 1_700_000_000.7],
    ['the introspection endpoint', 'app-1', 'https://idp.example.test/oauth2/v1/introspect', 1_700_000_000],
  ])('for %s: iss = sub = client id, aud = the endpoint, exp a minute after iat', (_n, id, aud, now) => {
    expect(assertionClaims(id, aud, now, 'j-1')).toEqual({
      iss: id,
      sub: id,
      aud,
      jti: 'j-1',
      iat: 1_700_000_000,
      exp: 1_700_000_000 + ASSERTION_LIFETIME_S,
    });
  });
});

/** Runs openid-client's ClientAuth as it would before a call, and returns the form it sent. */
async function sent(options: AssertionOptions, clientId = 'gateway'): Promise<URLSearchParams> {
  const auth = await assertionAuth(options);
  const body = new URLSearchParams();
  await auth({ issuer: 'https://idp.example.test' }, { client_id: clientId }, body, new Headers());
  return body;
}

function privateJwk(type: 'rsa' | 'ec' | 'ed25519'): { priv: Jwk; pub: Jwk } {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return {
    priv: { ...(pair.privateKey.export({ format: 'jwk' }) as Jwk), kid: `${type}-1` },
    pub: pair.publicKey.export({ format: 'jwk' }) as Jwk,
  };
}

describe('assertionAuth', () => {
  it.each([
    ['rsa', 'RS256'],
    ['rsa', 'PS384'],
    ['ec', 'ES256'],
    ['ed25519', 'EdDSA'],
  ] as const)(
    'private_key_jwt with a %s key signs %s, with its kid, verifiable by the public key',
    async (type, alg) => {
      const { priv, pub } = privateJwk(type);
      const body = await sent({ method: 'private_key_jwt', alg, jwk: priv, audience: TOKEN_ENDPOINT });
      expect(body.get('client_id')).toBe('gateway');
      expect(body.get('client_assertion_type')).toBe(
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
      expect(body.has('client_secret')).toBe(false);
      const assertion = body.get('client_assertion')!;
      expect(decodeProtectedHeader(assertion)).toEqual({ alg, kid: `${type}-1` });
      const { payload } = await jwtVerify(assertion, await importJWK(pub, alg), {
        issuer: 'gateway',
        subject: 'gateway',
        audience: TOKEN_ENDPOINT,
        algorithms: [alg],
      });
      expect(payload.exp! - payload.iat!).toBe(ASSERTION_LIFETIME_S);
      expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
      expect(payload.jti).toMatch(/^[\w-]{43}$/);
    },
  );

  it("puts the key's certificate thumbprints in the header (Azure AD finds certificate credentials by x5t)", async () => {
    const { priv } = privateJwk('rsa');
    const jwk = { ...priv, x5t: 'c2hhMXRodW1icHJpbnQ', 'x5t#S256': 'c2hhMjU2dGh1bWJwcmludA' };
    const body = await sent({ method: 'private_key_jwt', alg: 'RS256', jwk, audience: TOKEN_ENDPOINT });
    expect(decodeProtectedHeader(body.get('client_assertion')!)).toEqual({
      alg: 'RS256',
      kid: 'rsa-1',
      x5t: 'c2hhMXRodW1icHJpbnQ',
      'x5t#S256': 'c2hhMjU2dGh1bWJwcmludA',
    });
  });

  it.each(['HS256', 'HS384', 'HS512'])('client_secret_jwt signs %s with the secret', async (alg) => {
    const secret = 'a-shared-secret-long-enough-for-hs512-0123456789-0123456789-abcdef';
    const body = await sent({ method: 'client_secret_jwt', alg, secret, audience: TOKEN_ENDPOINT }, 'app-1');
    expect(body.get('client_id')).toBe('app-1');
    expect(body.has('client_secret')).toBe(false);
    const { payload, protectedHeader } = await jwtVerify(
      body.get('client_assertion')!,
      new TextEncoder().encode(secret),
      { issuer: 'app-1', subject: 'app-1', audience: TOKEN_ENDPOINT, algorithms: [alg] },
    );
    expect(protectedHeader).toEqual({ alg });
    expect(payload.exp! - payload.iat!).toBe(ASSERTION_LIFETIME_S);
  });

  it('a wrong secret does not verify (the IdP refuses it)', async () => {
    const body = await sent({
      method: 'client_secret_jwt',
      alg: 'HS256',
      secret: 'one',
      audience: TOKEN_ENDPOINT,
    });
    await expect(
      jwtVerify(body.get('client_assertion')!, new TextEncoder().encode('other')),
    ).rejects.toThrow();
  });

  it('gives every assertion its own jti, so none can be replayed as another', async () => {
    const { priv } = privateJwk('ec');
    const options = { method: 'private_key_jwt', alg: 'ES256', jwk: priv, audience: TOKEN_ENDPOINT } as const;
    const jtis = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const body = await sent(options);
      jtis.add(
        JSON.parse(Buffer.from(body.get('client_assertion')!.split('.')[1]!, 'base64url').toString()).jti,
      );
    }
    expect(jtis.size).toBe(5);
  });
});

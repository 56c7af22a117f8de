import { randomBytes, type webcrypto } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { JwtClientAuth } from '../../../contract/plugins/client-jwk.js';
import type { Jwk } from '../../../contract/plugins/openid-connect.js';

type CryptoKey = webcrypto.CryptoKey;

/** Seconds an assertion is valid: one request's worth, as openid-client's own. */
export const ASSERTION_LIFETIME_S = 60;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AssertionClaims {
  iss: string;
  sub: string;
  aud: string;
  jti: string;
  iat: number;
  exp: number;
}

/**
 * The claims of a client assertion (RFC 7523 §3, OIDC Core §9): issued by
 * and about the client, for the endpoint it is sent to (OIDC Core names the
 * token endpoint; Okta refuses any other URL than the one called; Azure
 * takes the token endpoint; oidc-provider any of them), unique, short-lived.
 */
export function assertionClaims(
  clientId: string,
  audience: string,
  now: number,
  jti: string,
): AssertionClaims {
  const iat = Math.floor(now);
  return { iss: clientId, sub: clientId, aud: audience, jti, iat, exp: iat + ASSERTION_LIFETIME_S };
}

export interface AssertionOptions {
  method: JwtClientAuth;
  alg: string;
  /** `client_secret_jwt`: the HMAC key. */
  secret?: string;
  /** `private_key_jwt`: the private key. */
  jwk?: Jwk;
  /** The URL of the endpoint the assertion is sent to. */
  audience: string;
}

const imported = new WeakMap<Jwk, Promise<CryptoKey>>();

/** The key imported once per config object (imports cost more than signs). */
function privateKey(jwk: Jwk, alg: string): Promise<CryptoKey> {
  let key = imported.get(jwk);
  if (!key) {
    key = importJWK(jwk, alg) as Promise<CryptoKey>;
    imported.set(jwk, key);
  }
  return key;
}

/**
 * openid-client's authentication for a client that signs an assertion.
 * `private_key_jwt` is openid-client's own, with the audience and `alg` set;
 * `client_secret_jwt` is signed here because openid-client's signs HS256
 * only and Kong's `client_alg` allows HS384 and HS512.
 */
export async function assertionAuth(options: AssertionOptions): Promise<oidc.ClientAuth> {
  const claims = (clientId: string) =>
    assertionClaims(clientId, options.audience, Date.now() / 1000, randomBytes(32).toString('base64url'));
  if (options.method === 'private_key_jwt') {
    const key = await privateKey(options.jwk!, options.alg);
    return oidc.PrivateKeyJwt(
      { key, ...(options.jwk!.kid !== undefined && { kid: options.jwk!.kid }) },
      {
        // The header says `EdDSA` (what Kong and most IdPs know) where openid-client would say `Ed25519`.
        [oidc.modifyAssertion]: (header, payload) => {
          header.alg = options.alg;
          // Azure AD finds a certificate credential by its thumbprint in the header, not by kid.
          for (const member of ['x5t', 'x5t#S256'] as const) {
            if (options.jwk![member] !== undefined) header[member] = options.jwk![member];
          }
          Object.assign(payload, claims(String(payload.iss)));
        },
      },
    );
  }
  const secret = new TextEncoder().encode(options.secret);
  return async (_as, client, body) => {
    const assertion = await new SignJWT({ ...claims(client.client_id) })
      .setProtectedHeader({ alg: options.alg })
      .sign(secret);
    body.set('client_id', client.client_id);
    body.set('client_assertion_type', ASSERTION_TYPE);
    body.set('client_assertion', assertion);
  };
}

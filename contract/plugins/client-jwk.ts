import {
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { Jwk, OpenIdConnectConfig } from './openid-connect.js';

/** JWK members that hold private key material (RFC 7518 §6): never printed, logged or stored in status. */
export const JWK_PRIVATE_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export type JwtClientAuth = 'client_secret_jwt' | 'private_key_jwt';

/** The key type and curve each asymmetric `alg` signs with (WebCrypto's, as openid-client uses them). */
function keyFits(alg: string, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (/^RS/.test(alg)) return type === 'rsa';
  if (/^PS/.test(alg)) return type === 'rsa' || type === 'rsa-pss';
  if (alg === 'ES256') return type === 'ec' && curve === 'prime256v1';
  if (alg === 'ES384') return type === 'ec' && curve === 'secp384r1';
  if (alg === 'ES512') return type === 'ec' && curve === 'secp521r1';
  if (alg === 'EdDSA') return type === 'ed25519';
  return false;
}

/** What a key signs with when neither `client_alg` nor the key's `alg` says. */
function impliedAlg(key: KeyObject): string | undefined {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ed25519':
      return 'EdDSA';
    case 'ec':
      return { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[curve ?? ''];
    default:
      return undefined;
  }
}

/**
 * The algorithm a client assertion is signed with: `client_alg`, else the
 * key's own `alg`, else what the key type implies (RS256 for RSA, ES256 for
 * P-256, ...), and HS256 for `client_secret_jwt`. For a config that
 * `clientAuthProblems` accepted.
 */
export function assertionAlg(
  method: JwtClientAuth,
  jwk: Jwk | undefined,
  clientAlg: string | undefined,
): string {
  if (method === 'client_secret_jwt') return clientAlg ?? 'HS256';
  if (clientAlg) return clientAlg;
  if (jwk?.alg) return jwk.alg;
  const key = jwk && importPrivate(jwk);
  return (key && impliedAlg(key)) ?? 'RS256';
}

function importPrivate(jwk: Jwk): KeyObject | undefined {
  try {
    return createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined; // never echo the error: it may quote the key
  }
}

const SIGNING_KEY_TYPES: ReadonlySet<string> = new Set(['rsa', 'rsa-pss', 'ec', 'ed25519']);
const PROBE = Buffer.from('portcullis client_jwk check');

/** Whether the key's public members belong to its private ones: importing checks neither. */
function partsMatch(jwk: Jwk, key: KeyObject): boolean {
  try {
    const publicJwk = Object.fromEntries(
      Object.entries(jwk).filter(([m]) => !JWK_PRIVATE_MEMBERS.includes(m)),
    );
    const publicKey = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
    const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    return verify(digest, PROBE, publicKey, sign(digest, PROBE, key));
  } catch {
    return false;
  }
}

/**
 * Problems with client authentication by signed assertion (RFC 7523,
 * OIDC Core §9): the secret or private key it needs, and a key that can
 * sign with the algorithm. Messages name fields and never quote key
 * material.
 */
export function clientAuthProblems(config: OpenIdConnectConfig): string[] {
  const problems: string[] = [];
  const jwks = config.client_jwk ?? [];
  if (jwks.length > (config.client_id?.length ?? 0)) {
    problems.push('field "client_jwk" has more entries than "client_id"');
  }
  if ((config.client_alg?.length ?? 0) > (config.client_id?.length ?? 0)) {
    problems.push('field "client_alg" has more entries than "client_id"');
  }
  (config.client_id ?? []).forEach((_id, i) => {
    const method = config.client_auth?.[i];
    const clientAlg = config.client_alg?.[i];
    const jwk = jwks[i];
    if (method === 'client_secret_jwt') {
      if (config.client_secret?.[i] === undefined) {
        problems.push('field "client_secret" is required by client_auth "client_secret_jwt"');
      }
      if (clientAlg && !clientAlg.startsWith('HS')) {
        problems.push(
          `field "client_alg" value "${clientAlg}" cannot sign client_secret_jwt (HS256, HS384 or HS512)`,
        );
      }
    }
    if (method === 'private_key_jwt') {
      if (!jwk) {
        // Kong signs with keys it generates and publishes on its Admin API; Portcullis invents none.
        problems.push(
          'field "client_jwk" is required by client_auth "private_key_jwt": give the private key registered at the IdP',
        );
      }
      if (clientAlg?.startsWith('HS')) {
        problems.push(
          `field "client_alg" value "${clientAlg}" is for client_secret_jwt, not private_key_jwt`,
        );
      }
    }
    // A key given is checked whatever the method, so a broken Secret shows before it is used.
    if (jwk)
      problems.push(
        ...jwkProblems(jwk, `client_jwk.${i}`, clientAlg?.startsWith('HS') ? undefined : clientAlg),
      );
  });
  return problems;
}

function jwkProblems(jwk: Jwk, field: string, clientAlg: string | undefined): string[] {
  const where = `field "${field}"`;
  if (jwk.kty === 'oct')
    return [`${where} is a symmetric key; private_key_jwt needs a private RSA, EC or OKP key`];
  if (jwk.d === undefined) return [`${where} has no private part (member "d"): it is a public key`];
  if (jwk.use !== undefined && jwk.use !== 'sig') return [`${where} has use "${jwk.use}", not "sig"`];
  if (jwk.key_ops && !jwk.key_ops.includes('sign')) return [`${where} has key_ops without "sign"`];
  const key = importPrivate(jwk);
  if (!key) return [`${where} is not a valid private key`];
  if (!SIGNING_KEY_TYPES.has(key.asymmetricKeyType ?? '')) {
    return [`${where} is a ${key.asymmetricKeyType} key, which cannot sign a client assertion`];
  }
  if (!partsMatch(jwk, key)) return [`${where} is not a valid private key`];
  const modulus = key.asymmetricKeyDetails?.modulusLength;
  if (modulus !== undefined && modulus < 2048) {
    return [`${where} is an RSA key of ${modulus} bits; at least 2048 are required`];
  }
  if (jwk.alg !== undefined && clientAlg !== undefined && jwk.alg !== clientAlg) {
    return [`field "client_alg" value "${clientAlg}" differs from the alg "${jwk.alg}" of ${field}`];
  }
  const alg = clientAlg ?? jwk.alg ?? impliedAlg(key);
  if (alg === undefined) return [`${where} is an EC key on a curve no client_alg signs with`];
  if (!keyFits(alg, key)) return [`${where} cannot sign with alg "${alg}" (a ${key.asymmetricKeyType} key)`];
  return [];
}

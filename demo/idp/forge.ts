/**
 * Arbitrary JWS signing for attack tests. jose refuses to produce most of
 * what those tests need (`alg: none`, HS256 keyed with an RSA public key,
 * headers lying about `alg`), so the compact serialisation is built by hand:
 * header and payload are exactly what the caller gives, and the signature is
 * computed for the header's `alg` with the given (or the IdP's current) key.
 */
import { constants, createHmac, createPrivateKey, KeyObject, sign } from 'node:crypto';
import type { SignJwtOptions, SigningKeyInfo } from './types.js';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

function secretBytes(key: SignJwtOptions['key']): Buffer {
  if (key === undefined) throw new Error('HS* signing needs opts.key (the shared secret)');
  if (typeof key === 'string') return Buffer.from(key);
  if (key instanceof KeyObject) {
    if (key.type === 'secret') return key.export();
    // Alg confusion: the "secret" is the public key's PEM.
    return Buffer.from(key.export({ format: 'pem', type: key.type === 'public' ? 'spki' : 'pkcs8' }));
  }
  return Buffer.from(key);
}

function privateKey(key: SignJwtOptions['key'], fallback: KeyObject): KeyObject {
  if (key === undefined) return fallback;
  if (key instanceof KeyObject) return key;
  return createPrivateKey(typeof key === 'string' ? key : Buffer.from(key));
}

export function signJwt(
  payload: Record<string, unknown>,
  opts: SignJwtOptions,
  current: SigningKeyInfo,
): string {
  const header: Record<string, unknown> = { alg: current.alg, typ: 'JWT', kid: current.kid, ...opts.header };
  for (const k of Object.keys(header)) if (header[k] === undefined) delete header[k];
  const alg = typeof header.alg === 'string' ? header.alg : 'none';
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;

  let signature: Buffer;
  const bits = /^(?:HS|RS|PS|ES)(256|384|512)$/.exec(alg)?.[1];
  const hash = `sha${bits ?? '256'}`;
  if (alg === 'none') {
    signature = Buffer.alloc(0);
  } else if (alg.startsWith('HS') && bits) {
    signature = createHmac(hash, secretBytes(opts.key)).update(input).digest();
  } else if (alg.startsWith('PS') && bits) {
    signature = sign(hash, Buffer.from(input), {
      key: privateKey(opts.key, current.privateKey),
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    });
  } else if (alg.startsWith('ES') && bits) {
    signature = sign(hash, Buffer.from(input), {
      key: privateKey(opts.key, current.privateKey),
      dsaEncoding: 'ieee-p1363',
    });
  } else if (alg === 'EdDSA' || alg === 'Ed25519') {
    signature = sign(null, Buffer.from(input), privateKey(opts.key, current.privateKey));
  } else {
    // RS* — and any unknown/odd alg string: signed as RS256 so only the header lies.
    signature = sign(hash, Buffer.from(input), privateKey(opts.key, current.privateKey));
  }
  return `${input}.${b64url(signature)}`;
}

/**
 * The IdP's signing keys and their rotation.
 *
 * oidc-provider reads its `jwks` once, at construction; there is no runtime
 * API to add or remove a key. Rotation therefore builds a new key ring and the
 * caller rebuilds the Provider from it (state lives in the shared
 * MemoryStore, so sessions and opaque tokens survive). The current key is
 * listed first: oidc-provider signs with the first key matching the alg.
 */
import { createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import type { SigningKeyInfo } from './types.js';

interface RingKey extends Omit<SigningKeyInfo, 'current'> {
  privateJwk: JWK;
}

const generateRsa = promisify(generateKeyPair);

export class KeyRing {
  #keys: RingKey[] = [];
  #serial = 0;

  private constructor(readonly kidPrefix: string) {}

  static async create(kidPrefix: string): Promise<KeyRing> {
    const ring = new KeyRing(kidPrefix);
    ring.#keys = [await ring.#generate()];
    return ring;
  }

  /** RSA generation runs off the event loop (it takes ~100 ms, more on a loaded CI box). */
  async #generate(): Promise<RingKey> {
    this.#serial += 1;
    const kid = `${this.kidPrefix}-${this.#serial}-${randomBytes(4).toString('hex')}`;
    const alg = 'RS256';
    const { privateKey } = (await generateRsa('rsa', { modulusLength: 2048 })) as { privateKey: KeyObject };
    const privateJwk: JWK = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    const publicKey = createPublicKey(privateKey);
    const publicJwk: JWK = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    return {
      kid,
      alg,
      privateKey,
      privateJwk,
      publicJwk,
      publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    };
  }

  /** Makes a fresh key current; previous keys stay published only with keepOld. */
  async rotate(keepOld: boolean): Promise<SigningKeyInfo> {
    const fresh = await this.#generate();
    this.#keys = keepOld ? [fresh, ...this.#keys] : [fresh];
    return this.current();
  }

  /** Ends a keepOld grace period: only the current key remains. */
  retireOld(): void {
    this.#keys = this.#keys.slice(0, 1);
  }

  current(): SigningKeyInfo {
    return this.list()[0]!;
  }

  list(): SigningKeyInfo[] {
    return this.#keys.map(({ privateJwk: _p, ...k }, i) => ({ ...k, current: i === 0 }));
  }

  /** The `jwks` option for oidc-provider (private JWKs, current first). */
  providerJwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => k.privateJwk) };
  }
}

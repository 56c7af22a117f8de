import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { PortcullisError } from '../../../common/errors.js';
import { looksLikeIdToken, type Claims } from './claims.js';
import type { Provider } from './provider.js';
import { digest } from './token-client.js';

const HS_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

export interface JwtVerifierOptions {
  provider: Provider;
  /** Accepted `iss` values; the issuer's own when empty. */
  issuersAllowed: string[];
  /** Seconds of clock skew for `exp`, `nbf` and `iat`. */
  leeway: number;
  /** Client secrets to check HS* signatures with; empty unless `enable_hs_signatures`. */
  hsSecrets: string[];
  /** The plugin's own client ids: a token addressed to one of them may be an ID token. */
  clientIds: string[];
}

export type JwtResult =
  | { ok: true; claims: Claims; expiresAt: number }
  | { ok: false; reason: string }
  | { ok: false; unavailable: PortcullisError };

/**
 * Verifies a JWT access token (RFC 8725 rules): the algorithm must be one
 * the issuer advertises (never `none`; HS* only with `enable_hs_signatures`,
 * keyed by the client secret), the key comes only from the issuer's JWKS
 * (the token's `jku`, `x5u`, `jwk` and `x5c` headers are never used),
 * `iss`, `exp`, `nbf` and `iat` are checked with leeway, `exp` is required,
 * and ID tokens are refused as access tokens.
 */
export class JwtVerifier {
  readonly #options: JwtVerifierOptions;
  readonly #hsKeys: Uint8Array[];
  /** Verified tokens are cached per rule set: another instance may allow other issuers, leeway or client ids. */
  readonly #cachePrefix: string;

  constructor(options: JwtVerifierOptions) {
    this.#options = options;
    this.#hsKeys = options.hsSecrets.map((s) => new TextEncoder().encode(s));
    this.#cachePrefix = digest(
      JSON.stringify([options.issuersAllowed, options.leeway, options.hsSecrets, options.clientIds]),
    );
  }

  /**
   * Verifies a token, or finds it among tokens verified before: a signature
   * check costs far more than a hash, and a client sends the same token
   * many times. Cached results never outlive the token's `exp`.
   */
  verify(token: string, nowSeconds: number): JwtResult | Promise<JwtResult> {
    const key = `${this.#cachePrefix}|${digest(token)}`;
    const cache = this.#options.provider.verifiedTokens;
    const hit = cache.get(key);
    this.#options.provider.metrics.cache('token', hit !== undefined && nowSeconds < hit.expiresAt);
    // A hit is answered synchronously: no promise per request on the common path.
    if (hit && nowSeconds < hit.expiresAt) return hit;
    return this.#verify(token, nowSeconds).then((result) => {
      if (result.ok && result.expiresAt > nowSeconds) {
        cache.set(key, result, { ttl: (result.expiresAt - nowSeconds) * 1000 });
      }
      return result;
    });
  }

  async #verify(token: string, nowSeconds: number): Promise<JwtResult> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!alg || alg === 'none') return { ok: false, reason: 'algorithm' };
    try {
      const issuer = this.#options.issuersAllowed.length
        ? this.#options.issuersAllowed
        : [(await this.#options.provider.metadata()).issuer];
      const common = {
        issuer,
        clockTolerance: this.#options.leeway,
        currentDate: new Date(nowSeconds * 1000),
        requiredClaims: ['exp'],
      };
      let result: { payload: JWTPayload; protectedHeader: { typ?: string } } | undefined;
      if (HS_ALGORITHMS.includes(alg)) {
        if (this.#hsKeys.length === 0) return { ok: false, reason: 'algorithm' };
        result = await this.#verifyHs(token, common);
        if (!result) return { ok: false, reason: 'signature' };
      } else {
        const algorithms = await this.#options.provider.algorithms();
        if (!algorithms.includes(alg)) return { ok: false, reason: 'algorithm' };
        result = await jwtVerify(token, this.#options.provider.resolveKey, { ...common, algorithms });
      }
      const { payload, protectedHeader } = result;
      if (typeof payload.iat === 'number' && payload.iat > nowSeconds + this.#options.leeway) {
        return { ok: false, reason: 'iat' };
      }
      if (looksLikeIdToken(protectedHeader, payload, this.#options.clientIds))
        return { ok: false, reason: 'id_token' };
      return { ok: true, claims: payload as Claims, expiresAt: payload.exp! };
    } catch (error) {
      if (error instanceof PortcullisError) return { ok: false, unavailable: error };
      return { ok: false, reason: reasonOf(error) };
    }
  }

  async #verifyHs(token: string, options: object) {
    for (const key of this.#hsKeys) {
      try {
        return await jwtVerify(token, key, { ...options, algorithms: HS_ALGORITHMS });
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw error;
      }
    }
    return undefined;
  }
}

/** A short, bounded metric label for why jose refused a token. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claim === 'iss' || claim === 'nbf' || claim === 'iat' || claim === 'exp' ? claim : 'claims';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm';
    default:
      return 'malformed';
  }
}

import { hash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import {
  compactVerify,
  createLocalJWKSet,
  exportJWK,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { PortcullisError } from '../../../common/errors.js';
import { CLIENT_ALGS } from '../../../contract/plugins/openid-connect.js';
import type { Claims } from './claims.js';
import { IdpHttp } from './idp-http.js';
import type { OidcMetrics } from './metrics.js';

/** The fields of an issuer's discovery document that Portcullis uses. */
export interface ProviderMetadata {
  issuer: string;
  jwks_uri?: string;
  token_endpoint?: string;
  introspection_endpoint?: string;
  userinfo_endpoint?: string;
  authorization_endpoint?: string;
  end_session_endpoint?: string;
  authorization_response_iss_parameter_supported?: boolean;
  [key: string]: unknown;
}

export interface ProviderOptions {
  issuer: string;
  timeout: number;
  sslVerify: boolean;
  /** Seconds: at most one refetch for an unknown key per this long (Kong's `rediscovery_lifetime`). */
  rediscoveryLifetime: number;
  extraJwksUris: string[];
  /** Kong's `jwks_endpoint`: used instead of the discovered `jwks_uri`. */
  jwksEndpoint?: string;
  tokenEndpoint?: string;
  introspectionEndpoint?: string;
  userinfoEndpoint?: string;
  authorizationEndpoint?: string;
  /** Kong's `end_session_endpoint`: where logout sends the browser instead of the discovered one. */
  endSessionEndpoint?: string;
}

/**
 * Signature algorithms that use a public key: the client assertion ones but
 * HS*, and `Ed25519` (a JWK may name its curve as the alg). Anything else is
 * never taken from an IdP.
 */
const ASYMMETRIC: ReadonlySet<string> = new Set([
  ...CLIENT_ALGS.filter((alg) => !alg.startsWith('HS')),
  'Ed25519',
]);
/** Discovery fields that advertise JWS algorithms of tokens the IdP signs (not client auth). */
const ALG_FIELDS = [
  'id_token_signing_alg_values_supported',
  'userinfo_signing_alg_values_supported',
  'introspection_signing_alg_values_supported',
  'authorization_signing_alg_values_supported',
];
/** After a failed fetch with nothing cached, callers get 503 at once for this long rather than each trying the IdP. */
const FAILURE_RETRY_MS = 2000;

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * One identity provider as seen from a worker: its discovery document and
 * its signing keys, fetched lazily and shared by every plugin instance
 * with the same issuer settings, so config swaps keep them.
 *
 * Keys rotate: a token with an unknown `kid` triggers one refetch, and no
 * more than one per `rediscovery_lifetime`, so a flood of made-up kids
 * cannot flood the IdP. When the IdP is down, keys already fetched keep
 * working; with none ever fetched the caller gets PCS_IDP_UNAVAILABLE (503).
 */
export class Provider {
  readonly options: ProviderOptions;
  readonly http: IdpHttp;
  readonly metrics: OidcMetrics;
  /** Access tokens verified against this issuer's keys, by a hash of the token; see JwtVerifier. */
  readonly verifiedTokens = new LRUCache<string, { ok: true; claims: Claims; expiresAt: number }>({
    max: 10_000,
  });
  #metadata: ProviderMetadata | undefined;
  #keys: { resolver: KeyResolver; algorithms: string[]; list: JWK[] } | undefined;
  /** The published key each token verifies with, by a hash of the token; see signingKey. */
  readonly #signingKeys = new LRUCache<string, JWK>({ max: 10_000 });
  /** When an unknown key last caused a refetch; the first fetch does not count, so a key rotated in soon after start is fetched at once. */
  #lastRefetch = -Infinity;
  #lastFailure = -Infinity;
  #inflight: Promise<void> | undefined;

  constructor(options: ProviderOptions, metrics: OidcMetrics) {
    this.options = options;
    this.metrics = metrics;
    this.http = new IdpHttp({
      issuer: options.issuer,
      timeout: options.timeout,
      sslVerify: options.sslVerify,
      metrics,
    });
  }

  /** The discovery document (with configured endpoint overrides), fetched once and then kept. */
  async metadata(): Promise<ProviderMetadata> {
    if (!this.#metadata) await this.#refresh(true);
    return this.#metadata!;
  }

  /** Algorithms a token from this issuer may use: advertised by discovery or named by its keys, never `none` or HS*. */
  async algorithms(): Promise<string[]> {
    if (!this.#keys) await this.#refresh(true);
    return this.#keys!.algorithms;
  }

  /**
   * The key resolver jose's `jwtVerify` calls. An unknown key refetches
   * the JWKS (rate limited) and looks once more.
   */
  readonly resolveKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!this.#keys) await this.#refresh(true);
    try {
      return await this.#keys!.resolver(header, token);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      if (!this.#mayRefetch()) throw error;
      this.#lastRefetch = performance.now();
      await this.#refresh(false).catch(() => undefined);
      return this.#keys!.resolver(header, token);
    }
  };

  /**
   * The public part of the issuer's key that verifies this JWT's signature,
   * as published (Kong's `*_jwk_header`), or undefined when none does (an
   * HS token: its key is a secret and never leaves). The caller verified
   * the token already; this checks the signature once more to learn which
   * key, so only routes that send the key pay for it.
   */
  async signingKey(token: string): Promise<JWK | undefined> {
    const id = hash('sha256', token, 'base64url');
    const hit = this.#signingKeys.get(id);
    if (hit) return hit;
    try {
      const { key } = await compactVerify(token, this.resolveKey, { algorithms: await this.algorithms() });
      const used = await exportJWK(key);
      const published = this.#keys?.list.find((k) => samePublicKey(k, used)) ?? used;
      const jwk = publicMembers(published);
      this.#signingKeys.set(id, jwk);
      return jwk;
    } catch {
      return undefined;
    }
  }

  #mayRefetch(): boolean {
    return performance.now() - this.#lastRefetch >= this.options.rediscoveryLifetime * 1000;
  }

  /** Fetches discovery and keys once for all concurrent callers. */
  async #refresh(initial: boolean): Promise<void> {
    if (initial && this.#keys && this.#metadata) return;
    if (initial && performance.now() - this.#lastFailure < FAILURE_RETRY_MS) {
      throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'discovery or keys failed recently');
    }
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    await this.#inflight;
  }

  async #fetch(): Promise<void> {
    try {
      const metadata = await this.#discover();
      const uris = [
        ...new Set([this.options.jwksEndpoint ?? metadata.jwks_uri, ...this.options.extraJwksUris]),
      ].filter((u): u is string => !!u);
      if (uris.length === 0)
        throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'the issuer publishes no jwks_uri');
      const sets = await Promise.all(uris.map((uri) => this.http.getJson(uri, 'jwks')));
      // The same key published twice (extra_jwks_uris naming the issuer's own JWKS) would match twice,
      // and jose refuses a token whose key matches more than one entry.
      const keys = uniqueKeys(sets.flatMap((set) => signingKeys(set)));
      if (keys.length === 0) throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'the JWKS has no signing keys');
      this.#metadata = metadata;
      this.#keys = {
        resolver: createLocalJWKSet({ keys } as JSONWebKeySet),
        algorithms: allowedAlgorithms(metadata, keys),
        list: keys,
      };
    } catch (error) {
      this.#lastFailure = performance.now();
      throw error instanceof PortcullisError
        ? error
        : new PortcullisError('PCS_IDP_UNAVAILABLE', 'discovery failed', { cause: error });
    }
  }

  async #discover(): Promise<ProviderMetadata> {
    const { url, issuer } = discoveryTarget(this.options.issuer);
    const document = await this.http.getJson(url, 'discovery');
    if (document === null || typeof document !== 'object' || Array.isArray(document)) {
      throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'discovery is not a JSON object');
    }
    const metadata = document as ProviderMetadata;
    // OpenID Connect Discovery §4.3: the document must name the issuer it was
    // fetched for (a trailing slash aside); tokens are then checked against
    // the issuer it names.
    if (typeof metadata.issuer !== 'string' || withoutSlash(metadata.issuer) !== withoutSlash(issuer)) {
      throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'discovery names another issuer');
    }
    return {
      ...metadata,
      ...(this.options.tokenEndpoint && { token_endpoint: this.options.tokenEndpoint }),
      ...(this.options.introspectionEndpoint && {
        introspection_endpoint: this.options.introspectionEndpoint,
      }),
      ...(this.options.userinfoEndpoint && { userinfo_endpoint: this.options.userinfoEndpoint }),
      ...(this.options.authorizationEndpoint && {
        authorization_endpoint: this.options.authorizationEndpoint,
      }),
      ...(this.options.endSessionEndpoint && { end_session_endpoint: this.options.endSessionEndpoint }),
    };
  }
}

const WELL_KNOWN = '/.well-known/openid-configuration';
const withoutSlash = (url: string) => url.replace(/\/$/, '');

/**
 * Where the discovery document is, and the issuer it must name. Kong's
 * `issuer` may be the issuer or its discovery URL (Kong's own examples for
 * Okta, Azure AD, Auth0 and Cognito give the latter); both are accepted.
 */
export function discoveryTarget(configured: string): { url: string; issuer: string } {
  if (configured.endsWith(WELL_KNOWN))
    return { url: configured, issuer: configured.slice(0, -WELL_KNOWN.length) };
  return { url: `${withoutSlash(configured)}${WELL_KNOWN}`, issuer: configured };
}

/** Members of a public JWK (RFC 7517, 7518, 8037); anything else, a private part above all, is left out. */
const PUBLIC_MEMBERS = [
  'kty',
  'kid',
  'use',
  'key_ops',
  'alg',
  'crv',
  'n',
  'e',
  'x',
  'y',
  'x5c',
  'x5t',
  'x5t#S256',
];

export function publicMembers(key: JWK): JWK {
  const out: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = (key as Record<string, unknown>)[member];
    if (value !== undefined) out[member] = value;
  }
  return out as JWK;
}

function samePublicKey(a: JWK, b: JWK): boolean {
  return a.kty === b.kty && a.n === b.n && a.e === b.e && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

/** Public signature keys of a JWKS; private parts and encryption keys are dropped. */
function signingKeys(set: unknown): JWK[] {
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return [];
  return keys
    .filter((k): k is JWK => k !== null && typeof k === 'object' && typeof (k as JWK).kty === 'string')
    .filter((k) => k.kty !== 'oct' && (k.use === undefined || k.use === 'sig'))
    .filter((k) => k.alg === undefined || ASYMMETRIC.has(k.alg))
    .map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart }) => publicPart);
}

function uniqueKeys(keys: JWK[]): JWK[] {
  const seen = new Set<string>();
  return keys.filter((key) => {
    const id = stringify(key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function allowedAlgorithms(metadata: ProviderMetadata, keys: JWK[]): string[] {
  const algorithms = new Set<string>();
  for (const field of ALG_FIELDS) {
    const values = metadata[field];
    if (Array.isArray(values))
      for (const v of values) if (ASYMMETRIC.has(v as string)) algorithms.add(v as string);
  }
  for (const key of keys) {
    if (key.alg) algorithms.add(key.alg);
    else if (algorithms.size === 0) algorithms.add(defaultAlgorithm(key));
  }
  return [...algorithms];
}

/** For a key without `alg` at an IdP that advertises none: the usual algorithm of its key type. */
function defaultAlgorithm(key: JWK): string {
  if (key.kty === 'EC') return key.crv === 'P-384' ? 'ES384' : key.crv === 'P-521' ? 'ES512' : 'ES256';
  if (key.kty === 'OKP') return 'EdDSA';
  return 'RS256';
}

/**
 * Providers by their settings, shared across config swaps within a worker.
 * Bounded: settings that changed long ago fall out; an instance still using
 * one keeps its reference, and idle IdP connections close by themselves.
 */
export class ProviderRegistry {
  readonly #providers = new LRUCache<string, Provider>({ max: 256 });
  readonly #metrics: OidcMetrics;

  constructor(metrics: OidcMetrics) {
    this.#metrics = metrics;
  }

  get(options: ProviderOptions): Provider {
    const key = JSON.stringify(options);
    let provider = this.#providers.get(key);
    if (!provider) {
      provider = new Provider(options, this.#metrics);
      this.#providers.set(key, provider);
    }
    return provider;
  }
}

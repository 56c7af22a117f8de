import { hash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import * as oidc from 'openid-client';
import { PortcullisError } from '../../../common/errors.js';
import type { ClientAuthMethod, Jwk } from '../../../contract/plugins/openid-connect.js';
import { assertionAuth } from './client-assertion.js';
import { IdpCallRefused, type IdpCallGate } from './idp-call-limiter.js';
import type { CacheName, IdpEndpoint, OidcMetrics } from './metrics.js';
import type { Provider } from './provider.js';

/** A client at the IdP: the proxy's own (`client_id`) or a caller's, from its Basic credentials. */
export interface Client {
  id: string;
  secret?: string;
  auth?: ClientAuthMethod;
  /** The assertion's signing algorithm, for `client_secret_jwt` and `private_key_jwt`. */
  alg?: string;
  /** The private key, for `private_key_jwt`. */
  jwk?: Jwk;
}

/** The metadata field of the endpoint a call goes to: a client assertion names it as its audience. */
export type AssertionAudience = 'token_endpoint' | 'introspection_endpoint' | 'revocation_endpoint';

export interface Tokens {
  accessToken: string;
  idToken?: string;
  /** Unix seconds; from `expires_in`, when the IdP gave one. */
  expiresAt?: number;
  scope?: string;
  /** A refresh token the IdP issued with them. */
  refreshToken?: string;
}

export type Exchange<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Failed grants are remembered this long, so a wrong secret retried in a loop does not become an IdP flood. */
const NEGATIVE_TTL_MS = 5_000;
/** Tokens are reused until this long before they expire, so one never reaches an upstream already dead. */
const EXPIRY_MARGIN_S = 10;
const MAX_ENTRIES = 10_000;

/**
 * Calls to an issuer's token and introspection endpoints through
 * openid-client, with the caching and single-flight the proxy needs on its
 * request path: concurrent first requests for the same credentials make one
 * IdP call, results are cached until shortly before the token expires
 * (never past it), and failures are cached only briefly. Keys hold hashes,
 * never secrets or tokens.
 */
export class TokenClient {
  readonly #provider: Provider;
  readonly #metrics: OidcMetrics;
  readonly #grants = new LRUCache<string, Exchange<Tokens>>({ max: MAX_ENTRIES, ttl: NEGATIVE_TTL_MS });
  readonly #introspections = new LRUCache<string, Exchange<Record<string, unknown>>>({
    max: MAX_ENTRIES,
    ttl: NEGATIVE_TTL_MS,
  });
  readonly #userinfos = new LRUCache<string, Exchange<Record<string, unknown>>>({
    max: MAX_ENTRIES,
    ttl: NEGATIVE_TTL_MS,
  });
  /** Refused refresh tokens only: a refresh that worked is never answered again from memory. */
  readonly #refusedRefreshes = new LRUCache<string, Exchange<Tokens>>({
    max: MAX_ENTRIES,
    ttl: NEGATIVE_TTL_MS,
  });
  readonly #inflight = new Map<string, Promise<Exchange<unknown>>>();

  constructor(provider: Provider, metrics: OidcMetrics) {
    this.#provider = provider;
    this.#metrics = metrics;
  }

  /**
   * The client credentials grant for a caller's own client id and secret.
   * `gate` bounds the new IdP calls of the calling plugin instance: a refusal
   * throws IdpCallRefused; cache hits and joins never ask it.
   */
  clientCredentials(
    client: Client,
    scopes: string[],
    cache: boolean,
    gate: IdpCallGate,
  ): Promise<Exchange<Tokens>> {
    const key = `cc|${client.id}|${digest(client.secret ?? '')}|${scopes.join(' ')}`;
    return this.#cached('grant', this.#grants, key, cache, tokenTtl, gate, () =>
      this.#grant(client, 'client_credentials', { scope: scopes.join(' ') }),
    );
  }

  /** The resource owner password grant, made by the proxy's client for a caller's username and password. */
  password(
    client: Client,
    username: string,
    password: string,
    scopes: string[],
    cache: boolean,
    gate: IdpCallGate,
  ) {
    const key = `pw|${clientKey(client)}|${digest(`${username}\u0000${password}`)}|${scopes.join(' ')}`;
    return this.#cached('grant', this.#grants, key, cache, tokenTtl, gate, () =>
      this.#grant(client, 'password', { username, password, scope: scopes.join(' ') }),
    );
  }

  /**
   * RFC 7662 introspection of an opaque token, authenticated as the proxy's
   * client. Active answers are cached for `ttlSeconds`, never past the
   * token's `exp`.
   */
  introspect(client: Client, token: string, ttlSeconds: number, cache: boolean, gate: IdpCallGate) {
    const key = `in|${clientKey(client)}|${digest(token)}`;
    const ttl = (result: Exchange<Record<string, unknown>>) => {
      if (!result.ok) return NEGATIVE_TTL_MS;
      const exp = result.value.exp;
      const left = typeof exp === 'number' ? exp - Date.now() / 1000 : ttlSeconds;
      return Math.max(0, Math.min(ttlSeconds, left)) * 1000;
    };
    return this.#cached('introspection', this.#introspections, key, cache, ttl, gate, async () => {
      const config = await this.configuration(client, 'introspection');
      const answer = await oidc.tokenIntrospection(config, token);
      return answer.active
        ? { ok: true, value: answer as Record<string, unknown> }
        : { ok: false, reason: 'inactive' };
    });
  }

  /**
   * The refresh token grant (RFC 6749 §6), as the proxy's client. Never
   * cached nor joined with a concurrent identical call: a refresh token is
   * a single-use credential at many IdPs (RFC 9700 §4.14.2), and answering
   * a second request from the first one's exchange would replay it past the
   * IdP's reuse detection. Refusals are remembered briefly, as for other grants.
   */
  async refresh(client: Client, refreshToken: string, gate: IdpCallGate): Promise<Exchange<Tokens>> {
    // By how the client authenticates too: a misconfigured instance's refusal is not a correct one's.
    const key = `rt|${clientKey(client)}|${digest(refreshToken)}`;
    const refused = this.#refusedRefreshes.get(key);
    this.#metrics.cache('grant', refused !== undefined);
    if (refused) return refused;
    const limit = gate.tryAcquire();
    if (limit) throw new IdpCallRefused(limit);
    try {
      const result = await settle(() =>
        this.#grant(client, 'refresh_token', { refresh_token: refreshToken }),
      );
      if (!result.ok) this.#refusedRefreshes.set(key, result);
      return result;
    } finally {
      gate.release();
    }
  }

  /**
   * The IdP's userinfo answer for an access token (OpenID Connect Core
   * §5.3), which validates the token: a 401 or 403 is a refusal, any other
   * failure an outage. Cached for `ttlSeconds`, never past the `exp` of a
   * JWT access token (read unverified: it can only shorten the life).
   */
  userinfo(token: string, ttlSeconds: number, cache: boolean, gate: IdpCallGate) {
    const key = `ui|${digest(token)}`;
    const ttl = (result: Exchange<Record<string, unknown>>) => {
      if (!result.ok) return NEGATIVE_TTL_MS;
      const exp = jwtExpiry(token);
      const left = exp !== undefined ? exp - Date.now() / 1000 : ttlSeconds;
      return Math.max(0, Math.min(ttlSeconds, left)) * 1000;
    };
    return this.#cached('userinfo', this.#userinfos, key, cache, ttl, gate, async () => {
      const endpoint = (await this.#provider.metadata()).userinfo_endpoint;
      if (typeof endpoint !== 'string') {
        throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'the IdP has no userinfo endpoint');
      }
      const answer = await this.#provider.http.getJsonAnswer(endpoint, 'userinfo', {
        authorization: `Bearer ${token}`,
      });
      if (!answer.ok) {
        // RFC 6750 §3.1: invalid_token is a 401, insufficient_scope a 403.
        if (answer.status === 401 || answer.status === 403) return { ok: false, reason: 'inactive' };
        throw new PortcullisError('PCS_IDP_UNAVAILABLE', `userinfo answered ${answer.status}`);
      }
      const claims = answer.json;
      // OpenID Connect Core §5.3.2: the answer is a JSON object that always has `sub`.
      if (
        claims === null ||
        typeof claims !== 'object' ||
        Array.isArray(claims) ||
        typeof (claims as { sub?: unknown }).sub !== 'string'
      ) {
        throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'userinfo answer has no subject');
      }
      return { ok: true, value: claims as Record<string, unknown> };
    });
  }

  /**
   * An openid-client Configuration for one client, over the provider's HTTP
   * client. `audience` is the endpoint the call goes to (by default the one
   * `endpoint` names), for a client that authenticates with an assertion.
   */
  async configuration(
    client: Client,
    endpoint: IdpEndpoint,
    audience: AssertionAudience = endpoint === 'introspection' ? 'introspection_endpoint' : 'token_endpoint',
  ): Promise<oidc.Configuration> {
    const metadata = await this.#provider.metadata();
    const endpointUrl = metadata[audience];
    const auth = await clientAuth(client, typeof endpointUrl === 'string' ? endpointUrl : metadata.issuer);
    const config = new oidc.Configuration(metadata as oidc.ServerMetadata, client.id, undefined, auth);
    config[oidc.customFetch] = this.#provider.http.fetchFor(endpoint);
    config.timeout = Math.ceil(this.#provider.options.timeout / 1000);
    // Kong allows plain-http issuers (in-cluster IdPs); TLS is the operator's choice, documented as recommended.
    if (metadata.issuer.startsWith('http:')) oidc.allowInsecureRequests(config);
    return config;
  }

  async #grant(client: Client, grant: string, parameters: Record<string, string>): Promise<Exchange<Tokens>> {
    const config = await this.configuration(client, 'token');
    const response = await oidc.genericGrantRequest(config, grant, parameters);
    return { ok: true, value: tokensOf(response) };
  }

  async #cached<T>(
    name: CacheName,
    cache: LRUCache<string, Exchange<T>>,
    key: string,
    useCache: boolean,
    ttl: (result: Exchange<T>) => number,
    gate: IdpCallGate,
    load: () => Promise<Exchange<T>>,
  ): Promise<Exchange<T>> {
    // Instances share this cache: one with caching off must not take another's success
    // (a token revoked since would get in); failures are shared, as they are always kept.
    const cached = cache.get(key);
    const hit = cached && (useCache || !cached.ok) ? cached : undefined;
    this.#metrics.cache(name, hit !== undefined);
    if (hit) return hit;
    let pending = this.#inflight.get(key) as Promise<Exchange<T>> | undefined;
    if (!pending) {
      // Only a call that would reach the IdP asks the gate; a refusal caches nothing.
      const refused = gate.tryAcquire();
      if (refused) throw new IdpCallRefused(refused);
      pending = settle(load).finally(() => {
        gate.release();
        this.#inflight.delete(key);
      });
      this.#inflight.set(key, pending);
    }
    const result = await pending;
    // Failures are always remembered briefly, successes only when caching is on.
    const life = result.ok ? (useCache ? ttl(result) : 0) : NEGATIVE_TTL_MS;
    if (life > 0) cache.set(key, result, { ttl: life });
    return result;
  }
}

/** openid-client's authentication for a client; a JWT method without its key throws (the call fails closed). */
async function clientAuth(client: Client, audience: string): Promise<oidc.ClientAuth> {
  const missing = () => new PortcullisError('PCS_PLUGIN_FAILED', `${client.auth} without its key`);
  if (client.auth === 'private_key_jwt') {
    if (!client.jwk) throw missing();
    const alg = client.alg ?? 'RS256';
    return assertionAuth({ method: 'private_key_jwt', alg, jwk: client.jwk, audience });
  }
  if (client.auth === 'client_secret_jwt') {
    if (client.secret === undefined) throw missing();
    const alg = client.alg ?? 'HS256';
    return assertionAuth({ method: 'client_secret_jwt', alg, secret: client.secret, audience });
  }
  if (client.auth === 'none' || client.secret === undefined) return oidc.None();
  return client.auth === 'client_secret_post'
    ? oidc.ClientSecretPost(client.secret)
    : oidc.ClientSecretBasic(client.secret);
}

/**
 * Runs an IdP exchange: an OAuth error answer (wrong secret, inactive
 * grant) is a refusal; an unreachable or failing IdP is thrown as
 * PCS_IDP_UNAVAILABLE so the caller answers 503, not 401.
 */
async function settle<T>(load: () => Promise<Exchange<T>>): Promise<Exchange<T>> {
  try {
    return await load();
  } catch (error) {
    const unavailable = findUnavailable(error);
    if (unavailable) throw unavailable;
    if (error instanceof oidc.ResponseBodyError && error.status < 500) {
      return { ok: false, reason: error.error === 'invalid_client' ? 'invalid_client' : 'invalid_grant' };
    }
    // A 401 with `WWW-Authenticate` (what IdPs answer a wrong client secret sent with Basic auth)
    // is thrown by openid-client as this error, not ResponseBodyError: it is a refusal, not an outage.
    if (error instanceof oidc.WWWAuthenticateChallengeError && error.status < 500) {
      return { ok: false, reason: error.status === 401 ? 'invalid_client' : 'invalid_grant' };
    }
    throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'the IdP answered unexpectedly', { cause: error });
  }
}

function findUnavailable(error: unknown): PortcullisError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof PortcullisError) return e;
  }
  return undefined;
}

function tokensOf(response: oidc.TokenEndpointResponse): Tokens {
  const expiresIn = response.expires_in;
  return {
    accessToken: response.access_token,
    ...(response.id_token && { idToken: response.id_token }),
    ...(typeof expiresIn === 'number' && { expiresAt: Math.floor(Date.now() / 1000) + expiresIn }),
    ...(response.scope && { scope: response.scope }),
    ...(response.refresh_token && { refreshToken: response.refresh_token }),
  };
}

/** A JWT's `exp`, unverified; undefined for an opaque token. */
function jwtExpiry(token: string): number | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

function tokenTtl(result: Exchange<Tokens>): number {
  if (!result.ok) return NEGATIVE_TTL_MS;
  const { expiresAt } = result.value;
  if (expiresAt === undefined) return 60_000;
  return Math.max(0, expiresAt - EXPIRY_MARGIN_S - Date.now() / 1000) * 1000;
}

const clientKeys = new WeakMap<Client, string>();

/**
 * The proxy's client in a cache key: its id and a digest of how it
 * authenticates, so that an instance with a wrong secret or key never reuses
 * what another instance of the same client id got.
 */
function clientKey(client: Client): string {
  let key = clientKeys.get(client);
  if (key === undefined) {
    const auth = [
      client.auth ?? '',
      client.alg ?? '',
      client.secret ?? '',
      JSON.stringify(client.jwk ?? null),
    ];
    key = `${client.id}|${digest(auth.join('\u0000'))}`;
    clientKeys.set(client, key);
  }
  return key;
}

/** A cache key part that does not keep the secret itself. */
export function digest(value: string): string {
  // One-shot: on the request path (every bearer token) it costs half of createHash().update().digest().
  return hash('sha256', value, 'base64url');
}

/**
 * The short-lived state of an authorization-code login (state, nonce, PKCE
 * verifier, where to return), kept in the browser in an encrypted cookie so
 * that whichever proxy worker receives the IdP's redirect can finish it.
 */
import { randomBytes } from 'node:crypto';
import {
  EPOCH,
  deriveCookieKey,
  isCookieName,
  parseCookies,
  requiresSecure,
  sealJson,
  serializeCookie,
  unsealJson,
  type CookieAttributes,
} from './cookies.js';
import { safeReturnPath } from './return-path.js';

export interface AuthorizationState {
  state: string;
  nonce: string;
  /** RFC 7636 code verifier; send its S256 challenge with the authorization request. */
  codeVerifier: string;
  /** Same-origin path to send the browser to once logged in. */
  returnTo: string;
}

export interface AuthorizationStateCookieOptions {
  secret: string;
  issuer: string;
  clientId: string;
  /** The digest of the instance's acceptance rules (session-binding.ts), as for sessions. */
  binding: string;
  cookieName: string;
  /** How long a login may take, in seconds; default 600. */
  maxAgeSeconds?: number;
  /**
   * The IdP returns with a cross-site POST (`response_mode: form_post`),
   * which carries no SameSite=Lax cookie: the cookie is then SameSite=None
   * and always Secure.
   */
  crossSitePost?: boolean;
}

const DEFAULT_MAX_AGE_SECONDS = 600;
/** 256 bits each, well above the 128 bits needed against guessing; 43 base64url characters. */
const RANDOM_BYTES = 32;
/** RFC 7636 section 4.1: 43 to 128 unreserved characters; base64url is a subset. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Encodes and decodes the authorization cookie: a compact JWE (alg dir, enc
 * A256GCM) under a key derived with HKDF-SHA256 from the secret and bound to
 * the issuer, client id and cookie name (distinct from the session cookie's
 * key). The cookie is HttpOnly, Path=/, SameSite=Lax (the IdP's redirect
 * back is a top-level GET navigation, which Lax allows), Secure on HTTPS,
 * and expires after `maxAgeSeconds`; `read` enforces that age too. With
 * `crossSitePost` it is SameSite=None; Secure: sending it on cross-site
 * requests proves nothing to anyone, as the callback still needs the state,
 * and the code only redeems with the PKCE verifier sealed inside.
 *
 * One login at a time per browser: starting another (another tab)
 * overwrites the cookie, and the first one's callback then fails.
 */
export class AuthorizationStateCookie {
  readonly #issuer: string;
  readonly #clientId: string;
  readonly #cookieName: string;
  readonly #maxAge: number;
  readonly #key: Uint8Array;
  readonly #crossSitePost: boolean;

  constructor(options: AuthorizationStateCookieOptions) {
    const maxAge = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
    if (!isCookieName(options.cookieName)) throw new TypeError(`invalid cookie name ${options.cookieName}`);
    if (!Number.isSafeInteger(maxAge) || maxAge <= 0) throw new TypeError(`invalid maxAgeSeconds ${maxAge}`);
    this.#issuer = options.issuer;
    this.#clientId = options.clientId;
    this.#cookieName = options.cookieName;
    this.#maxAge = maxAge;
    this.#crossSitePost = options.crossSitePost ?? false;
    // Derived once: begin and read run on the request path.
    this.#key = deriveCookieKey(
      options.secret,
      `portcullis-authorization|${options.issuer}|${options.clientId}|${options.cookieName}|${options.binding}`,
    );
  }

  /**
   * Fresh random state, nonce (256 bits each, base64url) and PKCE verifier
   * (43 characters, RFC 7636), and the Set-Cookie value storing them.
   * `returnTo` goes through `safeReturnPath`.
   */
  async begin(
    returnTo: string,
    https: boolean,
    nowSeconds: number,
  ): Promise<{ state: AuthorizationState; setCookie: string }> {
    const state: AuthorizationState = {
      state: randomToken(),
      nonce: randomToken(),
      codeVerifier: randomToken(),
      returnTo: safeReturnPath(returnTo),
    };
    const payload = { iss: this.#issuer, aud: this.#clientId, iat: Math.floor(nowSeconds), ...state };
    const token = await sealJson(payload, this.#key);
    return {
      state,
      setCookie: serializeCookie(this.#cookieName, token, this.#attributes(https, this.#maxAge)),
    };
  }

  /** The state in a Cookie header; undefined when absent, tampered, for another instance or older than maxAge. */
  async read(cookieHeader: string | undefined, nowSeconds: number): Promise<AuthorizationState | undefined> {
    const token = parseCookies(cookieHeader).get(this.#cookieName);
    if (!token) return undefined;
    const payload = await unsealJson(token, this.#key);
    if (!payload || payload.iss !== this.#issuer || payload.aud !== this.#clientId) return undefined;
    const { iat } = payload;
    if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || nowSeconds - iat > this.#maxAge)
      return undefined;
    return toAuthorizationState(payload);
  }

  /** A Set-Cookie value deleting the cookie (once the login finishes or fails). */
  clear(https: boolean): string {
    return serializeCookie(this.#cookieName, '', { ...this.#attributes(https, 0), expires: EPOCH });
  }

  #attributes(https: boolean, maxAge: number): CookieAttributes {
    // Browsers reject __Secure-/__Host- cookies, and SameSite=None ones, without Secure.
    if (this.#crossSitePost) return { path: '/', httpOnly: true, secure: true, sameSite: 'None', maxAge };
    const secure = https || requiresSecure(this.#cookieName);
    return { path: '/', httpOnly: true, secure, sameSite: 'Lax', maxAge };
  }
}

function randomToken(): string {
  return randomBytes(RANDOM_BYTES).toString('base64url');
}

/** The state in a decrypted payload, checked field by field; undefined when malformed. */
function toAuthorizationState(payload: Record<string, unknown>): AuthorizationState | undefined {
  const { state, nonce, codeVerifier, returnTo } = payload;
  if (typeof state !== 'string' || typeof nonce !== 'string' || typeof returnTo !== 'string')
    return undefined;
  if (state === '' || nonce === '' || typeof codeVerifier !== 'string' || !CODE_VERIFIER.test(codeVerifier)) {
    return undefined;
  }
  // Re-checked although sealed by us: the rules may have tightened since.
  return { state, nonce, codeVerifier, returnTo: safeReturnPath(returnTo) };
}

/**
 * The openid-connect session, kept in the browser as an encrypted,
 * authenticated cookie so that any proxy worker can serve it without shared
 * server-side state.
 */
import {
  EPOCH,
  deriveCookieKey,
  isCookieName,
  isRecord,
  parseCookies,
  requiresSecure,
  sealJson,
  serializeCookie,
  unsealJson,
  type CookieAttributes,
} from './cookies.js';

export interface SessionData {
  /** The access token upstream headers need, and the verified claims it was accepted with. */
  accessToken: string;
  idToken?: string;
  claims: Record<string, unknown>;
  /** Unix seconds the access token expires; the session ends then too. */
  tokenExpiresAt?: number;
  /** The auth method that started the session (e.g. 'authorization_code', 'bearer'). */
  method: string;
}

export interface SessionCookieOptions {
  /** Key material; each plugin instance derives its own key from it. */
  secret: string;
  issuer: string;
  clientId: string;
  /** The digest of the acceptance rules (session-binding.ts): another rule set cannot read the cookie. */
  binding: string;
  cookieName: string;
  path: string;
  domain?: string;
  /** 'Default' omits the attribute. */
  sameSite: 'Strict' | 'Lax' | 'None' | 'Default';
  httpOnly: boolean;
  /** Undefined: Secure exactly when the request is HTTPS. */
  secure?: boolean;
  /** Seconds; 0 disables each. */
  idlingTimeout: number;
  rollingTimeout: number;
  absoluteTimeout: number;
}

/** A session read back from its cookie. */
export interface ReadSession {
  data: SessionData;
  /** Unix seconds the session started; pass it back to `issue` when renewing. */
  startedAt: number;
  /** The caller should re-issue the cookie now, to slide the idle and rolling timeouts. */
  renew: boolean;
}

/** Browsers drop cookies over 4096 bytes of name and value; stay well under. */
const MAX_COOKIE_BYTES = 4000;
/** Beyond this a session would not fit Node's default 16 KiB request header limit anyway. */
export const MAX_SESSION_CHUNKS = 4;
/** Renewing on every request would send a Set-Cookie on every response. */
const RENEW_INTERVAL_SECONDS = 60;
/** The first chunk of a split cookie starts with the chunk count, e.g. "3:eyJ...". */
const CHUNK_COUNT = /^([2-9]):/;

/**
 * Encodes and decodes the session cookie: a compact JWE (alg dir, enc
 * A256GCM) whose key is derived with HKDF-SHA256 from the secret and bound
 * to the issuer, client id, cookie name and acceptance rules (`binding`), so
 * a cookie issued by a plugin instance with other rules does not decrypt
 * here (its `iss` and `aud` are checked too). A cookie too big for one browser cookie is split across `name`,
 * `name_2`, ..., the first chunk prefixed with the count.
 *
 * Timeouts: the payload holds `iat` (when the session started) and `lat`
 * (when the cookie was last issued). A session is over when
 * `now - iat > absoluteTimeout`, `now - lat > idlingTimeout`,
 * `now - lat > rollingTimeout` (each only when that timeout is non-zero) or
 * `now >= tokenExpiresAt`. Renewing resets `lat` but keeps `iat`; `read`
 * asks for renewal at most once a minute (sooner when a timeout is under
 * two minutes). The cookie's Max-Age is the time left until the earliest of
 * those ends; without any, it is a browser-session cookie.
 */
export class SessionCookie {
  readonly #options: SessionCookieOptions;
  readonly #key: Uint8Array;

  constructor(options: SessionCookieOptions) {
    if (!isCookieName(options.cookieName)) throw new TypeError(`invalid cookie name ${options.cookieName}`);
    this.#options = options;
    // Derived once: read and issue run on the request path.
    this.#key = deriveCookieKey(
      options.secret,
      `portcullis-session|${options.issuer}|${options.clientId}|${options.cookieName}|${options.binding}`,
    );
    // Fail at configuration time, not on the first login, on a bad Path or Domain.
    serializeCookie(options.cookieName, '', this.#attributes(true, 0));
  }

  /**
   * The session in a Cookie header, or undefined when absent, tampered, for
   * another instance, or expired. `renew` is true when the caller should
   * re-issue it (to slide the idle timeout), at most about once a minute.
   */
  async read(cookieHeader: string | undefined, nowSeconds: number): Promise<ReadSession | undefined> {
    const token = this.#reassemble(parseCookies(cookieHeader));
    if (token === undefined) return undefined;
    const payload = await unsealJson(token, this.#key);
    if (!payload || payload.iss !== this.#options.issuer || payload.aud !== this.#options.clientId) {
      return undefined;
    }
    const { iat, lat } = payload;
    const data = toSessionData(payload.data);
    if (!isUnixTime(iat) || !isUnixTime(lat) || iat > lat || !data) return undefined;
    if (this.#expired(data, iat, lat, nowSeconds)) return undefined;
    return { data, startedAt: iat, renew: this.#shouldRenew(lat, nowSeconds) };
  }

  /**
   * The Set-Cookie header values storing `data`: one per chunk, plus ones
   * deleting chunks of an earlier, larger cookie found in `cookieHeader`.
   * `startedAt` keeps the absolute timeout of a renewed session. Throws when
   * the session is larger than `MAX_SESSION_CHUNKS` cookies.
   */
  async issue(
    data: SessionData,
    nowSeconds: number,
    https: boolean,
    startedAt?: number,
    cookieHeader?: string,
  ): Promise<string[]> {
    const lat = Math.floor(nowSeconds);
    const iat = startedAt === undefined ? lat : Math.floor(startedAt);
    const { issuer, clientId, cookieName } = this.#options;
    const payload = { iss: issuer, aud: clientId, iat, lat, data: pickSessionData(data) };
    const chunks = splitIntoChunks(await sealJson(payload, this.#key), cookieName);
    const attributes = this.#attributes(https, this.#maxAge(data, iat, lat));
    const headers = chunks.map((chunk, i) => serializeCookie(chunkName(cookieName, i), chunk, attributes));
    // A shorter session must not leave chunks of a longer one behind in the browser.
    const stale = this.#chunksPresent(cookieHeader).filter((i) => i >= chunks.length);
    return [...headers, ...stale.map((i) => this.#deleting(chunkName(cookieName, i), https))];
  }

  /**
   * Set-Cookie values deleting the cookie and every chunk of it present in
   * `cookieHeader`; without the header, every chunk name it could have.
   */
  clear(https: boolean, cookieHeader?: string): string[] {
    const chunks =
      cookieHeader === undefined
        ? Array.from({ length: MAX_SESSION_CHUNKS - 1 }, (_, i) => i + 1)
        : this.#chunksPresent(cookieHeader);
    return [0, ...chunks].map((i) => this.#deleting(chunkName(this.#options.cookieName, i), https));
  }

  /** The sealed token, joined from its chunks when split; undefined when absent or incomplete. */
  #reassemble(cookies: Map<string, string>): string | undefined {
    const first = cookies.get(this.#options.cookieName);
    if (!first) return undefined;
    const count = CHUNK_COUNT.exec(first)?.[1];
    if (count === undefined) return first;
    if (Number(count) > MAX_SESSION_CHUNKS) return undefined;
    const parts = [first.slice(count.length + 1)];
    for (let i = 1; i < Number(count); i++) {
      const part = cookies.get(chunkName(this.#options.cookieName, i));
      if (!part) return undefined;
      parts.push(part);
    }
    return parts.join('');
  }

  /** Chunk indexes (0 is `name`) of the extra chunks in `cookieHeader`: [1, 2] for `name_2`, `name_3`. */
  #chunksPresent(cookieHeader: string | undefined): number[] {
    const cookies = parseCookies(cookieHeader);
    const indexes: number[] = [];
    for (let i = 1; i < MAX_SESSION_CHUNKS; i++) {
      if (cookies.has(chunkName(this.#options.cookieName, i))) indexes.push(i);
    }
    return indexes;
  }

  /** Whether any enabled timeout has passed, or the access token has expired (JWT `exp` semantics). */
  #expired(data: SessionData, iat: number, lat: number, now: number): boolean {
    const { absoluteTimeout, idlingTimeout, rollingTimeout } = this.#options;
    return (
      (absoluteTimeout > 0 && now - iat > absoluteTimeout) ||
      (idlingTimeout > 0 && now - lat > idlingTimeout) ||
      (rollingTimeout > 0 && now - lat > rollingTimeout) ||
      (data.tokenExpiresAt !== undefined && now >= data.tokenExpiresAt)
    );
  }

  /** Seconds until the earliest enabled deadline (0 once past), or undefined when none applies. */
  #maxAge(data: SessionData, iat: number, lat: number): number | undefined {
    const { absoluteTimeout, idlingTimeout, rollingTimeout } = this.#options;
    const deadlines: number[] = [];
    if (absoluteTimeout > 0) deadlines.push(iat + absoluteTimeout);
    if (idlingTimeout > 0) deadlines.push(lat + idlingTimeout);
    if (rollingTimeout > 0) deadlines.push(lat + rollingTimeout);
    if (data.tokenExpiresAt !== undefined) deadlines.push(data.tokenExpiresAt);
    return deadlines.length === 0 ? undefined : Math.max(0, Math.floor(Math.min(...deadlines) - lat));
  }

  /** Re-issue when a sliding timeout is enabled and the last issue is old enough. */
  #shouldRenew(lat: number, now: number): boolean {
    const sliding = [this.#options.idlingTimeout, this.#options.rollingTimeout].filter((t) => t > 0);
    if (sliding.length === 0) return false;
    // A timeout under two minutes needs renewing more often than once a minute to slide at all.
    const interval = Math.min(RENEW_INTERVAL_SECONDS, ...sliding.map((t) => t / 2));
    return now - lat >= interval;
  }

  #attributes(https: boolean, maxAge: number | undefined): CookieAttributes {
    const { path, domain, sameSite, httpOnly, secure, cookieName } = this.#options;
    // Browsers reject SameSite=None and __Secure-/__Host- cookies without Secure.
    const isSecure = (secure ?? https) || sameSite === 'None' || requiresSecure(cookieName);
    return {
      path,
      domain,
      httpOnly,
      secure: isSecure,
      sameSite: sameSite === 'Default' ? undefined : sameSite,
      maxAge,
    };
  }

  /** A deleting Set-Cookie: same Path and Domain, or the browser keeps the original. */
  #deleting(name: string, https: boolean): string {
    return serializeCookie(name, '', { ...this.#attributes(https, 0), expires: EPOCH });
  }
}

/** `name` for the first chunk, `name_2`, `name_3`, ... for the rest. */
function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}_${index + 1}`;
}

/** `token` as one cookie value, or as several with the count prefixed to the first. */
function splitIntoChunks(token: string, cookieName: string): string[] {
  // Room for "name_N=" and the "N:" prefix; the token is ASCII, so chars are bytes.
  const size = MAX_COOKIE_BYTES - cookieName.length - 4;
  if (token.length <= size) return [token];
  const count = Math.ceil((token.length + 2) / size);
  if (count > MAX_SESSION_CHUNKS) {
    throw new Error(`session cookie needs ${count} chunks, more than ${MAX_SESSION_CHUNKS}`);
  }
  const value = `${count}:${token}`;
  return Array.from({ length: count }, (_, i) => value.slice(i * size, (i + 1) * size));
}

function isUnixTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Exactly the SessionData fields of `data`: nothing else a caller's object carries ends up in the cookie. */
function pickSessionData(data: SessionData): SessionData {
  const { accessToken, idToken, claims, tokenExpiresAt, method } = data;
  return { accessToken, idToken, claims, tokenExpiresAt, method };
}

/** The session data in a decrypted payload, checked field by field; undefined when malformed. */
function toSessionData(value: unknown): SessionData | undefined {
  if (!isRecord(value)) return undefined;
  const { accessToken, idToken, claims, tokenExpiresAt, method } = value;
  if (typeof accessToken !== 'string' || typeof method !== 'string' || !isRecord(claims)) return undefined;
  if (idToken !== undefined && typeof idToken !== 'string') return undefined;
  if (
    tokenExpiresAt !== undefined &&
    (typeof tokenExpiresAt !== 'number' || !Number.isFinite(tokenExpiresAt))
  ) {
    return undefined;
  }
  const data: SessionData = { accessToken, claims, method };
  if (idToken !== undefined) data.idToken = idToken;
  if (tokenExpiresAt !== undefined) data.tokenExpiresAt = tokenExpiresAt;
  return data;
}

/**
 * Cookie helpers for the openid-connect plugin: a strict RFC 6265 Cookie
 * header parser and Set-Cookie serialiser, and the sealed (encrypted and
 * authenticated) values the session and authorization cookies carry.
 */
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

/** RFC 6265 section 4.1.1 cookie-name: an RFC 2616 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 section 4.1.1 cookie-octet: printable US-ASCII minus DQUOTE, comma, semicolon, backslash. */
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
/** av-octet (any CHAR but CTLs and ";"); a path must also start with "/" or browsers substitute a default. */
const PATH = /^\/[\x20-\x3A\x3C-\x7E]*$/;
/** Host names and IP literals only: anything else in Domain is a configuration mistake. */
const DOMAIN = /^\.?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;

/** Attributes of a Set-Cookie header (RFC 6265 section 4.1, plus SameSite). */
export interface CookieAttributes {
  /** Seconds; a non-negative integer. 0 deletes the cookie. */
  maxAge?: number;
  expires?: Date;
  domain?: string;
  path?: string;
  secure?: boolean;
  httpOnly?: boolean;
  /** Omitted when undefined (the browser's default applies). */
  sameSite?: 'Strict' | 'Lax' | 'None';
}

/** Whether `name` may be used as a cookie name. */
export function isCookieName(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * The cookies in a Cookie request header. The first occurrence of a name
 * wins (browsers send the most specific path first); pairs that are not
 * `token=cookie-value` are ignored. A value in double quotes is unquoted;
 * values are not percent-decoded.
 */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const parsed = parsePair(pair);
    if (parsed && !cookies.has(parsed[0])) cookies.set(parsed[0], parsed[1]);
  }
  return cookies;
}

/** Every value the Cookie header gives `name`: a browser sends one per path and domain that match. */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header || !header.includes(name)) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const parsed = parsePair(pair);
    if (parsed && parsed[0] === name) values.push(parsed[1]);
  }
  return values;
}

function parsePair(pair: string): [string, string] | undefined {
  const eq = pair.indexOf('=');
  if (eq < 0) return undefined;
  const name = trimOws(pair.slice(0, eq));
  let value = trimOws(pair.slice(eq + 1));
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (!TOKEN.test(name) || !COOKIE_OCTETS.test(value)) return undefined;
  return [name, value];
}

/** Strips the optional whitespace (SP, HTAB) RFC 6265 allows around pairs. */
function trimOws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * A Set-Cookie header value. Throws on a name, value or attribute that
 * would produce a malformed or injectable header: callers pass values they
 * built, so this is a programming error, not a request error.
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  if (!COOKIE_OCTETS.test(value)) throw new TypeError(`invalid value for cookie ${name}`);
  const parts = [`${name}=${value}`];
  const { maxAge, expires, domain, path, sameSite } = attributes;
  if (maxAge !== undefined) {
    if (!Number.isSafeInteger(maxAge) || maxAge < 0) throw new TypeError(`invalid Max-Age ${maxAge}`);
    parts.push(`Max-Age=${maxAge}`);
  }
  if (expires !== undefined) {
    if (Number.isNaN(expires.getTime())) throw new TypeError('invalid Expires date');
    parts.push(`Expires=${expires.toUTCString()}`);
  }
  if (domain !== undefined) {
    if (!DOMAIN.test(domain)) throw new TypeError(`invalid Domain ${JSON.stringify(domain)}`);
    parts.push(`Domain=${domain}`);
  }
  if (path !== undefined) {
    if (!PATH.test(path)) throw new TypeError(`invalid Path ${JSON.stringify(path)}`);
    parts.push(`Path=${path}`);
  }
  if (attributes.secure) parts.push('Secure');
  if (attributes.httpOnly) parts.push('HttpOnly');
  if (sameSite !== undefined) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

/**
 * Whether browsers will only accept `name` with the Secure attribute: the
 * `__Secure-` and `__Host-` prefixes (matched case-insensitively by current
 * browsers).
 */
export function requiresSecure(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('__secure-') || lower.startsWith('__host-');
}

/** Expires for a deleting Set-Cookie: clients that ignore Max-Age=0 still drop it. */
export const EPOCH = new Date(0);

/**
 * A 256-bit key for sealing cookie values, derived with HKDF-SHA256 from the
 * configured secret. `info` names the purpose and the plugin instance, so
 * each gets an independent key from the one secret.
 */
export function deriveCookieKey(secret: string, info: string): Uint8Array {
  if (secret.length === 0) throw new TypeError('cookie secret must not be empty');
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, 32));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** `payload` as a compact JWE (alg dir, enc A256GCM) under `key`. */
export async function sealJson(payload: Record<string, unknown>, key: Uint8Array): Promise<string> {
  return new CompactEncrypt(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .encrypt(key);
}

/**
 * The JSON object sealed in `token` by `sealJson` with the same key, or
 * undefined when it is malformed, tampered with or sealed under another key.
 * Never throws: a bad cookie is the client's problem, not an error.
 */
export async function unsealJson(
  token: string,
  key: Uint8Array,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { plaintext } = await compactDecrypt(token, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    const payload: unknown = JSON.parse(decoder.decode(plaintext));
    return isRecord(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

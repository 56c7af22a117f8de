/**
 * Request-target normalisation: the one place where a raw request target
 * becomes the path that is routed, checked by plugins and forwarded upstream.
 * Shared (pure) so that the controller compares route paths exactly as the
 * proxy matches them.
 *
 * Path safety rests on those three seeing exactly the same string, so the
 * forwarding layer must send `path + query` from here, never the raw target.
 * Anything an upstream could read differently from us (encoded slashes or
 * backslashes, control characters, fragments, malformed escapes, dot segments
 * with path parameters) is refused rather than guessed at.
 */
import type { ErrorCode } from './errors.js';

/** The codes a refused request target answers with. */
export type RequestTargetError = Extract<ErrorCode, 'PCS_BAD_REQUEST_TARGET' | 'PCS_BAD_PATH'>;

export type NormalizedTarget =
  { ok: true; path: string; query: string } | { ok: false; code: RequestTargetError };

const SPACE = 0x20;
const HASH = 0x23;
const PERCENT = 0x25;
const DOT = 0x2e;
const SLASH = 0x2f;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;
const DEL = 0x7f;
const HEX_DIGITS = '0123456789ABCDEF';

// Shared, frozen: refusals carry no per-request data, so they need no allocation.
const BAD_TARGET: NormalizedTarget = Object.freeze({ ok: false, code: 'PCS_BAD_REQUEST_TARGET' });
const BAD_PATH: NormalizedTarget = Object.freeze({ ok: false, code: 'PCS_BAD_PATH' });

/**
 * Splits an origin-form request target into a normalised path and the raw
 * query (with its leading `?`, or '').
 *
 * Refuses with PCS_BAD_REQUEST_TARGET anything not starting with `/`
 * (absolute-form, authority-form, `*`), and with PCS_BAD_PATH a path holding
 * a raw control character, space, DEL, `#` or `\`, a malformed escape, or an
 * escape of a control character, `/` or `\`, or a dot segment with path
 * parameters (`..;x`, `.;`, `%2e%2e%3B`). Otherwise normalises once per
 * RFC 3986 §6.2.2: decodes escaped unreserved characters, upper-cases the hex
 * of the other escapes, merges repeated slashes and removes dot segments
 * (§5.2.4), keeping a trailing slash. The query is passed through untouched.
 */
export function normalizeRequestTarget(rawUrl: string): NormalizedTarget {
  if (rawUrl.charCodeAt(0) !== SLASH) return BAD_TARGET;
  const queryStart = rawUrl.indexOf('?');
  const pathEnd = queryStart === -1 ? rawUrl.length : queryStart;
  const path = normalizeRange(rawUrl, pathEnd);
  if (path === undefined) return BAD_PATH;
  return { ok: true, path, query: queryStart === -1 ? '' : rawUrl.slice(queryStart) };
}

/**
 * The same normalisation for a bare path (no query split), for route paths in
 * the config so that they compare equal to normalised request paths.
 * Undefined when the path would be refused as a request path.
 */
export function normalizePath(path: string): string | undefined {
  return path.charCodeAt(0) === SLASH ? normalizeRange(path, path.length) : undefined;
}

/**
 * The key the proxy indexes a route's (non-regex) path under, and so the
 * place two routes compete for: the normalised path, and for a prefix
 * without its trailing slash (`/` stays). The controller settles conflicts
 * on this key, so that `/pay%6Dents` and `/payments` are one claim.
 * Undefined when the path would be refused as a request path: such a route
 * can never match.
 */
export function routePathKey(path: string, prefix: boolean): string | undefined {
  const normalized = normalizePath(path);
  if (normalized === undefined || !prefix) return normalized;
  return normalized.length > 1 && normalized.charCodeAt(normalized.length - 1) === SLASH
    ? normalized.slice(0, -1)
    : normalized;
}

/**
 * A normalised path as an upstream that drops path parameters reads it
 * (Tomcat, Jetty and Spring cut each segment at its first `;`; some decode
 * `%3B` first, so that counts too), with the segments this empties merged
 * away: `/payments;jsessionid=1` → `/payments`. The path itself, with no
 * allocation, when it has no parameters.
 */
export function withoutPathParameters(path: string): string {
  // Native searches: most paths hold neither, and leave here at once.
  if (path.indexOf(';') === -1 && path.indexOf('%3') === -1) return path;
  const end = path.length;
  let out = '';
  let lastEmpty = false;
  let start = 1;
  while (start <= end) {
    let stop = path.indexOf('/', start);
    if (stop === -1) stop = end;
    let cut = start;
    while (cut < stop && !isParameterStart(path, cut, stop)) cut++;
    lastEmpty = cut === start;
    if (!lastEmpty) out += '/' + path.slice(start, cut);
    start = stop + 1;
  }
  // A segment that was only parameters leaves a trailing slash, as a trailing slash does.
  return out === '' ? '/' : lastEmpty ? out + '/' : out;
}

/** `;`, or an escaped one (`%3B`, any case), at `raw[i]` before `end`. */
function isParameterStart(raw: string, i: number, end: number): boolean {
  const c = raw.charCodeAt(i);
  if (c === SEMICOLON) return true;
  return (
    c === PERCENT && i + 2 < end && raw.charCodeAt(i + 1) === 0x33 && (raw.charCodeAt(i + 2) | 0x20) === 0x62
  );
}

/** Normalises `raw[0, end)`, which starts with `/`; undefined when it must be refused. */
function normalizeRange(raw: string, end: number): string | undefined {
  // One scan both validates and finds what rewriting is needed: most request
  // paths need none and leave here without building a string.
  let escaped = false;
  let dotOrEmptySegment = false;
  for (let i = 0; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c <= SPACE || c === DEL || c === HASH || c === BACKSLASH) return undefined;
    if (c === PERCENT) escaped = true;
    else if (c === SLASH) {
      if (isDotSegmentWithParameters(raw, i + 1, end)) return undefined;
      if (!dotOrEmptySegment) dotOrEmptySegment = isDotOrEmptySegment(raw, i + 1, end);
    }
  }
  let path = end === raw.length ? raw : raw.slice(0, end);
  if (escaped) {
    const decoded = decodeUnreserved(path);
    if (decoded === undefined) return undefined;
    path = decoded;
    // Decoding can make dot segments (`%2e%2e`), with parameters too (`%2e%2e;`), so look again.
    const segments = classifySegments(path);
    if (segments === REFUSED) return undefined;
    dotOrEmptySegment ||= segments === REWRITE;
  }
  return dotOrEmptySegment ? removeDotSegments(path) : path;
}

const CLEAN = 0;
const REWRITE = 1;
const REFUSED = 2;

/** REFUSED for a dot segment with parameters, REWRITE for a dot or empty segment, else CLEAN. */
function classifySegments(path: string): number {
  let found = CLEAN;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (isDotSegmentWithParameters(path, i + 1, path.length)) return REFUSED;
    if (found === CLEAN && isDotOrEmptySegment(path, i + 1, path.length)) found = REWRITE;
  }
  return found;
}

/**
 * Whether the segment at `start` is `.` or `..` followed by path parameters
 * (`;`, or `%3B`, which stacks that decode before splitting read as `;`).
 * Tomcat, Jetty and Spring drop the parameters and then resolve the dots, so
 * `/public/..;/admin` would be `/admin` upstream but `/public/..;/admin` here.
 */
function isDotSegmentWithParameters(raw: string, start: number, end: number): boolean {
  if (start >= end || raw.charCodeAt(start) !== DOT) return false;
  let i = start + 1;
  if (i < end && raw.charCodeAt(i) === DOT) i++;
  return i < end && isParameterStart(raw, i, end);
}

/** Whether the segment at `start` (just after a `/`) must go: `.`, `..`, or empty with more path after it. */
function isDotOrEmptySegment(raw: string, start: number, end: number): boolean {
  if (start >= end) return false; // a trailing slash is kept
  const first = raw.charCodeAt(start);
  if (first === SLASH) return true;
  if (first !== DOT) return false;
  const after = start + 1;
  if (after === end || raw.charCodeAt(after) === SLASH) return true;
  if (raw.charCodeAt(after) !== DOT) return false;
  return after + 1 === end || raw.charCodeAt(after + 1) === SLASH;
}

/**
 * Decodes escaped unreserved characters and upper-cases the other escapes.
 * Decoding happens before dot-segment removal so that `%2e%2e` cannot smuggle
 * a `..` past it; it happens once, so `%252e` stays an escaped `%`.
 */
function decodeUnreserved(raw: string): string | undefined {
  const end = raw.length;
  let out = '';
  let copiedTo = 0;
  for (let i = 0; i < end; i++) {
    if (raw.charCodeAt(i) !== PERCENT) continue;
    const high = i + 1 < end ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const low = i + 2 < end ? hexValue(raw.charCodeAt(i + 2)) : -1;
    if (high < 0 || low < 0) return undefined;
    const byte = high * 16 + low;
    if (byte < SPACE || byte === DEL || byte === SLASH || byte === BACKSLASH) return undefined;
    out += raw.slice(copiedTo, i);
    out += isUnreserved(byte) ? String.fromCharCode(byte) : '%' + HEX_DIGITS[high] + HEX_DIGITS[low];
    i += 2;
    copiedTo = i + 1;
  }
  return out + raw.slice(copiedTo, end);
}

/** Merges empty segments and resolves `.` and `..` (never above the root), keeping a trailing slash. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '..') out.pop();
    else if (segment !== '.' && segment !== '') out.push(segment);
  }
  if (out.length === 0) return '/';
  const last = segments[segments.length - 1];
  const trailingSlash = last === '' || last === '.' || last === '..';
  return '/' + out.join('/') + (trailingSlash ? '/' : '');
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  const lower = c | 0x20;
  return (
    (lower >= 0x61 && lower <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === DOT ||
    c === 0x5f ||
    c === 0x7e
  );
}

/**
 * Where to send the browser after login. The path comes from the request
 * that started the login, so an attacker can choose it: anything that could
 * leave this origin (an open redirect) must be refused.
 */

/** Longer paths are refused: they ride in the authorization cookie. */
export const MAX_RETURN_PATH_LENGTH = 2048;

/** Printable US-ASCII only: no whitespace, controls, DEL or raw non-ASCII anywhere. */
const PRINTABLE = /^[\x21-\x7E]+$/;
/** A "%" must start a percent-encoded octet. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** A percent-encoded control character (some decoders strip or split on them). */
const ENCODED_CONTROL = /%(?:[01][0-9A-Fa-f]|7[Ff])/;
/** Percent-encoded "/", "\", "." or "%" in the path: a decoding server could turn them into "//" or "..". */
const ENCODED_PATH_DELIMITER = /%(?:2[FfEe5]|5[Cc])/;
/** Empty ("//"), "." and ".." segments: browsers never send them, and resolving them could yield "//host". */
const UNNORMALISED_SEGMENT = /\/\/|\/\.{1,2}(?=\/|$)/;

/**
 * `candidate` when it is a relative reference that every browser resolves
 * on this origin, else `'/'`. Conservative by design: it accepts what a
 * browser sends as a request target (normalised, percent-encoded) and
 * refuses anything unusual rather than trying to reason about it.
 *
 * Accepted: a single leading "/" followed by printable US-ASCII without "\",
 * with well-formed percent-encoding that encodes no control character, and
 * a path part (before "?" or "#") with no empty, "." or ".." segment and no
 * encoded "/", "\", "." or "%". Query strings may hold anything printable,
 * including "%2F" and "%20" (common in real query strings, and inert: a
 * query cannot change the origin).
 */
export function safeReturnPath(candidate: string): string {
  return isSafeReturnPath(candidate) ? candidate : '/';
}

function isSafeReturnPath(candidate: string): boolean {
  if (candidate.length > MAX_RETURN_PATH_LENGTH || !PRINTABLE.test(candidate)) return false;
  // "//host" and "/\host" are network-path references to another origin.
  if (!candidate.startsWith('/') || candidate.startsWith('//') || candidate.includes('\\')) return false;
  if (BAD_PERCENT.test(candidate) || ENCODED_CONTROL.test(candidate)) return false;
  const path = candidate.split(/[?#]/, 1)[0] ?? '';
  return !ENCODED_PATH_DELIMITER.test(path) && !UNNORMALISED_SEGMENT.test(path);
}

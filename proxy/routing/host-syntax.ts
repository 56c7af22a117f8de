/**
 * Host header syntax: `host[:port]` (RFC 9110 §7.2, RFC 3986 §3.2.2), checked
 * before routing. The Host routes the request and is copied into redirects
 * and the login redirect_uri, so anything a URL parser could read as another
 * authority (userinfo `@`, `/`, `#`, `?`, `%`, `\`, spaces, controls) or as a
 * different address is refused rather than cut at the first `:`.
 */
import { isIPv6 } from 'node:net';

const DOT = 0x2e;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MAX_NAME = 253;
const MAX_LABEL = 63;

/**
 * Whether a present Host header is a valid `host[:port]`:
 * - host: a name of letters, digits, `-` and `_` in dot-separated labels
 *   (1–63 characters each, 253 in all, one trailing dot allowed, any case),
 *   a dotted-decimal IPv4 address, or a bracketed IPv6 address (no zone id,
 *   no IPvFuture);
 * - port: 1–5 digits, at most 65535; `host:` with no digits is refused.
 * A name whose last label is a number (`1.2.3.999`, `0x7f.1`, `2130706433`)
 * must be a dotted-decimal IPv4 address, since URL parsers read such names
 * as addresses of their own (WHATWG URL: hex, octal, fewer parts).
 */
export function isValidHostHeader(header: string): boolean {
  const end = header.length;
  if (header.charCodeAt(0) === OPEN_BRACKET) {
    const close = header.indexOf(']');
    if (close === -1 || !isIPv6Literal(header, 1, close)) return false;
    return close + 1 === end || (header.charCodeAt(close + 1) === COLON && isPort(header, close + 2, end));
  }
  // A name holds no `:`, so the first one starts the port; isPort refuses a second.
  const colon = header.indexOf(':');
  if (colon === -1) return isName(header, 0, end);
  return isName(header, 0, colon) && isPort(header, colon + 1, end);
}

function isName(h: string, start: number, end: number): boolean {
  const nameEnd = end > start && h.charCodeAt(end - 1) === DOT ? end - 1 : end;
  if (nameEnd === start || nameEnd - start > MAX_NAME) return false;
  let label = start;
  for (let i = start; i < nameEnd; i++) {
    const c = h.charCodeAt(i);
    if (c === DOT) {
      if (i === label || i - label > MAX_LABEL) return false;
      label = i + 1;
    } else if (!isNameChar(c)) return false;
  }
  if (nameEnd === label || nameEnd - label > MAX_LABEL) return false;
  return !isNumber(h, label, nameEnd) || isIPv4(h, start, nameEnd);
}

/** Letters, digits, `-` and `_` (found in internal names; they only reach the catch-all host). */
function isNameChar(c: number): boolean {
  const lower = c | 0x20;
  return (lower >= 0x61 && lower <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

/** Whether a WHATWG URL parser reads this last label as a number: all digits, or `0x` and hex digits. */
function isNumber(h: string, start: number, end: number): boolean {
  let i = start;
  if (end - start >= 2 && h.charCodeAt(start) === 0x30 && (h.charCodeAt(start + 1) | 0x20) === 0x78) {
    for (i = start + 2; i < end; i++) if (hexValue(h.charCodeAt(i)) < 0) return false;
    return true;
  }
  for (; i < end; i++) if (!isDigit(h.charCodeAt(i))) return false;
  return true;
}

/** Four decimal parts of 0–255 without leading zeros (RFC 3986 dec-octet). */
function isIPv4(h: string, start: number, end: number): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? DOT : h.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
    } else {
      if (!isDigit(c) || (digits === 1 && value === 0)) return false;
      value = value * 10 + c - 0x30;
      digits++;
    }
  }
  return parts === 4;
}

/** Hex digits, `:` and `.` only (so no zone id `%`, no IPvFuture `v`), then a real IPv6 address. */
function isIPv6Literal(h: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = h.charCodeAt(i);
    if (c !== COLON && c !== DOT && hexValue(c) < 0) return false;
  }
  return end > start && h.charCodeAt(end) === CLOSE_BRACKET && isIPv6(h.slice(start, end));
}

function isPort(h: string, start: number, end: number): boolean {
  if (end === start || end - start > 5) return false;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = h.charCodeAt(i);
    if (!isDigit(c)) return false;
    value = value * 10 + c - 0x30;
  }
  return value <= 65535;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (isDigit(c)) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

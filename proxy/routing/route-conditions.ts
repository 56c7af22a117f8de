/**
 * A route's request conditions besides host, path and method: the headers it
 * requires (konghq.com/headers.*) and the TLS server names it serves
 * (konghq.com/snis). Compiled once per route table; a route without any has
 * no Conditions at all, so matching it costs nothing more than before.
 *
 * As in Kong, every header must be present and equal one of its values,
 * compared case-insensitively, and the SNI must be one of the names. Stricter
 * than Kong in two places, because either would let a request through that
 * the route does not name: a header sent more than once (or as a
 * comma-separated list) matches only when each of its values is allowed, and
 * a route with snis never matches a request without SNI, plain http included
 * (Kong's traditional router skips the SNI test on plain http).
 */
import type { Route } from '../../contract/compiled-config.js';

/** Request headers as Node gives them: lower-case names, repeats joined with `, ` (set-cookie: an array). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

interface HeaderCondition {
  name: string;
  values: ReadonlySet<string>;
}

export interface Conditions {
  headers: readonly HeaderCondition[];
  snis: ReadonlySet<string> | undefined;
  /** Higher first among routes for one path: a route that names more of the request wins. */
  specificity: number;
}

/** The route's conditions, or undefined when it has none (it then matches on host, path and method alone). */
export function conditionsOf(route: Route): Conditions | undefined {
  const headers = route.headers ?? [];
  const snis = route.snis?.length ? route.snis : undefined;
  if (headers.length === 0 && snis === undefined) return undefined;
  return {
    headers: headers.map((h) => ({ name: h.name, values: new Set(h.values.map((v) => v.toLowerCase())) })),
    snis: snis && new Set(snis),
    // Kong ranks routes by how many kinds of condition they set, then by their number of headers.
    specificity: ((headers.length > 0 ? 1 : 0) + (snis ? 1 : 0)) * 1024 + headers.length,
  };
}

/** Whether a request with these headers and TLS server name (undefined: none, or plain http) meets `conditions`. */
export function meetsConditions(
  conditions: Conditions,
  headers: RequestHeaders | undefined,
  sni: string | undefined,
): boolean {
  if (conditions.snis !== undefined) {
    if (sni === undefined || !conditions.snis.has(normalizeServerName(sni))) return false;
  }
  for (const header of conditions.headers) {
    // Own properties only: req.headers inherits from Object.prototype, where
    // `constructor` or `__proto__` would read a function or an object.
    if (headers === undefined || !Object.hasOwn(headers, header.name)) return false;
    if (!headerAllowed(header.values, headers[header.name])) return false;
  }
  return true;
}

/** Only a string or a non-empty array of strings can match; anything else is no value. */
function headerAllowed(values: ReadonlySet<string>, sent: unknown): boolean {
  if (typeof sent === 'string') return valueAllowed(values, sent);
  if (!Array.isArray(sent) || sent.length === 0) return false;
  for (const one of sent) if (typeof one !== 'string' || !valueAllowed(values, one)) return false;
  return true;
}

/** A value is allowed whole, or, when it is a list (a repeated header), element by element. */
function valueAllowed(values: ReadonlySet<string>, sent: string): boolean {
  const lower = sent.toLowerCase();
  if (values.has(lower)) return true;
  if (!lower.includes(',')) return false;
  for (const part of lower.split(',')) if (!values.has(part.trim())) return false;
  return true;
}

/** SNI names compare without case and without the root dot, as Kong routes them. */
function normalizeServerName(sni: string): string {
  const lower = sni.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

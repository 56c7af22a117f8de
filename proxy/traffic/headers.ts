import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { UpstreamChanges } from '../plugins/registry.js';
import { canonicalHeaderName, withoutCookies, type OwnedNames } from './owned-names.js';

/** Hop-by-hop request headers (RFC 9110 §7.6.1); callers remove the names `Connection` lists. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'http2-settings',
]);

/**
 * Header name prefixes that carry identity the proxy asserts to upstreams
 * (Kong's names). A client must never be able to supply them, on any route,
 * with or without auth plugins, so they are dropped before the proxy adds
 * its own. Matched on canonical names (`_` read as `-`).
 */
const IDENTITY = /^x-(consumer|credential|authenticated|anonymous)-/;

/** Headers describing the client's connection; only a trusted peer may supply them (canonical names). */
const FORWARDED = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-real-ip',
]);

export interface ForwardingContext {
  /** The TCP peer's address. */
  peer: string;
  /** Whether the peer is a trusted proxy whose X-Forwarded-* may be kept. */
  trusted: boolean;
  proto: 'http' | 'https';
  /** The Host header as the client sent it. */
  host: string | undefined;
  localPort: number;
  preserveHost: boolean;
  /** The path prefix stripped from the request, when strip-path removed one. */
  strippedPrefix: string | undefined;
  /** The header and cookie names the proxy owns on this route: never taken from the client. */
  owned: OwnedNames;
  /** Headers the route's plugins set or remove (identity, tokens, hidden credentials). */
  changes?: UpstreamChanges;
}

/**
 * The headers sent upstream, as a new object built from the client's:
 * hop-by-hop headers, the names `Connection` lists, `Expect` (the proxy
 * answers 100-continue itself), any identity or forwarding header a client
 * may not assert and every name the proxy owns in this config (`_` and `-`
 * alike) are left out, and so are the proxy's cookies; then the proxy's own
 * are added, so a client cannot have those removed. Without `preserveHost`
 * there is no `host`: the connection pool sets the target's.
 *
 * Built fresh rather than edited in place: on Node 20, adding properties to
 * a spread copy of an object costs microseconds each (a V8 map transition
 * cliff), which once dominated the request path.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  ctx: ForwardingContext,
): IncomingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const { changes, owned } = ctx;
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (
      value === undefined ||
      name === 'host' ||
      name === 'expect' ||
      HOP_BY_HOP.has(name) ||
      named?.has(name)
    ) {
      continue;
    }
    const canonical = canonicalHeaderName(name);
    if (
      FORWARDED.has(canonical) ||
      IDENTITY.test(canonical) ||
      owned.ownsHeader(canonical) ||
      // Plugins' removals and replacements are left out here rather than deleted
      // later: `delete` turns the object into a slow dictionary for every later use.
      (changes !== undefined && (changes.removeHeaders.has(name) || Object.hasOwn(changes.setHeaders, name)))
    ) {
      continue;
    }
    if (name === 'cookie') {
      // Node joins repeated Cookie headers into one string.
      let kept = owned.withoutOwnedCookies(value as string);
      const hidden = changes?.removeCookies;
      if (kept !== undefined && hidden) kept = withoutCookies(kept, (n) => hidden.includes(n));
      if (kept !== undefined) out.cookie = kept;
      continue;
    }
    out[name] = value;
  }

  const prior = (name: string) => (ctx.trusted && !named?.has(name) ? headers[name] : undefined);
  const forwardedFor = prior('x-forwarded-for');
  out['x-forwarded-for'] = forwardedFor
    ? `${Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor}, ${ctx.peer}`
    : ctx.peer;
  out['x-forwarded-proto'] = first(prior('x-forwarded-proto')) || ctx.proto;
  const host = first(prior('x-forwarded-host')) || ctx.host;
  if (host) out['x-forwarded-host'] = host;
  out['x-forwarded-port'] = first(prior('x-forwarded-port')) || String(ctx.localPort);
  out['x-real-ip'] = first(prior('x-real-ip')) || ctx.peer;
  const prefix = first(prior('x-forwarded-prefix')) || ctx.strippedPrefix;
  if (prefix) out['x-forwarded-prefix'] = prefix;
  const forwarded = prior('forwarded');
  if (forwarded !== undefined) out.forwarded = String(forwarded);
  if (ctx.preserveHost && ctx.host !== undefined) out.host = ctx.host;
  if (changes) {
    for (const name in changes.setHeaders) out[name] = changes.setHeaders[name];
    // A replaced body has a known length; transfer-encoding is hop-by-hop and already left out.
    if (changes.body) out['content-length'] = String(changes.body.length);
  }
  return out;
}

/** The lower-cased header names a `Connection` header lists, or undefined when there are none. */
function connectionTokens(connection: string | string[] | undefined): Set<string> | undefined {
  // The usual values name no other header: skip the parsing on every keep-alive response.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return undefined;
  const names = new Set<string>();
  for (const token of String(connection).split(',')) {
    const name = token.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);

/** The upstream's response headers without hop-by-hop ones, including those its `Connection` names. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || RESPONSE_HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

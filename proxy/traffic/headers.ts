import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

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
 * Header name prefixes that carry identity the proxy asserts to upstreams.
 * A client must never be able to supply them, on any route, with or without
 * auth plugins, so they are dropped before the proxy adds its own.
 */
const IDENTITY = /^x-(consumer|credential|authenticated|anonymous)-/;

/** Headers describing the client's connection; only a trusted peer may supply them. */
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
}

/**
 * The headers sent upstream, as a new object. @fastify/reply-from has
 * already removed `Connection` and every header it names, and set `host` to
 * the target; headers added here cannot be stripped by a client.
 *
 * A fresh object rather than edits in place: on Node 20, adding properties
 * to the spread copy reply-from makes costs microseconds each (a V8 map
 * transition cliff), which dominated the request path.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  ctx: ForwardingContext,
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || FORWARDED.has(name) || IDENTITY.test(name)) continue;
    out[name] = value;
  }

  const forwardedFor = ctx.trusted ? headers['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = forwardedFor
    ? `${Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor}, ${ctx.peer}`
    : ctx.peer;
  out['x-forwarded-proto'] = (ctx.trusted && first(headers['x-forwarded-proto'])) || ctx.proto;
  const host = (ctx.trusted && first(headers['x-forwarded-host'])) || ctx.host;
  if (host) out['x-forwarded-host'] = host;
  out['x-forwarded-port'] = (ctx.trusted && first(headers['x-forwarded-port'])) || String(ctx.localPort);
  out['x-real-ip'] = (ctx.trusted && first(headers['x-real-ip'])) || ctx.peer;
  const prefix = (ctx.trusted && first(headers['x-forwarded-prefix'])) || ctx.strippedPrefix;
  if (prefix) out['x-forwarded-prefix'] = prefix;
  if (ctx.trusted && headers.forwarded !== undefined) out.forwarded = headers.forwarded;
  if (ctx.preserveHost && ctx.host !== undefined) out.host = ctx.host;
  return out;
}

/** Removes hop-by-hop headers from an upstream response, including those its `Connection` names. */
export function clientResponseHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection;
  if (typeof connection === 'string') {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name) delete headers[name];
    }
  }
  for (const name of [
    'connection',
    'keep-alive',
    'proxy-connection',
    'transfer-encoding',
    'upgrade',
    'trailer',
  ]) {
    if (headers[name] !== undefined) delete headers[name];
  }
  return headers;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

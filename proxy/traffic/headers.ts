import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop request headers (RFC 9110 §7.6.1) beyond `Connection` and the names it lists. */
const HOP_BY_HOP = [
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'http2-settings',
];

/**
 * Header name prefixes that carry identity the proxy asserts to upstreams.
 * A client must never be able to supply them, on any route, with or
 * without auth plugins, so they are dropped before any plugin runs.
 */
const IDENTITY_PREFIXES = ['x-consumer-', 'x-credential-', 'x-authenticated-', 'x-anonymous-'];

const FORWARDED = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-real-ip',
];

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
 * Rewrites a copy of the client's headers for the upstream. @fastify/reply-from
 * has already removed `Connection` and every header it names, and set `host`
 * to the target; so headers added here cannot be stripped by a client.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  ctx: ForwardingContext,
): IncomingHttpHeaders {
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
  for (const name in headers) {
    if (name.charCodeAt(0) === 120 /* x */ && IDENTITY_PREFIXES.some((p) => name.startsWith(p)))
      delete headers[name];
  }

  const priorFor = ctx.trusted ? headers['x-forwarded-for'] : undefined;
  const prior = ctx.trusted
    ? {
        proto: first(headers['x-forwarded-proto']),
        host: first(headers['x-forwarded-host']),
        port: first(headers['x-forwarded-port']),
        prefix: first(headers['x-forwarded-prefix']),
        realIp: first(headers['x-real-ip']),
      }
    : undefined;
  if (!ctx.trusted) for (const name of FORWARDED) if (headers[name] !== undefined) delete headers[name];

  headers['x-forwarded-for'] = priorFor
    ? `${Array.isArray(priorFor) ? priorFor.join(', ') : priorFor}, ${ctx.peer}`
    : ctx.peer;
  headers['x-forwarded-proto'] = prior?.proto ?? ctx.proto;
  headers['x-forwarded-host'] = prior?.host ?? ctx.host ?? '';
  headers['x-forwarded-port'] = prior?.port ?? String(ctx.localPort);
  headers['x-real-ip'] = prior?.realIp ?? ctx.peer;
  const prefix = prior?.prefix ?? ctx.strippedPrefix;
  if (prefix) headers['x-forwarded-prefix'] = prefix;
  else delete headers['x-forwarded-prefix'];
  if (ctx.preserveHost && ctx.host !== undefined) headers.host = ctx.host;
  return headers;
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

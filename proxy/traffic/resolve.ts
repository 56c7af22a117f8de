import type { TLSSocket } from 'node:tls';
import type { Route } from '../../contract/index.js';
import type { ErrorCode } from '../../common/errors.js';
import { normalizeHost } from '../routing/host.js';
import type { RequestHeaders } from '../routing/route-table.js';
import { isValidHostHeader } from '../routing/host-syntax.js';
import { normalizeRequestTarget, withoutPathParameters } from '../../common/normalize-path.js';
import { upstreamPath } from '../routing/upstream-path.js';
import type { RouteRuntime, RuntimeConfig } from '../runtime-config.js';

export interface Resolved {
  ok: true;
  route: Route;
  runtime: RouteRuntime;
  /** The normalised path: what routing, plugins and the upstream all see. */
  path: string;
  query: string;
  /** The path sent upstream (after strip-path and the service path). */
  upstreamPath: string;
  /** The prefix strip-path removed, for X-Forwarded-Prefix. */
  strippedPrefix: string | undefined;
}

export type Resolution =
  Resolved | { ok: false; code: ErrorCode; route?: Route; location?: string; status?: number };

// Shared, frozen: these refusals carry no per-request data.
const BAD_HOST: Resolution = Object.freeze({ ok: false, code: 'PCS_BAD_HOST' });
const BAD_PATH: Resolution = Object.freeze({ ok: false, code: 'PCS_BAD_PATH' });

/** The server name a TLS client sent (SNI), for konghq.com/snis; undefined on plain http or without SNI. */
export function serverNameOf(socket: TLSSocket | null | undefined): string | undefined {
  const name = socket?.encrypted === true ? (socket.servername as unknown) : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Decides what a request is, before anything is forwarded: its safe path,
 * its route and whether that route may be served over this protocol. Shared
 * by plain requests and WebSocket upgrades so both obey the same rules.
 */
export function resolveRequest(
  runtime: RuntimeConfig,
  rawUrl: string,
  hostHeader: string | undefined,
  method: string,
  proto: 'http' | 'https',
  httpsRedirectPort: number,
  /** Read only by routes with header conditions (konghq.com/headers.*). */
  headers?: RequestHeaders,
  /** The TLS server name the client sent; undefined on plain http or without SNI. */
  sni?: string,
): Resolution {
  // Before routing and before any plugin, so that no route, redirect or
  // redirect_uri is ever made from a Host such as `api.example.com:@evil.test`.
  // An absent Host (HTTP/1.0) is allowed: it can only reach the catch-all host.
  if (hostHeader !== undefined && !isValidHostHeader(hostHeader)) return BAD_HOST;
  const target = normalizeRequestTarget(rawUrl);
  if (!target.ok) return { ok: false, code: target.code };
  const host = normalizeHost(hostHeader);
  const match = runtime.routes.match(host, target.path, method, headers, sni);
  // An upstream that drops `;parameters` (Tomcat, Jetty, Spring) reads
  // `/payments;x` as `/payments`: refuse a path that they would move to
  // another route (or off a 404). Rare, so the second match costs nothing on
  // the common path.
  const bare = withoutPathParameters(target.path);
  if (bare !== target.path && runtime.routes.match(host, bare, method, headers, sni)?.route !== match?.route)
    return BAD_PATH;
  if (!match) return { ok: false, code: 'PCS_ROUTE_NOT_FOUND' };
  const route = match.route;

  if (!route.protocols.includes(proto)) {
    if (proto === 'https' || route.httpsRedirectStatusCode === 426) {
      return proto === 'https'
        ? { ok: false, code: 'PCS_ROUTE_NOT_FOUND', route }
        : { ok: false, code: 'PCS_PROTOCOL_NOT_ALLOWED', route };
    }
    // The Location header is built from client input: only a DNS name or a bracketed IPv6 literal may pass.
    if (!/^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(host))
      return { ok: false, code: 'PCS_BAD_REQUEST_TARGET', route };
    const port = httpsRedirectPort === 443 ? '' : `:${httpsRedirectPort}`;
    return {
      ok: false,
      code: 'PCS_PROTOCOL_NOT_ALLOWED',
      route,
      status: route.httpsRedirectStatusCode,
      location: `https://${host}${port}${target.path}${target.query}`,
    };
  }

  const forwarded = upstreamPath(route, target.path, match.matchedPrefix);
  const strippedPrefix =
    route.stripPath && match.matchedPrefix && match.matchedPrefix !== '/' ? match.matchedPrefix : undefined;
  return {
    ok: true,
    route,
    runtime: runtime.runtimeOf(route),
    path: target.path,
    query: target.query,
    upstreamPath: forwarded,
    strippedPrefix,
  };
}

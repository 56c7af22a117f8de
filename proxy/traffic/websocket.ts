import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ERROR_BODIES, ERRORS, type ErrorCode } from '../../common/errors.js';
import type { RuntimeConfig } from '../runtime-config.js';
import type { FastifyRequest } from 'fastify';
import { emptyUpstreamChanges, type PluginContext, type UpstreamChanges } from '../plugins/registry.js';
import { upstreamRequestHeaders } from './headers.js';
import { UpgradeReply } from './upgrade-reply.js';
import { resolveRequest, serverNameOf } from './resolve.js';
import { peerAddress, type TrustedPeers } from './trusted-peers.js';
import { isCertificateRefusal, upstreamServerName } from './upstream-tls.js';

interface UpgradeDependencies {
  current: () => RuntimeConfig | undefined;
  /** True once the drain began: an upgrade read now would outlive it. */
  draining: () => boolean;
  log: Logger;
  options: { httpsRedirectPort: number };
  trusted: TrustedPeers;
}

/**
 * Passes HTTP upgrades (WebSocket) through to the upstream: the same routing
 * and path rules as any request, then the two sockets are piped together.
 */
export function handleUpgrade(deps: UpgradeDependencies) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    upgrade(deps, req, socket, head).catch((error: unknown) => {
      // Fail closed: an access check that throws never lets the upgrade through.
      deps.log.error({ err: error }, 'upgrade failed');
      refuse(socket, 'PCS_PLUGIN_FAILED');
    });
  };
}

async function upgrade(
  deps: UpgradeDependencies,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  if (deps.draining()) return refuse(socket, 'PCS_SHUTTING_DOWN');
  const runtime = deps.current();
  if (!runtime) return refuse(socket, 'PCS_NOT_READY');
  const tls = (socket as TLSSocket).encrypted === true;
  const resolved = resolveRequest(
    runtime,
    req.url ?? '',
    req.headers.host,
    req.method ?? 'GET',
    tls ? 'https' : 'http',
    deps.options.httpsRedirectPort,
    req.headers,
    serverNameOf(socket as TLSSocket),
  );
  if (!resolved.ok) return refuse(socket, resolved.code, resolved.status, resolved.location);
  const { route, runtime: routeRuntime } = resolved;
  if (routeRuntime.unavailable) return refuse(socket, 'PCS_ROUTE_UNAVAILABLE');
  // The route's access plugins run on the upgrade request as on any other; one
  // that refuses answers on the socket, and the upgrade never reaches the upstream.
  let changes: UpstreamChanges | undefined;
  if (routeRuntime.plugins.length > 0) {
    changes = emptyUpstreamChanges();
    const context: PluginContext = {
      route,
      config: runtime.config,
      path: resolved.path,
      query: resolved.query,
      proto: tls ? 'https' : 'http',
      upstream: changes,
    };
    const request = {
      headers: req.headers,
      raw: req,
      method: req.method ?? 'GET',
    } as unknown as FastifyRequest;
    for (const plugin of routeRuntime.plugins) {
      const reply = new UpgradeReply(socket);
      if (!(await plugin.access(request, reply.asFastifyReply(), context))) {
        if (!reply.sent) refuse(socket, 'PCS_PLUGIN_FAILED');
        return;
      }
    }
  }
  const origin = routeRuntime.balancer.next();
  if (origin === undefined) return refuse(socket, 'PCS_NO_UPSTREAM_TARGETS');

  const url = new URL(origin);
  const peer = peerAddress(req.socket.remoteAddress);
  const headers = upstreamRequestHeaders(req.headers, {
    peer,
    trusted: deps.trusted.has(peer),
    proto: tls ? 'https' : 'http',
    host: req.headers.host,
    localPort: req.socket.localPort ?? 0,
    preserveHost: route.preserveHost,
    strippedPrefix: resolved.strippedPrefix,
    owned: routeRuntime.owned,
    changes,
  });
  if (!route.preserveHost) headers.host = url.host;
  headers.connection = 'upgrade';
  headers.upgrade = req.headers.upgrade;

  const https = url.protocol === 'https:';
  const upstream = (https ? httpsRequest : httpRequest)({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port,
    method: req.method,
    path: resolved.upstreamPath + resolved.query,
    headers,
    agent: false,
    // The same TLS settings as any request to this upstream, and the same server name (the Host sent).
    ...(https
      ? { ...routeRuntime.tls.options, servername: upstreamServerName(String(headers.host ?? url.host)) }
      : {}),
  });
  upstream.setTimeout(route.timeouts.connectMs + route.timeouts.readMs, () =>
    upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
  );
  upstream.on('upgrade', (res, upstreamSocket, upstreamHead) => {
    upstreamSocket.setTimeout(0);
    socket.write(statusLine(res) + rawHeaderLines(res.rawHeaders) + '\r\n');
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('error', () => upstreamSocket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
    upstreamSocket.on('close', () => socket.destroy());
    upstreamSocket.pipe(socket).pipe(upstreamSocket);
  });
  upstream.on('response', (res) => {
    // The upstream declined to upgrade: relay its answer, then close.
    socket.write(statusLine(res) + rawHeaderLines(res.rawHeaders, true) + 'connection: close\r\n\r\n');
    res.pipe(socket);
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    deps.log.warn({ route: route.id, origin, code: error.code }, 'websocket upstream failed');
    refuse(
      socket,
      isCertificateRefusal(error.code)
        ? 'PCS_UPSTREAM_TLS_UNVERIFIED'
        : error.code === 'ETIMEDOUT'
          ? 'PCS_UPSTREAM_TIMEOUT'
          : 'PCS_UPSTREAM_CONNECT_FAILED',
    );
  });
  upstream.end();
}

function statusLine(res: IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
}

function rawHeaderLines(raw: string[], dropHopByHop = false): string {
  let out = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (dropHopByHop && (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding'))
      continue;
    out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return out;
}

function refuse(socket: Duplex, code: ErrorCode, status?: number, location?: string): void {
  if (!socket.writable) return void socket.destroy();
  const finalStatus = status ?? ERRORS[code].status;
  const body = location ? '' : ERROR_BODIES[code];
  socket.end(
    `HTTP/1.1 ${finalStatus} ${STATUS_CODES[finalStatus] ?? ''}\r\n` +
      (location ? `location: ${location}\r\n` : 'content-type: application/json; charset=utf-8\r\n') +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

import { createServer as createHttpServer, METHODS, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { TrafficMetrics } from '../metrics.js';
import type { RuntimeConfig } from '../runtime-config.js';
import { emptyUpstreamChanges, type PluginContext, type UpstreamChanges } from '../plugins/registry.js';
import type { PemPair } from '../tls/certificate-store.js';
import { ERROR_BODIES, ERRORS, type ErrorCode } from '../../common/errors.js';
import { forward } from './forward.js';
import { resolveRequest } from './resolve.js';
import { peerAddress, TrustedPeers } from './trusted-peers.js';
import type { UpstreamPools } from './upstream-pools.js';
import { handleUpgrade } from './websocket.js';

export interface TrafficOptions {
  trustedProxies: string[];
  accessLog: boolean;
  httpsRedirectPort: number;
}

export interface TrafficDependencies {
  /** The config in service now; read once per request. */
  current: () => RuntimeConfig | undefined;
  pools: UpstreamPools;
  metrics: TrafficMetrics;
  log: Logger;
  options: TrafficOptions;
  /** Served until a config names a default certificate. */
  fallbackPem: PemPair;
}

export interface TrafficServers {
  app: FastifyInstance;
  http: Server;
  https: HttpsServer;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The route id that answered, for metrics and the access log. */
    routeId: string;
  }
}

/** Node's defaults cut idle keep-alive connections after 5 s; clients and load balancers expect longer. */
const KEEP_ALIVE_MS = 75_000;

/**
 * The traffic listeners: one fastify app behind an HTTP and an HTTPS server.
 * Every request is routed by this project's own route table (a single
 * catch-all fastify route), then its plugins run, then it is forwarded.
 */
export async function createTrafficServers(deps: TrafficDependencies): Promise<TrafficServers> {
  const trusted = new TrustedPeers(deps.options.trustedProxies);
  let httpsServer: HttpsServer | undefined;

  const app = Fastify({
    logger: false,
    requestIdHeader: false,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    serverFactory: (handler) => {
      const http = createHttpServer(handler);
      httpsServer = createHttpsServer(
        {
          SNICallback: (servername, done) => done(null, deps.current()?.certificates.lookup(servername)),
          // Replaced as soon as a config loads; a server needs some certificate to start.
          ...(deps.current()?.certificates.defaultPem ?? deps.fallbackPem),
        },
        handler,
      );
      for (const server of [http, httpsServer]) {
        server.keepAliveTimeout = KEEP_ALIVE_MS;
        server.headersTimeout = 60_000;
      }
      return http;
    },
    // The router could not decode the URL (`%FF`). This request and reply are
    // fastify's bare ones (no reply.from, no hooks): answer, never forward.
    frameworkErrors: (_error, _request, reply) => sendError(reply, 'PCS_BAD_PATH'),
  });
  app.decorateRequest('routeId', '');
  app.removeAllContentTypeParsers();
  // Bodies stream to the upstream untouched; nothing is buffered or parsed.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    reply.raw.once('close', () => record(request, reply.raw.statusCode, started));
    const runtime = deps.current();
    if (!runtime) return sendError(reply, 'PCS_NOT_READY');
    const socket = request.raw.socket as TLSSocket;
    const proto = socket.encrypted ? 'https' : 'http';
    const resolution = resolveRequest(
      runtime,
      request.raw.url ?? '',
      request.headers.host,
      request.method,
      proto,
      deps.options.httpsRedirectPort,
    );
    if (!resolution.ok) {
      if (resolution.route) request.routeId = resolution.route.id;
      if (resolution.location) {
        return void reply
          .code(resolution.status ?? 301)
          .header('location', resolution.location)
          .send();
      }
      return sendError(reply, resolution.code);
    }
    request.routeId = resolution.route.id;
    const { runtime: routeRuntime } = resolution;
    if (routeRuntime.unavailable) {
      deps.log.warn(
        { route: resolution.route.id, reason: routeRuntime.unavailable.code },
        'route unavailable',
      );
      return sendError(reply, 'PCS_ROUTE_UNAVAILABLE');
    }
    let changes: UpstreamChanges | undefined;
    if (routeRuntime.plugins.length > 0) {
      changes = emptyUpstreamChanges();
      const context: PluginContext = {
        route: resolution.route,
        config: runtime.config,
        path: resolution.path,
        query: resolution.query,
        proto,
        upstream: changes,
      };
      try {
        for (const plugin of routeRuntime.plugins) {
          if (!(await plugin.access(request, reply, context))) return;
        }
      } catch (error) {
        // Fail closed: an access check that throws never lets the request through.
        deps.log.error({ err: error, route: resolution.route.id }, 'plugin failed');
        if (!reply.sent) sendError(reply, 'PCS_PLUGIN_FAILED');
        return;
      }
    }
    const peer = peerAddress(socket.remoteAddress);
    // From here the raw response is ours: fastify's reply machinery is not on the forwarding path.
    reply.hijack();
    forward(request.raw, reply.raw, resolution, {
      log: deps.log,
      metrics: deps.metrics,
      pools: deps.pools,
      forwarding: {
        peer,
        trusted: trusted.has(peer),
        proto,
        host: request.headers.host,
        localPort: socket.localPort ?? 0,
        preserveHost: resolution.route.preserveHost,
        strippedPrefix: resolution.strippedPrefix,
        owned: routeRuntime.owned,
        changes,
      },
    });
  }

  /** Metrics and the access log, once per request when its response closes (however it was answered). */
  function record(request: FastifyRequest, status: number, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.request(request.routeId || 'none', request.method, status, seconds);
    if (!deps.options.accessLog) return;
    // Path only: query strings can carry tokens, and headers are never logged.
    const url = request.raw.url ?? '';
    const q = url.indexOf('?');
    deps.log.info(
      {
        type: 'access',
        method: request.method,
        host: request.headers.host,
        path: q >= 0 ? url.slice(0, q) : url,
        status,
        route: request.routeId || undefined,
        durationMs: Math.round(seconds * 100_000) / 100,
        // Gone (null) when the connection was destroyed, as after a failed upload.
        peer: peerAddress((request.raw.socket as TLSSocket | null)?.remoteAddress),
      },
      'request',
    );
  }

  // A proxy passes every method Node parses (WebDAV and all), not only fastify's defaults.
  // CONNECT never reaches a request handler: Node emits it as its own event.
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method))
      app.addHttpMethod(method, { hasBody: true });
  }
  app.all('*', handle);
  app.setNotFoundHandler(handle);
  app.setErrorHandler((error, request, reply) => {
    deps.log.error({ err: error, route: request.routeId }, 'request failed');
    if (!reply.sent)
      sendError(
        reply,
        (error as { statusCode?: number }).statusCode === 400 ? 'PCS_BAD_PATH' : 'PCS_INTERNAL',
      );
  });
  await app.ready();
  const https = httpsServer!;
  const upgrade = handleUpgrade({ current: deps.current, log: deps.log, options: deps.options, trusted });
  app.server.on('upgrade', upgrade);
  https.on('upgrade', upgrade);
  return { app, http: app.server, https };
}

function sendError(reply: FastifyReply, code: ErrorCode): void {
  reply
    .code(ERRORS[code].status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(ERROR_BODIES[code]);
}

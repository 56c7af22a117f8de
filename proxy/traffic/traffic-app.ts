import { createServer as createHttpServer, METHODS, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { TrafficMetrics } from '../metrics.js';
import type { RuntimeConfig } from '../runtime-config.js';
import { holdContinue, sendContinue } from '../plugins/form-body.js';
import { emptyUpstreamChanges, type PluginContext, type UpstreamChanges } from '../plugins/registry.js';
import type { PemPair } from '../tls/certificate-store.js';
import { ERROR_BODIES, ERRORS, type ErrorCode } from '../../common/errors.js';
import { Drain } from './drain.js';
import { forward } from './forward.js';
import { bodyUnread, declaredLength, hasBody, RequestBodyGuard } from './request-body.js';
import { resolveRequest, serverNameOf } from './resolve.js';
import { peerAddress, TrustedPeers } from './trusted-peers.js';
import type { UpstreamPools } from './upstream-pools.js';
import { handleUpgrade } from './websocket.js';

export interface TrafficOptions {
  trustedProxies: string[];
  accessLog: boolean;
  httpsRedirectPort: number;
  /** Bytes; 0 is no limit. A route's `maxRequestBodySize` wins. */
  maxRequestBodySize: number;
  /** Longest pause between two reads of a request body, ms; 0 is none. */
  clientBodyTimeout: number;
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
  /**
   * Stops accepting; requests already read are answered as usual, any that
   * arrives later gets PCS_SHUTTING_DOWN, every response closes its
   * connection. Resolves when no connection is left, or after `graceMs`.
   */
  drain: (graceMs: number) => Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The route id that answered, for metrics and the access log. */
    routeId: string;
  }
}

/** Node's defaults cut idle keep-alive connections after 5 s; clients and load balancers expect longer. */
const KEEP_ALIVE_MS = 75_000;
/** nginx's 499: the client closed the connection before any answer. */
const CLIENT_CLOSED = 499;

/**
 * The traffic listeners: one fastify app behind an HTTP and an HTTPS server.
 * Every request is routed by this project's own route table (a single
 * catch-all fastify route), then its plugins run, then it is forwarded.
 */
export async function createTrafficServers(deps: TrafficDependencies): Promise<TrafficServers> {
  const trusted = new TrustedPeers(deps.options.trustedProxies);
  const drain = new Drain();
  let httpsServer: HttpsServer | undefined;

  const app = Fastify({
    logger: false,
    requestIdHeader: false,
    exposeHeadRoutes: false,
    // The drain answers requests itself (coded, Connection: close); fastify's own close is not used.
    return503OnClosing: false,
    serverFactory: (handler) => {
      const http = createHttpServer({ ServerResponse: drain.Response }, handler);
      httpsServer = createHttpsServer(
        {
          ServerResponse: drain.Response,
          SNICallback: (servername, done) => done(null, deps.current()?.certificates.lookup(servername)),
          // Replaced as soon as a config loads; a server needs some certificate to start.
          ...(deps.current()?.certificates.defaultPem ?? deps.fallbackPem),
        },
        handler,
      );
      for (const server of [http, httpsServer]) {
        server.keepAliveTimeout = KEEP_ALIVE_MS;
        server.headersTimeout = 60_000;
        // Node would send `100 Continue` itself, before any plugin ran; it is
        // sent once the body is wanted (forwarding, or a plugin reading it).
        server.on('checkContinue', (req, res) => {
          holdContinue(req, res);
          handler(req, res);
        });
      }
      return http;
    },
    // The router could not decode the URL (`%FF`). This request and reply are
    // fastify's bare ones (no reply.from, no hooks): answer, never forward.
    frameworkErrors: (_error, request, reply) => {
      closeIfBodyUnread(request, reply);
      sendError(reply, 'PCS_BAD_PATH');
    },
  });
  app.decorateRequest('routeId', '');
  app.removeAllContentTypeParsers();
  // Bodies stream to the upstream untouched; nothing is buffered or parsed.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  // Every answer the proxy gives itself (errors, redirects, plugin refusals) goes through here.
  app.addHook('onSend', (request, reply, payload, done) => {
    closeIfBodyUnread(request, reply);
    done(null, payload);
  });

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    reply.raw.once('close', () => record(request, reply, started));
    // Arrived on a kept-alive connection after the drain began: the client retries elsewhere.
    if (drain.active) return sendError(reply, 'PCS_SHUTTING_DOWN');
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
      request.headers,
      serverNameOf(socket),
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
    // Only requests with a body do any of this: the limits cost nothing on the others.
    const body = hasBody(request.raw);
    let guard: RequestBodyGuard | undefined;
    if (body) {
      const limit = resolution.route.maxRequestBodySize ?? deps.options.maxRequestBodySize;
      const declared = declaredLength(request.raw);
      // Refused before any plugin runs, and without a 100 Continue, so the body is never sent.
      if (limit > 0 && declared !== undefined && declared > limit)
        return sendError(reply, 'PCS_REQUEST_BODY_TOO_LARGE');
      // A declared length was checked just now (the parser stops the body there): only a chunked body is counted.
      const counted = declared === undefined ? limit : 0;
      if (counted > 0 || deps.options.clientBodyTimeout > 0)
        guard = new RequestBodyGuard(request.raw, reply.raw, counted, deps.options.clientBodyTimeout);
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
        // A body that broke a limit while a plugin read it has been answered (408) already.
        if (guard?.violation !== undefined) return;
        // Fail closed: an access check that throws never lets the request through.
        deps.log.error({ err: error, route: resolution.route.id }, 'plugin failed');
        if (!reply.sent) sendError(reply, 'PCS_PLUGIN_FAILED');
        return;
      }
    }
    if (guard?.violation !== undefined) return;
    if (body) sendContinue(request.raw);
    const peer = peerAddress(socket.remoteAddress);
    // From here the raw response is ours: fastify's reply machinery is not on the forwarding path.
    reply.hijack();
    forward(request.raw, reply.raw, resolution, {
      log: deps.log,
      metrics: deps.metrics,
      pools: deps.pools,
      ...(guard && { body: guard }),
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
  function record(request: FastifyRequest, reply: FastifyReply, started: number): void {
    const res = reply.raw;
    // What the client got: 499 if nothing at all, and a response cut short is marked as such.
    const status = res.headersSent ? res.statusCode : CLIENT_CLOSED;
    const incomplete = res.headersSent && !res.writableFinished;
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
        ...(incomplete && { incomplete }),
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
  const upgrade = handleUpgrade({
    current: deps.current,
    draining: () => drain.active,
    log: deps.log,
    options: deps.options,
    trusted,
  });
  app.server.on('upgrade', upgrade);
  https.on('upgrade', upgrade);
  return { app, http: app.server, https, drain: (graceMs) => drain.drain([app.server, https], graceMs) };
}

/** See bodyUnread: an answer to a request whose body is still coming closes the connection. */
function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (bodyUnread(request.raw)) reply.header('connection', 'close');
}

function sendError(reply: FastifyReply, code: ErrorCode): void {
  reply
    .code(ERRORS[code].status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(ERROR_BODIES[code]);
}

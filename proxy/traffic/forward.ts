import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { ERROR_BODIES, ERRORS, type ErrorCode } from '../../common/errors.js';
import type { TrafficMetrics } from '../metrics.js';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardingContext } from './headers.js';
import { bodyUnread, hasBody, type RequestBodyGuard } from './request-body.js';
import type { Resolved } from './resolve.js';
import type { UpstreamPools } from './upstream-pools.js';
import { isCertificateRefusal } from './upstream-tls.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Errors raised before a single byte reached the upstream: safe to try another target. */
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export interface ForwardEnvironment {
  log: Logger;
  metrics: TrafficMetrics;
  pools: UpstreamPools;
  forwarding: ForwardingContext;
  /** Watches the client's body (size, pauses); set only for requests with a body. */
  body?: RequestBodyGuard;
}

/**
 * Sends a request to the next target of its route's upstream over a pooled
 * keep-alive connection and streams the answer back, with backpressure both
 * ways. A connect failure on an idempotent request without a body moves on
 * to the next target, up to the route's retries; other failures answer 502
 * or 504 as JSON.
 *
 * This drives undici's dispatcher directly rather than through
 * @fastify/reply-from: on this path reply-from's URL building, header copies
 * and stream wrapping halved throughput (docs/benchmarks.md).
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  resolved: Resolved,
  env: ForwardEnvironment,
): void {
  const changes = env.forwarding.changes;
  const body = changes?.body ?? hasBody(req);
  const retryable = !body && IDEMPOTENT.has(req.method ?? '');
  const headers = upstreamRequestHeaders(req.headers, env.forwarding);
  const { route, runtime } = resolved;
  let attempt = 0;
  let controller: Dispatcher.DispatchController | undefined;
  let started = 0;

  // A client that goes away takes its upstream request with it.
  res.once('close', () => {
    if (!res.writableFinished) controller?.abort(new Error('client closed the connection'));
  });

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (env.body) env.body.onViolation = (error) => c.abort(error);
    },
    onResponseStart(_c, statusCode, responseHeaders) {
      if (statusCode < 200) return; // informational answers are not relayed
      env.metrics.upstream(route.id, (performance.now() - started) / 1000);
      const headers = clientResponseHeaders(responseHeaders);
      if (changes && changes.setCookies.length > 0) addCookies(headers, changes.setCookies);
      if (changes?.setResponseHeaders) Object.assign(headers, changes.setResponseHeaders);
      res.writeHead(statusCode, headers);
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) {
        c.pause();
        res.once('drain', () => c.resume());
      }
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_c, error) {
      // The body guard aborted the request and has answered the client itself.
      if (env.body?.violation !== undefined) return;
      const code = (error as { code?: string }).code;
      if (res.headersSent) {
        env.log.warn({ route: route.id, code }, 'upstream response failed midway');
        res.destroy();
        return;
      }
      if (res.destroyed) return;
      if (retryable && code !== undefined && CONNECT_FAILURES.has(code) && attempt < route.retries) {
        env.log.debug({ route: route.id, code, attempt }, 'upstream connect failed; trying the next target');
        attempt++;
        send();
        return;
      }
      env.log.warn({ route: route.id, code }, 'upstream request failed');
      writeError(
        res,
        isCertificateRefusal(code)
          ? 'PCS_UPSTREAM_TLS_UNVERIFIED'
          : code !== undefined && TIMEOUTS.has(code)
            ? 'PCS_UPSTREAM_TIMEOUT'
            : code !== undefined && CONNECT_FAILURES.has(code)
              ? 'PCS_UPSTREAM_CONNECT_FAILED'
              : 'PCS_UPSTREAM_ERROR',
      );
    },
  };

  const send = (): void => {
    const origin = runtime.balancer.next();
    if (origin === undefined) return writeError(res, 'PCS_NO_UPSTREAM_TARGETS');
    started = performance.now();
    env.pools.pool(origin, route.timeouts.connectMs, runtime.tls).dispatch(
      {
        path: resolved.upstreamPath + (changes?.query ?? resolved.query),
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: changes?.body ?? (body ? req : null),
        headersTimeout: route.timeouts.readMs,
        bodyTimeout: route.timeouts.readMs,
      },
      handler,
    );
  };
  send();
}

/**
 * Answers with a coded JSON error on the raw response, closing the
 * connection when the client's body is not all in (see bodyUnread).
 */
export function writeError(res: ServerResponse, code: ErrorCode, status: number = ERRORS[code].status): void {
  if (res.headersSent) return void res.destroy();
  const body = ERROR_BODIES[code];
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  if (bodyUnread(res.req)) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

function addCookies(headers: OutgoingHttpHeaders, cookies: string[]): void {
  const existing = headers['set-cookie'];
  headers['set-cookie'] = existing === undefined ? cookies : [...[existing].flat().map(String), ...cookies];
}

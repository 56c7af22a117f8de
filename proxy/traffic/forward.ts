import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ERROR_BODIES, ERRORS, type ErrorCode } from '../../common/errors.js';
import type { TrafficMetrics } from '../metrics.js';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardingContext } from './headers.js';
import type { Resolved } from './resolve.js';
import { kConnectTimeout, kTargetPath } from './upstream-pools.js';

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
  forwarding: ForwardingContext;
}

/** reply-from retries on its own (even on upstream 503s); retries here are ours alone. */
const noRetry = () => null;

/**
 * Sends the request to the next target of the route's upstream and streams
 * the answer back. A connect failure on an idempotent request without a body
 * moves on to the next target, up to the route's retries; other failures
 * answer 502 or 504 as JSON.
 */
export function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  resolved: Resolved,
  env: ForwardEnvironment,
  attempt = 0,
): void {
  const { route, runtime } = resolved;
  const origin = runtime.balancer.next();
  if (origin === undefined) return sendError(reply, 'PCS_NO_UPSTREAM_TARGETS');
  const started = performance.now();

  // reply-from would parse the source as a URL: decode it (500 on `?q=50%`, 400 on
  // `?next=/../x`) and re-encode it (`'` → `%27`). Only the origin goes through it;
  // the exact path and query routing saw reach the pool beside the headers.
  reply.from(origin + '/', {
    timeout: route.timeouts.readMs,
    retryDelay: noRetry,
    rewriteRequestHeaders: (_req, headers) => {
      const upstream = upstreamRequestHeaders(headers, env.forwarding);
      (upstream as Record<symbol, unknown>)[kConnectTimeout] = route.timeouts.connectMs;
      (upstream as Record<symbol, unknown>)[kTargetPath] = resolved.upstreamPath + resolved.query;
      return upstream;
    },
    rewriteHeaders: (headers) => clientResponseHeaders(headers) as typeof headers,
    onResponse: (_req, res, upstream) => {
      env.metrics.upstream(route.id, (performance.now() - started) / 1000);
      res.send(upstream.stream);
    },
    onError: (res, { error }) => {
      const code = errorCode(error);
      if (
        code !== undefined &&
        CONNECT_FAILURES.has(code) &&
        attempt < route.retries &&
        runtime.balancer.size > 0 &&
        IDEMPOTENT.has(request.method) &&
        !hasBody(request)
      ) {
        env.log.debug(
          { route: route.id, origin, code, attempt },
          'upstream connect failed; trying the next target',
        );
        forward(request, res as FastifyReply, resolved, env, attempt + 1);
        return;
      }
      env.log.warn({ route: route.id, origin, code }, 'upstream request failed');
      if (res.sent || res.raw.headersSent) {
        res.raw.destroy();
        return;
      }
      sendError(
        res as FastifyReply,
        code !== undefined && TIMEOUTS.has(code)
          ? 'PCS_UPSTREAM_TIMEOUT'
          : code !== undefined && CONNECT_FAILURES.has(code)
            ? 'PCS_UPSTREAM_CONNECT_FAILED'
            : 'PCS_UPSTREAM_ERROR',
      );
    },
  });
}

export function sendError(reply: FastifyReply, code: ErrorCode, status?: number): void {
  reply
    .code(status ?? ERRORS[code].status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(ERROR_BODIES[code]);
}

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = cause?.code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

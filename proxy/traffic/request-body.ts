/**
 * The client's request body: whether there is one, whether it has all
 * arrived, and a guard that holds it to the route's size limit and to the
 * body read timeout while it streams.
 *
 * Only requests with a body get a guard, and a body of known length is
 * never wrapped: the HTTP parser already stops it at its Content-Length,
 * so its size was checked up front and only the timer needs to see it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_BODIES, ERRORS } from '../../common/errors.js';

export type BodyViolation = 'PCS_REQUEST_BODY_TOO_LARGE' | 'PCS_REQUEST_BODY_TIMEOUT';

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Whether part of the body is still to come from the client. An answer
 * given now must close the connection: to keep it alive, Node would read
 * (drain) the rest of the body, however large, after the answer.
 */
export function bodyUnread(req: IncomingMessage): boolean {
  return !req.complete && hasBody(req);
}

/** The declared Content-Length, or undefined for a chunked body. */
export function declaredLength(req: IncomingMessage): number | undefined {
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  // Node's parser has checked it is a number (and refuses two different ones).
  return Number(req.headers['content-length'] ?? 0);
}

/**
 * Watches a body as the proxy reads it: counts a body of unknown length
 * against `maxBytes` (0: not counted) and bounds each pause between two
 * reads to `timeoutMs` (0: no timer), nginx's `client_body_timeout`. The
 * timer runs only while the proxy is reading: a body that waits for the
 * upstream (backpressure, or no upstream request yet) is not the client's
 * delay. On a violation the client gets 413 or 408, with the connection
 * closed, when no response has started; otherwise the connection is reset.
 * `onViolation` (set by the forwarding step) then aborts the upstream request.
 */
export class RequestBodyGuard {
  /** Set once the body broke a limit; it has then been answered. */
  violation: BodyViolation | undefined;
  /** Aborts what reads the body (the upstream request). */
  onViolation: ((error: Error) => void) | undefined;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  #received = 0;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;

  constructor(req: IncomingMessage, res: ServerResponse, maxBytes: number, timeoutMs: number) {
    this.#req = req;
    this.#res = res;
    this.#maxBytes = maxBytes;
    this.#timeoutMs = timeoutMs;
    // Paused first, so that the listener below does not start the flow: the
    // body is read only when a plugin or the upstream request asks for it.
    req.pause();
    req.on('data', this.#onData);
    if (timeoutMs > 0) req.on('resume', this.#onResume).on('pause', this.#onPause);
    req.once('end', this.#stop);
    res.once('close', this.#stop);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#timer?.refresh();
    if (this.#maxBytes === 0) return;
    this.#received += chunk.length;
    if (this.#received > this.#maxBytes) this.#violate('PCS_REQUEST_BODY_TOO_LARGE');
  };

  readonly #onResume = (): void => {
    this.#reading = true;
    // One timer per body, refreshed rather than replaced on every read.
    if (this.#timer === undefined) this.#timer = setTimeout(this.#onTimeout, this.#timeoutMs);
    else this.#timer.refresh();
  };

  readonly #onPause = (): void => {
    // The timer may still fire; it is ignored until the next resume refreshes it.
    this.#reading = false;
  };

  readonly #onTimeout = (): void => {
    if (this.#reading && !this.#res.writableEnded) this.#violate('PCS_REQUEST_BODY_TIMEOUT');
  };

  #violate(code: BodyViolation): void {
    if (this.violation !== undefined) return;
    this.violation = code;
    this.#stop();
    const res = this.#res;
    if (res.headersSent) {
      res.destroy();
    } else if (!res.destroyed) {
      const body = ERROR_BODIES[code];
      res.writeHead(ERRORS[code].status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      res.end(body);
    }
    this.onViolation?.(new Error(ERRORS[code].message));
  }

  readonly #stop = (): void => {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#reading = false;
    this.#req.off('data', this.#onData).off('resume', this.#onResume).off('pause', this.#onPause);
  };
}

/**
 * Small HTTP clients for integration tests: one over node:http(s) that sends
 * the path exactly as given, and one over a raw TCP socket for request
 * targets that any HTTP client library would normalise or refuse to send.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON; throws with the text when it is not. */
  json<T = Record<string, unknown>>(): T;
}

export interface HttpOptions {
  port: number;
  path?: string;
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer | Readable;
  https?: boolean;
  servername?: string;
  /** Local address to connect from (loopback aliases such as 127.0.0.2 work on Linux). */
  localAddress?: string;
  timeoutMs?: number;
}

/**
 * One request on a fresh connection (no agent, so successive requests are
 * spread over the proxy's workers). The path is sent byte for byte.
 */
export function http(options: HttpOptions): Promise<HttpResult> {
  const send = options.https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        localAddress: options.localAddress,
        servername: options.servername,
        rejectUnauthorized: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve(result(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${options.path} timed out`)));
    req.on('error', reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** The parsed answer to a raw request. */
export interface RawResult extends HttpResult {
  statusLine: string;
  raw: string;
}

/**
 * Writes `requestText` (CRLF line ends are added where `\n` stands alone)
 * to a fresh TCP connection and reads until the server closes it; send
 * `Connection: close` so it does.
 */
export function rawHttp(port: number, requestText: string, timeoutMs = 5_000): Promise<RawResult> {
  const text = requestText.replace(/\r?\n/g, '\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('raw request timed out')), timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks)));
    });
  });
}

/** `GET <target>` with a Host header and `Connection: close`, over a raw socket. */
export function rawGet(port: number, target: string, host = 'localhost'): Promise<RawResult> {
  return rawHttp(port, `GET ${target} HTTP/1.1\nHost: ${host}\nConnection: close\n\n`);
}

function parseRaw(buffer: Buffer): RawResult {
  const raw = buffer.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body =
    end === -1 ? Buffer.alloc(0) : buffer.subarray(Buffer.byteLength(raw.slice(0, end + 4), 'latin1'));
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { ...result(status, headers, body), statusLine, raw };
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function result(status: number, headers: IncomingHttpHeaders, body: Buffer): HttpResult {
  const text = body.toString('utf8');
  return {
    status,
    headers,
    body,
    text,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`not JSON (status ${status}): ${text.slice(0, 500)}`);
      }
    },
  };
}

/** Thrown inside a poll when waiting longer cannot help: `eventually` fails at once. */
export class StopPolling extends Error {}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof StopPolling) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A minimal keep-alive HTTP/1.1 client for the constant-rate generator.
 *
 * Node's `http` client costs several times more CPU per request than the
 * proxies it would measure; on a 2-core machine that makes the generator the
 * bottleneck (measured: about 3,600 req/s, and a p99 near 10 ms against bare
 * nginx at 2,000 req/s). This client sends one pre-encoded GET request per
 * connection at a time (no pipelining), over at most `connections` sockets,
 * and reads just enough of each response to know where it ends: the status
 * line, then a Content-Length body or a chunked body. It is only meant for
 * small responses from the benchmark's own servers.
 */
import net from 'node:net';
import { Buffer } from 'node:buffer';
import { setTimeout, clearTimeout } from 'node:timers';

const CRLF2 = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

/** The request bytes for a GET of `url` with `headers` (Host from the URL unless given). */
export function encodeGet(url, headers) {
  const names = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`];
  if (!names.has('host')) lines.push(`Host: ${url.host}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push('', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/**
 * Where the response at the start of `buf` ends; undefined while incomplete.
 * @returns {{ end: number, status: number, close: boolean } | undefined}
 */
export function parseResponse(buf) {
  const headEnd = buf.indexOf(CRLF2);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  const bodyStart = headEnd + 4;
  if (length) {
    const end = bodyStart + Number(length[1]);
    return buf.length >= end ? { end, status, close } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
    // Enough for the benchmark's small bodies without trailers.
    if (buf.length - bodyStart >= 5 && buf.subarray(bodyStart, bodyStart + 5).toString() === '0\r\n\r\n') {
      return { end: bodyStart + 5, status, close };
    }
    const last = buf.indexOf(CHUNKED_END, bodyStart);
    return last >= 0 ? { end: last + CHUNKED_END.length, status, close } : undefined;
  }
  if (status === 204 || status === 304 || (status >= 100 && status < 200))
    return { end: bodyStart, status, close };
  return undefined; // body until close: not supported, the request times out
}

/**
 * A pool of up to `connections` keep-alive connections to host:port.
 * `send(done)` sends the request now if a connection is free, else queues it;
 * `done(status)` is called once with the status, or 0 on error/timeout.
 */
export function createPool({ host, port, connections, request, timeoutMs = 5000 }) {
  const idle = [];
  const waiting = [];
  let open = 0;

  const connect = () => {
    open++;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const conn = { socket, done: undefined, buf: Buffer.alloc(0), timer: undefined };
    const finish = (status) => {
      const done = conn.done;
      conn.done = undefined;
      clearTimeout(conn.timer);
      conn.buf = Buffer.alloc(0);
      if (done) done(status);
    };
    socket.on('data', (chunk) => {
      conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
      const res = parseResponse(conn.buf);
      if (!res) return;
      finish(res.status);
      if (res.close) socket.destroy();
      else release(conn);
    });
    const drop = () => {
      if (conn.socket.destroyed === false) conn.socket.destroy();
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      if (!conn.dead) {
        conn.dead = true;
        open--;
        finish(0);
        if (waiting.length > 0) dispatch(connect(), waiting.shift());
      }
    };
    socket.on('error', drop);
    socket.on('close', drop);
    return conn;
  };

  const dispatch = (conn, done) => {
    conn.done = done;
    conn.timer = setTimeout(() => conn.socket.destroy(), timeoutMs);
    conn.socket.write(request);
  };

  const release = (conn) => {
    if (waiting.length > 0) dispatch(conn, waiting.shift());
    else idle.push(conn);
  };

  return {
    send(done) {
      const conn = idle.pop() ?? (open < connections ? connect() : undefined);
      if (conn) dispatch(conn, done);
      else waiting.push(done);
    },
    close() {
      for (const c of idle.splice(0)) c.socket.destroy();
    },
  };
}

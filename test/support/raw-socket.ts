/**
 * A raw TCP connection for request-body tests, where an HTTP client would
 * hide what happens: it sends exactly what it is given, when it is told,
 * and reports every byte that came back and whether (and when) the proxy
 * closed the connection.
 */
import { connect, type Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

/** One response as it came over the wire. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export class RawConnection {
  readonly socket: Socket;
  /** Bytes written so far (body and head alike). */
  sent = 0;
  #received = '';
  #closedAt: number | undefined;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (this.#received += chunk));
    // A reset is a close too: the tests look at when and whether, not how.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#closedAt = performance.now();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get received(): string {
    return this.#received;
  }

  get isClosed(): boolean {
    return this.#closedAt !== undefined;
  }

  /** Writes unless the connection is gone; resolves once the data is handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    this.sent += typeof data === 'string' ? Buffer.byteLength(data, 'latin1') : data.length;
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Waits until what was received matches `pattern`; fails after `timeoutMs` with what came so far. */
  async waitFor(pattern: RegExp, timeoutMs = 5_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!pattern.test(this.#received)) {
      if (performance.now() > deadline || (this.isClosed && !pattern.test(this.#received)))
        throw new Error(
          `waited for ${String(pattern)}; received ${JSON.stringify(this.#received.slice(0, 400))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Whether the proxy closed the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    return this.isClosed;
  }

  /** The first complete response head received (and what followed it), or undefined. */
  response(): RawResponse | undefined {
    return parseResponse(this.#received);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Status, headers (lower-cased) and raw body text of the first final response in `text`. */
export function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: text.slice(end + 4),
  };
}

/** A request head with CRLF line ends and the blank line that ends it. */
export function head(lines: string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}

/** One chunk of a chunked body. */
export function chunk(data: string): string {
  return `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
}

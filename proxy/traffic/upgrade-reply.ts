import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * Just enough of a fastify reply for an access plugin to answer an upgrade
 * request it refuses (401, 403, 302, 503): the answer is written on the raw
 * socket, which is then closed. Plugins only ever call these methods.
 */
export class UpgradeReply {
  #status = 200;
  readonly #headers: Record<string, string | string[]> = {};
  readonly #socket: Duplex;
  sent = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  code(status: number): this {
    this.#status = status;
    return this;
  }

  header(name: string, value: string | string[]): this {
    this.#headers[name.toLowerCase()] = value;
    return this;
  }

  headers(values: Record<string, string | string[]>): this {
    for (const [name, value] of Object.entries(values)) this.header(name, value);
    return this;
  }

  send(body = ''): this {
    this.sent = true;
    if (!this.#socket.writable) {
      this.#socket.destroy();
      return this;
    }
    let head = `HTTP/1.1 ${this.#status} ${STATUS_CODES[this.#status] ?? ''}\r\n`;
    for (const [name, value] of Object.entries(this.#headers)) {
      for (const v of [value].flat()) head += `${name}: ${v}\r\n`;
    }
    head += `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
    this.#socket.end(head + body);
    return this;
  }

  /** The plugin interface takes fastify's reply; this class implements the part plugins use. */
  asFastifyReply(): FastifyReply {
    return this as unknown as FastifyReply;
  }
}

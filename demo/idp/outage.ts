/**
 * Simulated IdP outages, to test that the proxy keeps validating JWTs with
 * cached keys while the IdP is unreachable, and fails closed (not open) for
 * what needs the IdP (introspection, code exchange).
 *
 * - `http-503`: the server answers every request 503 (a load balancer in
 *   front of a dead IdP);
 * - `refuse`: the listening socket is closed, connections are refused (same
 *   port reopened on recovery);
 * - `hang`: requests are accepted and never answered (exercises timeouts);
 *   their sockets are destroyed on recovery.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OutageMode } from './types.js';

export class Outage {
  #mode: OutageMode | undefined;
  readonly #hanging = new Set<Socket>();

  /** Port to reopen after `refuse`; read from the server when it closes. */
  #port = 0;

  constructor(readonly server: Server) {}

  get down(): boolean {
    return this.#mode !== undefined;
  }

  /** Answers the request when down; returns true when it did. */
  intercept(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.#mode === 'http-503') {
      const body = JSON.stringify({
        error: 'temporarily_unavailable',
        error_description: 'test IdP is down',
      });
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
      res.end(body);
      return true;
    }
    if (this.#mode === 'hang' || this.#mode === 'refuse') {
      // `refuse` only lets through requests on connections opened before; hang them too.
      this.#hanging.add(req.socket);
      req.socket.once('close', () => this.#hanging.delete(req.socket));
      return true;
    }
    return false;
  }

  async set(down: boolean, mode: OutageMode = 'http-503'): Promise<void> {
    const previous = this.#mode;
    if (!down) {
      this.#mode = undefined;
      for (const socket of this.#hanging) socket.destroy();
      this.#hanging.clear();
      if (previous === 'refuse') await this.#listen();
      return;
    }
    if (previous === 'refuse' && mode !== 'refuse') await this.#listen();
    this.#mode = mode;
    if (mode === 'http-503') this.server.closeIdleConnections();
    if (mode === 'refuse' && previous !== 'refuse') {
      this.#port = (this.server.address() as AddressInfo).port;
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    }
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.#port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Releases hanging sockets (on stop). */
  release(): void {
    for (const socket of this.#hanging) socket.destroy();
    this.#hanging.clear();
  }
}

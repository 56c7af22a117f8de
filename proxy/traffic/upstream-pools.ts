import { Pool } from 'undici';
import type { UpstreamTls } from './upstream-tls.js';

/**
 * Keep-alive connection pools to upstream targets, one per origin and
 * connect timeout, shared by every config generation so a config swap keeps
 * warm connections.
 */
export class UpstreamPools {
  /** By `origin|tls key|connectMs`: connections made with other trust settings are never shared. */
  readonly #pools = new Map<string, { retainKey: string; pool: Pool }>();
  readonly #connections: number;

  constructor(connections = 256) {
    this.#connections = connections;
  }

  /**
   * The pool for a target origin (`http://host:port`) with a route's connect
   * timeout and its upstream's TLS settings. The TLS server name is not set
   * here: undici takes it from each request's Host header and never reuses a
   * connection for another name.
   */
  pool(origin: string, connectMs: number, tls: UpstreamTls): Pool {
    const key = `${origin}|${tls.key}|${connectMs}`;
    let entry = this.#pools.get(key);
    if (!entry) {
      entry = {
        retainKey: `${origin}|${tls.key}`,
        pool: new Pool(origin, {
          connections: this.#connections,
          pipelining: 1,
          connect: { ...tls.options, timeout: connectMs },
          // Idle upstream sockets are kept a while, but shorter than typical
          // upstream keep-alive limits so the upstream does not close them first.
          keepAliveTimeout: 4_000,
          keepAliveMaxTimeout: 60_000,
        }),
      };
      this.#pools.set(key, entry);
    }
    return entry.pool;
  }

  /**
   * Gracefully closes pools whose `origin|tls key` no config uses any more
   * (a removed target, or a CA bundle that changed); in-flight requests finish.
   */
  retain(origins: ReadonlySet<string>): void {
    for (const [key, { retainKey, pool }] of this.#pools) {
      if (!origins.has(retainKey)) {
        this.#pools.delete(key);
        void pool.close();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.pool.destroy()));
    this.#pools.clear();
  }
}

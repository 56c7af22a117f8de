import { Pool } from 'undici';

/**
 * Keep-alive connection pools to upstream targets, one per origin and
 * connect timeout, shared by every config generation so a config swap keeps
 * warm connections.
 */
export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #connections: number;

  constructor(connections = 256) {
    this.#connections = connections;
  }

  /** The pool for a target origin (`http://host:port`) with a route's connect timeout. */
  pool(origin: string, connectMs: number): Pool {
    const key = `${origin}|${connectMs}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.#connections,
        pipelining: 1,
        connect: { timeout: connectMs, rejectUnauthorized: false },
        // Idle upstream sockets are kept a while, but shorter than typical
        // upstream keep-alive limits so the upstream does not close them first.
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 60_000,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Gracefully closes pools whose origin no config uses any more; in-flight requests finish. */
  retain(origins: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (!origins.has(key.slice(0, key.lastIndexOf('|')))) {
        this.#pools.delete(key);
        void pool.close();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.destroy()));
    this.#pools.clear();
  }
}

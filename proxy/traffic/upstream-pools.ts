import { Pool, type Dispatcher } from 'undici';

/** Request-header slot (a symbol, so never sent) carrying the route's connect timeout to the pool choice. */
export const kConnectTimeout = Symbol('portcullis.connectTimeout');
/** Request-header slot carrying the exact path and query to send, untouched by URL parsing. */
export const kTargetPath = Symbol('portcullis.targetPath');

type RequestCallback = (err: Error | null, data?: Dispatcher.ResponseData) => void;

/**
 * Keep-alive connection pools to upstream targets, one per origin and
 * connect timeout, shared by every config generation so a config swap keeps
 * warm connections. Presented to @fastify/reply-from as its dispatcher.
 */
export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #connections: number;

  constructor(connections = 256) {
    this.#connections = connections;
  }

  request(options: Dispatcher.RequestOptions & { origin: string }, callback: RequestCallback): void {
    const headers = options.headers as Record<string | symbol, unknown>;
    const connectMs = (headers[kConnectTimeout] as number | undefined) ?? 60_000;
    const path = headers[kTargetPath] as string | undefined;
    delete headers[kConnectTimeout];
    delete headers[kTargetPath];
    this.#pool(options.origin, connectMs).request(
      path === undefined ? options : { ...options, path },
      callback,
    );
  }

  #pool(origin: string, connectMs: number): Pool {
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

import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import type { Problem } from '../contract/index.js';
import { checkConfig, type LoadedConfig } from './config-loader.js';
import type { ConfigMetrics } from './metrics.js';
import type { StateStore } from './state-store.js';
import type { WorkerPool } from './worker-pool.js';

export type PushResult =
  | { ok: true; hash: string; generation: number; changed: boolean }
  | { ok: false; problems: Problem[] }
  | { ok: false; error: PortcullisError };

/**
 * The primary's record of the config in service, and the one way to change
 * it: validate, hand to every worker, then persist. Pushes are serialised;
 * a rejected push changes nothing.
 */
export class ConfigService {
  readonly #workers: WorkerPool;
  readonly #store: StateStore | undefined;
  readonly #metrics: ConfigMetrics;
  readonly #log: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  generation = 0;
  hash: string | undefined;
  loadedAt: Date | undefined;

  constructor(workers: WorkerPool, store: StateStore | undefined, metrics: ConfigMetrics, log: Logger) {
    this.#workers = workers;
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
  }

  push(input: unknown): Promise<PushResult> {
    const run = this.#queue.then(() => this.#push(input));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Counts a push refused before it could be read (not JSON, too large) like any rejected push. */
  rejectUnreadable(): void {
    this.#metrics.rejected();
  }

  /** Serves an already checked config (start-up); does not rewrite the state file. */
  async serve(loaded: LoadedConfig, persist = false): Promise<void> {
    const generation = this.generation + 1;
    await this.#workers.apply(generation, loaded);
    this.generation = generation;
    this.hash = loaded.hash;
    this.loadedAt = new Date();
    this.#metrics.loaded(generation, loaded.hash);
    if (persist && this.#store) {
      try {
        await this.#store.save(JSON.stringify(loaded.config));
      } catch (error) {
        // Serving goes on; only a restart without the controller would miss this config.
        this.#log.error({ err: error, file: this.#store.file }, 'could not persist the config');
      }
    }
  }

  async #push(input: unknown): Promise<PushResult> {
    const result = checkConfig(input);
    if (!result.ok) {
      this.#metrics.rejected();
      this.#log.warn(
        { problems: result.problems.slice(0, 10), count: result.problems.length },
        'config push rejected',
      );
      return { ok: false, problems: result.problems };
    }
    if (result.loaded.hash === this.hash) {
      return { ok: true, hash: this.hash, generation: this.generation, changed: false };
    }
    try {
      await this.serve(result.loaded, true);
    } catch (error) {
      this.#metrics.rejected();
      const coded =
        error instanceof PortcullisError
          ? error
          : new PortcullisError('PCS_INTERNAL', undefined, { cause: error });
      this.#log.error({ err: coded }, 'config push could not be applied');
      return { ok: false, error: coded };
    }
    this.#log.info({ hash: result.loaded.hash, generation: this.generation }, 'config applied');
    return { ok: true, hash: result.loaded.hash, generation: this.generation, changed: true };
  }
}

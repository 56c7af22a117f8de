import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import { configTextHash, type Problem } from '../contract/index.js';
import { checkConfig, type LoadedConfig, type ParseResult } from './config-loader.js';
import type { ConfigMetrics } from './metrics.js';
import type { StateStore } from './state-store.js';
import type { WorkerPool } from './worker-pool.js';

export type PushResult =
  | { ok: true; hash: string; generation: number; changed: boolean }
  | { ok: false; problems: Problem[] }
  | { ok: false; error: PortcullisError };

/** A pushed body: its text (what is hashed and stored) and how to parse it. */
export interface ReceivedConfig {
  text: string;
  /**
   * `text` parsed; throws when it is not JSON, with a message that does not
   * quote it. Left to the push so the workers start on the text first.
   */
  parse: () => unknown;
}

/**
 * The primary's record of the config in service, and the one way to change
 * it: validate, hand to every worker, answer, then persist. Pushes are
 * serialised; a rejected push changes nothing.
 *
 * The state file is written after the push is answered: an 8 MB write and
 * fsync would otherwise delay every push. A crash before the write only
 * means the restarted proxy serves the previous config and reports its
 * hash, so the controller pushes again.
 */
export class ConfigService {
  readonly #workers: WorkerPool;
  readonly #store: StateStore | undefined;
  readonly #metrics: ConfigMetrics;
  readonly #log: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  /** The newest config text not yet on disk; older unwritten ones are skipped. */
  #unsaved: string | undefined;
  #saving: Promise<void> | undefined;
  generation = 0;
  hash: string | undefined;
  loadedAt: Date | undefined;

  constructor(workers: WorkerPool, store: StateStore | undefined, metrics: ConfigMetrics, log: Logger) {
    this.#workers = workers;
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
  }

  push(received: ReceivedConfig): Promise<PushResult> {
    const run = this.#queue.then(() => this.#push(received));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Counts a push refused before it could be read (not JSON, too large) like any rejected push. */
  rejectUnreadable(): void {
    this.#metrics.rejected();
  }

  /**
   * Serves an already checked config; start-up passes `persist = false` (it
   * came from disk). `prepared` names the push the workers were handed, when
   * its text is exactly `loaded.json`.
   */
  async serve(loaded: LoadedConfig, persist = false, prepared?: number): Promise<void> {
    const generation = this.generation + 1;
    await this.#workers.apply(generation, loaded, prepared);
    this.generation = generation;
    this.hash = loaded.hash;
    this.loadedAt = new Date();
    this.#metrics.loaded(generation, loaded.hash);
    if (persist) this.#persist(loaded.text);
  }

  /** Resolves once the last accepted config is on disk (or failed to be written). */
  async persisted(): Promise<void> {
    await this.#saving;
  }

  #persist(text: string): void {
    if (!this.#store) return;
    this.#unsaved = text;
    this.#saving ??= this.#drain(this.#store);
  }

  /** Writes the newest unsaved text until none is left; one write at a time, in push order. */
  async #drain(store: StateStore): Promise<void> {
    try {
      for (let text = this.#unsaved; text !== undefined; text = this.#unsaved) {
        this.#unsaved = undefined;
        try {
          await store.save(text);
        } catch (error) {
          // Serving goes on; only a restart without the controller would miss this config.
          this.#log.error({ err: error, file: store.file }, 'could not persist the config');
        }
      }
    } finally {
      // Synchronous with the loop's last check: a text queued after it starts a new drain.
      this.#saving = undefined;
    }
  }

  async #push(received: ReceivedConfig): Promise<PushResult> {
    const hash = configTextHash(received.text);
    // Pipelined: the workers parse and build the text while this process
    // parses and checks it; a valid, complete text is then only committed.
    // Text already in service needs nothing built.
    const prepared = hash === this.hash ? undefined : await this.#workers.prepare(hash, received.text);
    const result = this.#check(received, hash);
    if (!result.ok) {
      if (prepared !== undefined) this.#workers.discard(prepared);
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
    // Defaults filled in make the config to serve differ from what the workers built.
    const complete = prepared !== undefined && result.loaded.json === received.text;
    if (prepared !== undefined && !complete) this.#workers.discard(prepared);
    try {
      await this.serve(result.loaded, true, complete ? prepared : undefined);
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

  #check(received: ReceivedConfig, hash: string): ParseResult {
    let input: unknown;
    try {
      input = received.parse();
    } catch (error) {
      return { ok: false, problems: [{ path: '/', message: (error as Error).message }] };
    }
    return checkConfig(received.text, input, hash);
  }
}

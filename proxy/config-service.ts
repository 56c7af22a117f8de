import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import {
  applyConfigPatch,
  isConfigPatch,
  type ConfigChanges,
  type ConfigPatch,
} from '../contract/config-patch.js';
import { ConfigWriter } from '../contract/config-writer.js';
import { configTextHash, validateConfig, type CompiledConfig, type Problem } from '../contract/index.js';
import type { ParsedJson } from '../contract/json-text.js';
import { checkConfig, checkedConfig, type LoadedConfig, type ParseResult } from './config-loader.js';
import type { ConfigMetrics } from './metrics.js';
import type { StateStore } from './state-store.js';
import { certificateProblems } from './tls/certificate-store.js';
import type { WorkerPool } from './worker-pool.js';

/** `hash` on an error: the hash in service, for answers that tell the client what to base on. */
export type PushResult =
  | { ok: true; hash: string; generation: number; changed: boolean }
  | { ok: false; problems: Problem[] }
  | { ok: false; error: PortcullisError; hash?: string | null };

const NOT_A_PATCH = 'not a config patch: expected {base, hash, set, remove, rest?} (see docs/proxy.md)';

/** A pushed body: its text (what is hashed and stored) and how to parse it. */
export interface ReceivedConfig {
  text: string;
  /**
   * `text` checked (duplicate keys, depth) and parsed, or the first problem,
   * whose message does not quote it. Left to the push so the workers start
   * on the text first.
   */
  parse: () => ParsedJson;
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
  /**
   * Serialises patched configs for the process's lifetime: it keeps the text
   * of every VirtualHost object it wrote, and a patch keeps the unchanged
   * ones, so only the changed hosts are serialised again.
   */
  readonly #writer = new ConfigWriter();
  /** The validated config in service, which patches apply to. */
  #config: CompiledConfig | undefined;
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

  /**
   * Start-up: waits for `listening`, then serves `initial` (from disk, not
   * persisted again). Queued like a push, so a push that comes in meanwhile
   * is applied after it, and wins, instead of superseding it half-way.
   */
  start(listening: Promise<void>, initial: LoadedConfig | undefined): Promise<void> {
    const run = this.#queue.then(async () => {
      await listening;
      if (initial) await this.serve(initial);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  push(received: ReceivedConfig): Promise<PushResult> {
    return this.#enqueue(() => this.#push(received));
  }

  /**
   * Applies a config patch (`received`: its JSON) to the config in service:
   * served only when the result's text has exactly the hash the patch names,
   * so it is byte for byte what a full push of it would serve. Queued with
   * the pushes.
   */
  patch(received: ReceivedConfig): Promise<PushResult> {
    const parsed = received.parse();
    if (!parsed.ok) return Promise.resolve(this.#rejected([parsed.problem]));
    const patch = parsed.value;
    if (!isConfigPatch(patch)) return Promise.resolve(this.#rejected([{ path: '/', message: NOT_A_PATCH }]));
    return this.#enqueue(() => this.#patch(patch));
  }

  #enqueue(push: () => Promise<PushResult>): Promise<PushResult> {
    const run = this.#queue.then(push);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Counts a push refused before it could be read (not JSON, too large) like any rejected push. */
  rejectUnreadable(): void {
    this.#metrics.rejected();
  }

  /**
   * Serves an already checked config; only through the queue (start, push,
   * patch), so that generations never overlap. Start-up passes
   * `persist = false` (it came from disk). `prepared` names the push the workers were handed, when
   * what they prepared is exactly `loaded.json`. `patched` is the config of a
   * patch (`loaded` is its text); otherwise `loaded` came from checkConfig.
   */
  async serve(
    loaded: LoadedConfig,
    persist = false,
    prepared?: number,
    patched?: CompiledConfig,
  ): Promise<void> {
    const generation = this.generation + 1;
    await this.#workers.apply(generation, loaded, prepared);
    this.generation = generation;
    this.hash = loaded.hash;
    const config = patched ?? checkedConfig(loaded);
    this.#config = config;
    this.loadedAt = new Date();
    this.#metrics.loaded(generation, loaded.hash);
    if (persist) this.#persist(loaded.text);
    // Written in the background (a patched one already was), so that the
    // first patch to it serialises only what it changes.
    if (config && !patched) setImmediate(() => this.#prime(config));
  }

  #prime(config: CompiledConfig): void {
    if (this.#config !== config) return;
    try {
      this.#writer.write(config);
    } catch (error) {
      // Only a patch is slower: it writes what it finds unwritten.
      this.#log.warn({ err: error }, 'could not prepare the config for patches');
    }
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

  #rejected(problems: Problem[]): PushResult {
    this.#metrics.rejected();
    this.#log.warn({ problems: problems.slice(0, 10), count: problems.length }, 'config patch rejected');
    return { ok: false, problems };
  }

  /** A 409: the patch changes nothing, and the client is told the hash in service. */
  #conflict(code: 'PCS_CONFIG_PATCH_BASE_MISMATCH' | 'PCS_CONFIG_PATCH_MISMATCH'): PushResult {
    this.#log.info({ code, hash: this.hash ?? null }, 'config patch refused');
    return { ok: false, error: new PortcullisError(code), hash: this.hash ?? null };
  }

  async #patch(patch: ConfigPatch): Promise<PushResult> {
    if (this.hash !== undefined && patch.hash === this.hash) {
      return { ok: true, hash: this.hash, generation: this.generation, changed: false };
    }
    const current = this.#config;
    if (current === undefined || patch.base !== this.hash) {
      return this.#conflict('PCS_CONFIG_PATCH_BASE_MISMATCH');
    }
    const { base, hash: _, ...changes } = patch;
    // Pipelined like a push: the workers apply the patch and build the result
    // while this process checks it; only an accepted patch is committed.
    const prepared = await this.#workers.prepare(patch.hash, JSON.stringify(changes), base);
    const result = this.#checkPatch(current, changes, patch.hash);
    if (!('loaded' in result)) {
      this.#workers.discard(prepared);
      return result;
    }
    return this.#serveChecked(result.loaded, prepared, result.config);
  }

  /** The config in service patched, when it is valid and its text has the hash the patch names. */
  #checkPatch(
    current: CompiledConfig,
    changes: ConfigChanges,
    expected: string,
  ): PushResult | { loaded: LoadedConfig; config: CompiledConfig } {
    const config = applyConfigPatch(current, changes);
    const checked = validateConfig(config);
    if (!checked.ok) return this.#rejected(checked.problems);
    const certificates = certificateProblems(checked.config);
    if (certificates.length > 0) return this.#rejected(certificates);
    // Defaults filled in: the result is not what the controller built.
    if (checked.config !== config) return this.#conflict('PCS_CONFIG_PATCH_MISMATCH');
    const text = this.#writer.write(config);
    const hash = configTextHash(text);
    if (hash !== expected) return this.#conflict('PCS_CONFIG_PATCH_MISMATCH');
    return { loaded: { hash, text, json: text }, config };
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
    return this.#serveChecked(result.loaded, complete ? prepared : undefined);
  }

  /** Serves a checked config that is not the one in service, persists it, and answers. */
  async #serveChecked(
    loaded: LoadedConfig,
    prepared?: number,
    patched?: CompiledConfig,
  ): Promise<PushResult> {
    try {
      await this.serve(loaded, true, prepared, patched);
    } catch (error) {
      this.#metrics.rejected();
      const coded =
        error instanceof PortcullisError
          ? error
          : new PortcullisError('PCS_INTERNAL', undefined, { cause: error });
      this.#log.error({ err: coded }, 'config push could not be applied');
      return { ok: false, error: coded };
    }
    this.#log.info(
      { hash: loaded.hash, generation: this.generation, patched: patched !== undefined },
      'config applied',
    );
    return { ok: true, hash: loaded.hash, generation: this.generation, changed: true };
  }

  #check(received: ReceivedConfig, hash: string): ParseResult {
    const parsed = received.parse();
    if (!parsed.ok) return { ok: false, problems: [parsed.problem] };
    return checkConfig(received.text, parsed.value, hash);
  }
}

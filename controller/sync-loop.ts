/**
 * The controller's heartbeat (ARCHITECTURE.md, rule 2). Store changes only
 * mark the world dirty; after a hold-off (100 ms after the last change, at
 * most 1 s after the first, so a steady trickle of events cannot starve the
 * build) the config is rebuilt from a snapshot (a Translator redoes only the
 * objects that changed), serialised once, and the hash of those bytes
 * decides whether every proxy's pusher gets them.
 *
 * Nothing is built before every kind has synced: a config built from a
 * half-listed cluster would drop routes that exist. The first build comes
 * at once when the last kind syncs.
 */
import type { Logger } from 'pino';
import { canonicalJson } from '../contract/hash.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigWriter } from '../contract/config-writer.js';
import type { ControllerMetrics } from './metrics.js';
import type { ProxyAdmin } from './proxy-client.js';
import { ProxyPusher } from './proxy-pusher.js';
import { Translator, type Snapshot, type TranslateOptions, type TranslateResult } from './translate/index.js';

/** What the loop reads; the ObjectStore is one. */
export interface SyncInput {
  snapshot(): Snapshot;
  isSynced(): boolean;
  onChange(listener: () => void): () => void;
}

export interface SyncLoopOptions {
  store: SyncInput;
  proxies: readonly ProxyAdmin[];
  log: Logger;
  translateOptions?: TranslateOptions;
  metrics?: ControllerMetrics;
  clock?: Clock;
  holdOffMs?: number;
  maxHoldOffMs?: number;
  /** How often each proxy is asked which hash it serves. */
  pollIntervalMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Resolves once the proxies can be pushed to (`run` starts its proxy alongside); builds do not wait. */
  proxiesUp?: Promise<unknown>;
}

export type ResultListener = (result: TranslateResult, hash: string) => void;

export class SyncLoop {
  readonly #store: SyncInput;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #translator: Translator;
  readonly #writer = new ConfigWriter();
  readonly #holdOffMs: number;
  readonly #maxHoldOffMs: number;
  readonly #pushers: ProxyPusher[];
  readonly #listeners = new Set<ResultListener>();
  #unsubscribe: (() => void) | undefined;
  #timer: unknown;
  #dirtySince: number | undefined;
  #hash: string | undefined;
  #problemKeys = new Set<string>();
  #waitingLogged = false;
  #warmedUp = false;

  constructor(options: SyncLoopOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics;
    this.#translator = new Translator(options.translateOptions);
    this.#holdOffMs = options.holdOffMs ?? 100;
    this.#maxHoldOffMs = options.maxHoldOffMs ?? 1000;
    this.#pushers = options.proxies.map(
      (admin) =>
        new ProxyPusher(admin, {
          clock: this.#clock,
          log: options.log,
          metrics: options.metrics,
          pollIntervalMs: options.pollIntervalMs ?? 5000,
          backoffInitialMs: options.backoffInitialMs ?? 250,
          backoffMaxMs: options.backoffMaxMs ?? 30_000,
          proxyUp: options.proxiesUp,
          onAccepted: () => this.#onAccepted(),
        }),
    );
  }

  start(): void {
    this.#unsubscribe = this.#store.onChange(() => this.#markDirty());
    for (const pusher of this.#pushers) pusher.start();
    // The store may already be complete (a source that synced before we subscribed).
    this.#markDirty();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#clock.clearTimeout(this.#timer);
    for (const pusher of this.#pushers) pusher.stop();
  }

  /** Called with every build's result (statuses and problems), for the status writer. */
  onResult(listener: ResultListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The hash of the last config built, once one was. */
  get hash(): string | undefined {
    return this.#hash;
  }

  /** Built at least once, and every proxy accepted a config at least once. */
  get ready(): boolean {
    return this.#hash !== undefined && this.#pushers.every((p) => p.accepted);
  }

  /** Every proxy serves the last config built. */
  get inSync(): boolean {
    return this.#hash !== undefined && this.#pushers.every((p) => p.inSync);
  }

  #markDirty(): void {
    const now = this.#clock.now();
    this.#dirtySince ??= now;
    this.#clock.clearTimeout(this.#timer);
    // The first build, once every kind is listed, is not held off: there is no burst of events
    // to batch, and nothing is served until it is pushed.
    const first = this.#hash === undefined && this.#store.isSynced();
    const at = first ? now : Math.min(now + this.#holdOffMs, this.#dirtySince + this.#maxHoldOffMs);
    this.#timer = this.#clock.setTimeout(() => this.#build(), Math.max(0, at - now));
  }

  #build(): void {
    this.#timer = undefined;
    this.#dirtySince = undefined;
    if (!this.#store.isSynced()) {
      // The store notifies again when the last kind syncs; that builds.
      if (!this.#waitingLogged) this.#log.info('waiting for the initial sync before the first build');
      this.#waitingLogged = true;
      return;
    }
    let result: TranslateResult;
    const started = performance.now();
    try {
      result = this.#translator.translate(this.#store.snapshot());
    } catch (error) {
      // translate never throws for bad objects; this is a bug. Keep serving the last config.
      this.#log.error({ err: error }, 'translate failed; the proxies keep the last config');
      return;
    }
    // translate emits keys in a fixed order, so equal configs give equal text
    // (JSON.stringify's, with unchanged hosts' text reused). Its hash is what
    // a proxy serving it reports; the text is made only for a whole push.
    const { hash, rest, text: body } = this.#writer.digest(result.config);
    this.#metrics?.translated((performance.now() - started) / 1000, result.problems.length);
    this.#logProblems(result);
    for (const listener of this.#listeners) listener(result, hash);
    if (hash === this.#hash) {
      this.#log.debug({ hash }, 'config unchanged; nothing to push');
      return;
    }
    this.#hash = hash;
    this.#log.info({ hash, problems: result.problems.length }, 'config built');
    for (const pusher of this.#pushers) pusher.want({ hash, body, config: result.config, rest });
  }

  /** Once every proxy took the first config: the warm-up would only have delayed that push. */
  #onAccepted(): void {
    if (this.#warmedUp || !this.ready) return;
    this.#warmedUp = true;
    this.#clock.setTimeout(() => this.#warmUp(), 0);
  }

  /**
   * Runs the reuse paths once, idle, right after the first config is served:
   * the first change after start is otherwise the slowest by far, as the JIT
   * has not compiled those paths yet. Nothing is pushed or reported.
   */
  #warmUp(): void {
    if (this.#timer !== undefined) return; // a real build is coming
    try {
      this.#translator.translate(this.#store.snapshot());
    } catch {
      // A real build reports it.
    }
  }

  /** Logs problems that are new since the last build and those now gone: once per change, not per build. */
  #logProblems(result: TranslateResult): void {
    const keys = new Map(result.problems.map((p) => [canonicalJson(p), p]));
    for (const [key, problem] of keys) {
      if (!this.#problemKeys.has(key)) this.#log.warn({ problem }, `problem: ${problem.message}`);
    }
    for (const key of this.#problemKeys) {
      if (!keys.has(key)) this.#log.info({ problem: JSON.parse(key) as unknown }, 'problem resolved');
    }
    this.#problemKeys = new Set(keys.keys());
  }
}

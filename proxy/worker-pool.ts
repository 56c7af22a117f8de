import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import type { LoadedConfig } from './config-loader.js';
import type { PrimaryMessage, WorkerMessage } from './worker.js';

/** A traffic port a worker could not bind. */
export interface WorkerListenFailure {
  server: 'http' | 'https';
  code: string;
  address: string;
  port: number;
}

interface WorkerState {
  worker: Worker;
  listening: boolean;
  generation: number;
  /** The last push this worker was sent a prepare for. */
  prepared: number | undefined;
}

interface Pending {
  generation: number;
  waiting: Set<number>;
  resolve: () => void;
  reject: (error: Error) => void;
}

const APPLY_TIMEOUT_MS = 15_000;
const RESTART_DELAY_MS = 500;
const PREPARE_SEND_WAIT_MS = 1_000;
/** How long past its grace a draining worker may take before it is killed. */
const STOP_KILL_MARGIN_MS = 2_000;

/**
 * Forks the traffic workers, keeps them alive, and hands every one of them
 * each config. A worker that dies is replaced and given the current config.
 */
export class WorkerPool {
  readonly #log: Logger;
  readonly #size: number;
  readonly #env: Record<string, string>;
  readonly #workers = new Map<number, WorkerState>();
  /** `prepared`: the push (or patch) whose prepared config is exactly `loaded.json`. */
  #current: { generation: number; loaded: LoadedConfig; prepared: number | undefined } | undefined;
  #pushes = 0;
  #pending: Pending | undefined;
  #stopping = false;
  /** Set once every first worker listened; before that a worker that cannot bind is fatal. */
  #started = false;
  #startFailed = false;
  #listened = 0;
  readonly #listening: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };
  ports: { http: number; https: number } | undefined;

  constructor(log: Logger, size: number, env: Record<string, string>) {
    this.#log = log;
    this.#size = size;
    this.#env = env;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    // Observed here so that a failure nobody awaits yet is not an unhandled rejection.
    promise.catch(() => undefined);
    this.#listening = { promise, resolve, reject };
  }

  /**
   * Resolves once every worker of the first set listens on both traffic
   * ports; rejects (a WorkerListenError) as soon as one cannot bind, and
   * then no worker is restarted: a port that is taken will not free itself.
   */
  get listening(): Promise<void> {
    return this.#listening.promise;
  }

  start(): void {
    // Configs travel as JSON text that each worker parses (in parallel): far
    // cheaper than structured-cloning the object. 'advanced' copies a string
    // as it is, where 'json' would escape it again.
    cluster.setupPrimary({ serialization: 'advanced' });
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    for (let i = 0; i < this.#size; i++) this.#fork();
  }

  /** Ready when every worker listens and serves the current generation. */
  get ready(): boolean {
    if (!this.#current || this.#workers.size < this.#size) return false;
    for (const state of this.#workers.values()) {
      if (!state.listening || state.generation !== this.#current.generation) return false;
    }
    return true;
  }

  get size(): number {
    return this.#workers.size;
  }

  /**
   * Hands every worker a pushed text before the primary has checked it, so
   * each worker's parse and build overlap the primary's. Resolves with the
   * push's id (for `apply` to commit, or `discard`) once the text has left:
   * an IPC pipe holds only some 64 KB, and the rest would otherwise wait for
   * the primary's event loop, which its own parse is about to block.
   *
   * With `base`, `json` is a config patch's changes: a worker serving the
   * config of hash `base` prepares that config patched.
   */
  async prepare(hash: string, json: string, base?: string): Promise<number> {
    const id = ++this.#pushes;
    const message: PrimaryMessage =
      base === undefined
        ? { type: 'portcullis:prepare', id, hash, json }
        : { type: 'portcullis:prepare-patch', id, base, hash, json };
    const sent = [...this.#workers.values()].map((state) => {
      state.prepared = id;
      // An error here means the worker is gone; its exit is handled elsewhere.
      return new Promise<void>((resolve) => state.worker.send(message, undefined, () => resolve()));
    });
    // A worker too busy to read must not hold the push up: past this, the text flows on its own.
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, PREPARE_SEND_WAIT_MS)));
    await Promise.race([Promise.all(sent), cap]);
    clearTimeout(timer);
    return id;
  }

  /** Drops a prepared push that will not be committed (rejected, or sent in full instead). */
  discard(id: number): void {
    const message: PrimaryMessage = { type: 'portcullis:discard', id };
    for (const state of this.#workers.values()) {
      if (state.prepared !== id) continue;
      state.prepared = undefined;
      // A worker gone meanwhile: its exit is handled elsewhere (the callback keeps the error off 'error').
      state.worker.send(message, undefined, () => undefined);
    }
  }

  /**
   * Sends a config to every worker and resolves once all have swapped to it.
   * `prepared` names a push (or patch) whose prepared config is exactly `loaded.json`:
   * workers that were sent it get a short commit, any other the full config.
   */
  apply(generation: number, loaded: LoadedConfig, prepared?: number): Promise<void> {
    this.#current = { generation, loaded, prepared };
    this.#pending?.reject(new PortcullisError('PCS_APPLY_TIMEOUT', 'superseded by a newer config'));
    return new Promise<void>((resolve, reject) => {
      const waiting = new Set([...this.#workers.keys()]);
      const timer = setTimeout(() => {
        if (this.#pending?.generation === generation) this.#pending = undefined;
        reject(new PortcullisError('PCS_APPLY_TIMEOUT'));
      }, APPLY_TIMEOUT_MS);
      const done = (fn: () => void) => () => {
        clearTimeout(timer);
        fn();
      };
      this.#pending = { generation, waiting, resolve: done(resolve), reject: (e) => done(() => reject(e))() };
      for (const state of this.#workers.values()) this.#send(state);
      this.#settle();
    });
  }

  /** Drains every worker: each exits once its connections are done, or after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          const message: PrimaryMessage = { type: 'portcullis:shutdown', graceMs };
          worker.send(message, undefined, () => undefined);
          setTimeout(() => worker.process.kill('SIGKILL'), graceMs + STOP_KILL_MARGIN_MS).unref();
        }),
    );
    await Promise.all(exits);
  }

  #fork(): void {
    const worker = cluster.fork(this.#env);
    this.#workers.set(worker.id, { worker, listening: false, generation: 0, prepared: undefined });
    worker.on('message', (message: WorkerMessage) => this.#onMessage(worker, message));
  }

  /** The current config: a commit when the worker has it prepared, else in full. */
  #send(state: WorkerState, full = false): void {
    if (!this.#current) return;
    const { generation, loaded, prepared } = this.#current;
    const commit = !full && prepared !== undefined && state.prepared === prepared;
    // A worker holds one prepared push at most, and this one is used up either way.
    state.prepared = undefined;
    const message: PrimaryMessage = commit
      ? { type: 'portcullis:commit', id: prepared, generation }
      : { type: 'portcullis:config', generation, hash: loaded.hash, json: loaded.json };
    state.worker.send(message);
  }

  #onMessage(worker: Worker, message: WorkerMessage): void {
    const state = this.#workers.get(worker.id);
    if (!state) return;
    switch (message.type) {
      case 'portcullis:want-config':
        this.#send(state, true);
        break;
      case 'portcullis:not-prepared':
        // Its prepare failed or never reached it: the full text, checked, must still be served.
        if (this.#current?.generation !== message.generation) break;
        this.#log.warn(
          { worker: worker.id, generation: message.generation },
          'worker had not prepared the pushed config; sending it in full',
        );
        this.#send(state, true);
        break;
      case 'portcullis:listening':
        state.listening = true;
        this.ports = { http: message.httpPort, https: message.httpsPort };
        if (!this.#started && ++this.#listened >= this.#size) {
          this.#started = true;
          this.#listening.resolve();
        }
        break;
      case 'portcullis:listen-failed': {
        const { server, code, address, port } = message;
        if (!this.#started) {
          // Reported once, by whoever awaits `listening`; the others fail the same way.
          if (!this.#startFailed)
            this.#listening.reject(new WorkerListenError({ server, code, address, port }));
          this.#startFailed = true;
          break;
        }
        // Later (a replacement worker): replaced like any worker that dies.
        this.#log.error({ worker: worker.id, server, code, address, port }, 'worker could not listen');
        worker.process.kill('SIGKILL');
        break;
      }
      case 'portcullis:applied':
        state.generation = message.generation;
        this.#settle();
        break;
      case 'portcullis:apply-failed':
        this.#log.error(
          { worker: worker.id, generation: message.generation, reason: message.message },
          'worker rejected config',
        );
        if (this.#pending?.generation === message.generation) {
          this.#pending.reject(new PortcullisError('PCS_CONFIG_INVALID', message.message));
          this.#pending = undefined;
        }
        break;
    }
  }

  #settle(): void {
    const pending = this.#pending;
    if (!pending) return;
    for (const id of pending.waiting) {
      const state = this.#workers.get(id);
      if (!state || state.generation >= pending.generation) pending.waiting.delete(id);
    }
    if (pending.waiting.size === 0) {
      this.#pending = undefined;
      pending.resolve();
    }
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.#workers.delete(worker.id);
    this.#settle();
    if (this.#stopping || this.#startFailed) return;
    this.#log.error({ worker: worker.id, code, signal }, 'worker exited; starting a new one');
    setTimeout(() => {
      if (!this.#stopping) this.#fork();
    }, RESTART_DELAY_MS).unref();
  }
}

/** A worker of the first set could not bind a traffic port. */
export class WorkerListenError extends Error {
  readonly failure: WorkerListenFailure;

  constructor(failure: WorkerListenFailure) {
    super(`a worker could not listen on ${failure.address}:${failure.port} (${failure.code})`);
    this.name = 'WorkerListenError';
    this.failure = failure;
  }
}

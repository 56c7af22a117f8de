/**
 * An ObjectSource that reads Kubernetes manifests from a folder instead of
 * the API server: `*.yaml`, `*.yml` and `*.json` files, recursively, each
 * possibly holding several YAML documents or a List. It lists everything
 * once (then reports every kind as synced), and rescans on change: every
 * folder is watched, events are debounced, and a slow poll runs as well
 * because file watching misses events on some file systems.
 *
 * Bad input loses nothing: a file that fails in any way (does not parse, is
 * refused by the parser's alias limit, is too large, cannot be read) keeps
 * its last good objects in the store, is logged once with its path and line,
 * and is listed by `problems()` until it reads again; other files keep
 * updating. Scans are bounded (files, depth, file size, documents; see
 * folder-scan.ts for the rules on links) and pause every few milliseconds,
 * so neither a huge file nor a link loop can hold the event loop or SIGTERM.
 */
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { PortcullisError } from '../../common/errors.js';
import { canonicalJson } from '../../contract/hash.js';
import { isWatchedKind } from '../object-store.js';
import { snapshotFromObjects } from '../snapshot.js';
import {
  WATCHED_KINDS,
  type ObjectSink,
  type ObjectSource,
  type SourceProblem,
  type WatchedKind,
} from '../source.js';
import type { KubeObject } from '../translate/k8s-types.js';
import { DirectoryWatcher } from './dir-watcher.js';
import { listManifestFolder, type FolderListing } from './folder-scan.js';
import { DEFAULT_MANIFEST_LIMITS, parseManifest, type ManifestLimits } from './manifest-parse.js';

export interface ManifestFolderOptions {
  dir: string;
  log: Logger;
  /**
   * Quiet time after the last file event before rescanning (editors write in
   * several steps), but at most 250 ms after the first. Short, because the sync loop's hold-off batches again.
   */
  debounceMs?: number;
  /** Rescan this often even without events. */
  pollIntervalMs?: number;
  /** For namespaced objects without a namespace, as `kubectl apply` does. */
  defaultNamespace?: string;
  /** Set false to scan only once (`portcullis translate`, tests). */
  watch?: boolean;
  limits?: Partial<ManifestLimits>;
}

interface FileState {
  /** Changes when the file is rewritten; an unchanged file is not read again. */
  stamp: string;
  /**
   * The text read, while the file was modified too recently for its stamp to
   * tell (file times have a coarse grain: a same-size rewrite in the same tick
   * keeps the stamp). Such a file is read again and compared.
   */
  racyText?: string;
  objects: Map<string, KubeObject>;
  /** Why the file's current content is not used (its last good objects are). */
  problem?: SourceProblem;
}

/** Thrown from a pause once the source is stopped: the scan is abandoned, nothing is applied. */
class ScanStopped extends Error {}

/** Stats at once, a few at a time: one after another costs a thread-pool round trip per file. */
const STAT_CONCURRENCY = 16;
/** Work between two pauses of a scan, so health checks and signals are answered meanwhile. */
const SLICE_MS = 10;
/** A file modified less than this before it was read may change again with the same stamp. */
const RACY_MS = 2000;
/** The longest a stream of events puts a rescan off. */
const MAX_DEFER_MS = 250;

export class ManifestFolderSource implements ObjectSource {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #options: Required<Omit<ManifestFolderOptions, 'dir' | 'log' | 'limits'>>;
  readonly #limits: ManifestLimits;
  #files = new Map<string, FileState>();
  #current = new Map<string, KubeObject>();
  #sink: ObjectSink | undefined;
  #watcher: DirectoryWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  /** When the first event the pending rescan waits for came. */
  #firstEvent: number | undefined;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #sliceStart = 0;
  #problems: SourceProblem[] = [];
  #problemsKey = '[]';
  readonly #problemListeners = new Set<() => void>();
  /** What was logged once and is not logged again while it lasts: loops, folder problems, duplicates. */
  #noticed = new Set<string>();

  constructor(options: ManifestFolderOptions) {
    this.#dir = options.dir;
    this.#log = options.log.child({ manifests: options.dir });
    this.#options = {
      debounceMs: options.debounceMs ?? 50,
      pollIntervalMs: options.pollIntervalMs ?? 5000,
      defaultNamespace: options.defaultNamespace ?? 'default',
      watch: options.watch ?? true,
    };
    this.#limits = { ...DEFAULT_MANIFEST_LIMITS, ...options.limits };
  }

  async start(sink: ObjectSink): Promise<void> {
    const info = await stat(this.#dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new PortcullisError('PCS_STARTUP', `${this.#dir} is not a directory`);
    this.#sink = sink;
    if (this.#options.watch) this.#watcher = new DirectoryWatcher(() => this.#scheduleRescan(), this.#log);
    await this.rescan();
    for (const { kind } of WATCHED_KINDS) sink.synced(kind);
    this.#log.info(
      { objects: this.#current.size, files: this.#files.size, problems: this.#problems.length },
      'manifests loaded',
    );
    if (this.#options.watch) this.#schedulePoll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    clearTimeout(this.#debounce);
    clearTimeout(this.#poll);
    await this.#scanning;
  }

  /** Files and folders whose content is not in use now, and why; sorted by path. */
  problems(): readonly SourceProblem[] {
    return this.#problems;
  }

  onProblems(listener: () => void): () => void {
    this.#problemListeners.add(listener);
    return () => this.#problemListeners.delete(listener);
  }

  /** Reads the folder again and reports the differences; concurrent calls coalesce into one more scan. */
  async rescan(): Promise<void> {
    if (this.#scanning) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#again = false;
        try {
          await this.#scanOnce();
        } catch (error) {
          if (error instanceof ScanStopped) return;
          throw error;
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  #scheduleRescan(): void {
    if (this.#stopped) return;
    // Each event puts the rescan off by the debounce, but never past MAX_DEFER_MS after the
    // first: a file written every few milliseconds would otherwise never be read.
    const now = performance.now();
    this.#firstEvent ??= now;
    const wait = Math.min(this.#options.debounceMs, Math.max(0, this.#firstEvent + MAX_DEFER_MS - now));
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#firstEvent = undefined;
      void this.#rescanLogged();
    }, wait);
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#poll = setTimeout(async () => {
      await this.#rescanLogged();
      this.#schedulePoll();
    }, this.#options.pollIntervalMs);
  }

  async #rescanLogged(): Promise<void> {
    try {
      await this.rescan();
    } catch (error) {
      // Files fail one by one (see #load); this is a bug, not bad input.
      this.#log.error({ err: error }, 'rescanning the manifests failed; keeping what was loaded');
    }
  }

  /** Yields to the event loop once a slice of work is done; ends the scan once stopped. */
  readonly #pause = async (): Promise<void> => {
    if (this.#stopped) throw new ScanStopped();
    if (performance.now() - this.#sliceStart < SLICE_MS) return;
    await nextTurn();
    this.#sliceStart = performance.now();
    if (this.#stopped) throw new ScanStopped();
  };

  async #scanOnce(): Promise<void> {
    this.#sliceStart = performance.now();
    const listing = await listManifestFolder(this.#dir, { ...this.#limits, pause: this.#pause });
    // Watch new folders before reading files: an edit made from now on is an event, one made
    // since the listing is caught by the extra scan this schedules.
    if (await this.#watcher?.update([...listing.directories, ...listing.linkFolders])) this.#scheduleRescan();

    const paths = [...listing.files];
    if (!listing.complete) {
      // Files not listed may still exist: keep them until a complete listing says they are gone.
      const listed = new Set(paths);
      const unlisted = [...this.#files.keys()].filter((path) => !listed.has(path));
      const exists = await mapLimited(unlisted, (path) =>
        stat(path).then(
          () => true,
          () => false,
        ),
      );
      paths.push(...unlisted.filter((_, i) => exists[i]));
      paths.sort();
    }
    const infos = await mapLimited(paths, (path) => stat(path).catch((error: unknown) => error as Error));
    const files = new Map<string, FileState>();
    for (const [i, path] of paths.entries()) files.set(path, await this.#load(path, infos[i]!));

    // Later files (in path order) win over earlier ones for the same object, as with kubectl apply.
    const next = new Map<string, KubeObject>();
    const notices = new Set<string>();
    for (const [path, state] of files) {
      for (const [key, object] of state.objects) {
        if (next.has(key))
          this.#noticeOnce(notices, `twice:${key}:${path}`, () =>
            this.#log.warn(
              { file: this.#rel(path), object: key },
              'object defined twice; the later file wins',
            ),
          );
        next.set(key, object);
      }
    }
    this.#noticeListing(listing, notices);
    this.#noticed = notices;
    this.#files = files;
    this.#apply(next);
    this.#updateProblems(listing);
  }

  /** Logs what the listing found once, while it lasts: a loop found every 5 s is not news. */
  #noticeListing(listing: FolderListing, notices: Set<string>): void {
    for (const loop of listing.loops)
      this.#noticeOnce(notices, `loop:${loop}`, () =>
        this.#log.warn(
          { file: loop },
          'symbolic link to a folder already read (a loop or a second way in); not followed',
        ),
      );
    for (const problem of listing.problems)
      this.#noticeOnce(notices, `problem:${problem.message}`, () =>
        this.#log.error({ file: problem.file, problem: problem.code }, problem.message),
      );
  }

  #noticeOnce(notices: Set<string>, key: string, log: () => void): void {
    if (!this.#noticed.has(key) && !notices.has(key)) log();
    notices.add(key);
  }

  #updateProblems(listing: FolderListing): void {
    const problems: SourceProblem[] = listing.problems.map((p) => ({ ...p, objects: [] }));
    for (const state of this.#files.values()) if (state.problem) problems.push(state.problem);
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const key = canonicalJson(problems);
    if (key === this.#problemsKey) return;
    this.#problems = problems;
    this.#problemsKey = key;
    for (const listener of this.#problemListeners) listener();
  }

  /** Reports the difference between what the sink has and `next`. Unchanged files keep their object identities. */
  #apply(next: Map<string, KubeObject>): void {
    const sink = this.#sink;
    if (!sink) return;
    for (const [key, object] of this.#current) {
      if (!next.has(key))
        sink.remove(object.kind as WatchedKind, object.metadata.namespace, object.metadata.name);
    }
    for (const [key, object] of next) {
      if (this.#current.get(key) !== object) sink.upsert(object);
    }
    this.#current = next;
  }

  /** The file's objects; on any failure, what it held before (or nothing, for a new file) and the problem. */
  async #load(path: string, info: Stats | Error): Promise<FileState> {
    const previous = this.#files.get(path);
    const file = this.#rel(path);
    const kept = (stamp: string, problem: SourceProblem): FileState => {
      // Logged when the problem is new: an unchanged broken file is not read again (same stamp).
      if (previous?.problem?.message !== problem.message)
        this.#log.error(
          { file, line: problem.line, column: problem.column, problem: problem.code },
          `${problem.message}; keeping its last objects`,
        );
      return { stamp, objects: previous?.objects ?? new Map(), problem };
    };
    if (info instanceof Error) {
      // Deleted since the listing: the next scan drops it; until then keep what it held.
      if ((info as NodeJS.ErrnoException).code === 'ENOENT')
        return previous ?? { stamp: '', objects: new Map() };
      return kept('', fileProblem('MANIFEST_UNREADABLE', file, `cannot read: ${info.message}`));
    }
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    const sameStamp = previous?.stamp === stamp;
    if (sameStamp && previous.racyText === undefined) return previous;
    const racy = Date.now() - info.mtimeMs < RACY_MS;
    if (info.size > this.#limits.maxFileBytes)
      return kept(
        stamp,
        fileProblem(
          'MANIFEST_TOO_LARGE',
          file,
          `larger than ${this.#limits.maxFileBytes} bytes (${info.size}); not read`,
        ),
      );
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return previous ?? { stamp: '', objects: new Map() };
      return kept('', fileProblem('MANIFEST_UNREADABLE', file, `cannot read: ${(error as Error).message}`));
    }
    if (sameStamp && text === previous.racyText) {
      const { racyText: _, ...same } = previous;
      return racy ? previous : same;
    }
    await this.#pause();
    const parsed = await parseManifest(text, { maxDocuments: this.#limits.maxDocuments, pause: this.#pause });
    if (!parsed.ok)
      return {
        ...kept(stamp, fileProblem(parsed.code, file, parsed.reason, parsed.line, parsed.column)),
        ...(racy ? { racyText: text } : {}),
      };
    if (previous?.problem) this.#log.info({ file }, 'manifest file parses again');
    return { stamp, objects: this.#objectsOf(file, parsed.values), ...(racy ? { racyText: text } : {}) };
  }

  #objectsOf(file: string, values: unknown[]): Map<string, KubeObject> {
    const { snapshot, rejected } = snapshotFromObjects(values, {
      defaultNamespace: this.#options.defaultNamespace,
    });
    for (const r of rejected) {
      // Other kinds (Deployments, ConfigMaps...) are normal in a manifest folder; only ours deserve a warning.
      if (r.kind !== undefined && !isWatchedKind(r.kind))
        this.#log.debug({ file, ...r }, 'ignored: not a kind Portcullis reads');
      else this.#log.warn({ file, ...r }, `ignored: ${r.reason}`);
    }
    const objects = new Map<string, KubeObject>();
    for (const list of Object.values(snapshot) as KubeObject[][]) {
      for (const object of list) {
        objects.set(`${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`, object);
      }
    }
    return objects;
  }

  #rel(path: string): string {
    return relative(this.#dir, path);
  }
}

/** A problem about one file; the message leads with `file:line:column`, as compilers print them. */
export function fileProblem(
  code: SourceProblem['code'],
  file: string,
  reason: string,
  line?: number,
  column?: number,
): SourceProblem {
  const where = [file, line, line === undefined ? undefined : column]
    .filter((x) => x !== undefined)
    .join(':');
  return {
    code,
    message: `${where}: ${reason}`,
    objects: [],
    file,
    ...(line === undefined ? {} : { line }),
    ...(column === undefined ? {} : { column }),
  };
}

async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, items.length) }, worker));
  return results;
}

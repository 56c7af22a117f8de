/**
 * An ObjectSource that reads Kubernetes manifests from a folder instead of
 * the API server: `*.yaml`, `*.yml` and `*.json` files, recursively, each
 * possibly holding several YAML documents or a List. It lists everything
 * once (then reports every kind as synced), and rescans on change: the
 * folder is watched, events are debounced, and a slow poll runs as well
 * because file watching misses events on some file systems.
 *
 * Bad input loses nothing: a file that does not parse is logged with its
 * line, and the objects it held before stay in the store until it parses
 * again. Hidden entries (`.*`, such as a ConfigMap mount's `..data`
 * directories) are skipped; symbolic links are followed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import { PortcullisError } from '../../common/errors.js';
import { isWatchedKind } from '../object-store.js';
import { snapshotFromObjects } from '../snapshot.js';
import { WATCHED_KINDS, type ObjectSink, type ObjectSource, type WatchedKind } from '../source.js';
import type { KubeObject } from '../translate/k8s-types.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ManifestFolderOptions {
  dir: string;
  log: Logger;
  /**
   * Quiet time after the last file event before rescanning (editors write in
   * several steps). Short, because the sync loop's hold-off batches again.
   */
  debounceMs?: number;
  /** Rescan this often even without events. */
  pollIntervalMs?: number;
  /** For namespaced objects without a namespace, as `kubectl apply` does. */
  defaultNamespace?: string;
  /** Set false to scan only once (`portcullis translate`, tests). */
  watch?: boolean;
}

interface FileState {
  /** Changes when the file is rewritten; an unchanged file is not read again. */
  stamp: string;
  objects: Map<string, KubeObject>;
}

export class ManifestFolderSource implements ObjectSource {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #options: Required<Omit<ManifestFolderOptions, 'dir' | 'log'>>;
  #files = new Map<string, FileState>();
  #current = new Map<string, KubeObject>();
  #sink: ObjectSink | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: ManifestFolderOptions) {
    this.#dir = options.dir;
    this.#log = options.log.child({ manifests: options.dir });
    this.#options = {
      debounceMs: options.debounceMs ?? 50,
      pollIntervalMs: options.pollIntervalMs ?? 5000,
      defaultNamespace: options.defaultNamespace ?? 'default',
      watch: options.watch ?? true,
    };
  }

  async start(sink: ObjectSink): Promise<void> {
    const info = await stat(this.#dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new PortcullisError('PCS_STARTUP', `${this.#dir} is not a directory`);
    this.#sink = sink;
    await this.rescan();
    for (const { kind } of WATCHED_KINDS) sink.synced(kind);
    this.#log.info({ objects: this.#current.size, files: this.#files.size }, 'manifests loaded');
    if (!this.#options.watch) return;
    try {
      this.#watcher = watch(this.#dir, { recursive: true }, () => this.#scheduleRescan());
      this.#watcher.on('error', (error) => {
        this.#log.warn({ err: error }, 'watching the folder failed; polling only');
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      this.#log.warn({ err: error }, 'cannot watch the folder; polling only');
    }
    this.#schedulePoll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    clearTimeout(this.#debounce);
    clearTimeout(this.#poll);
    await this.#scanning;
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
        await this.#scanOnce();
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  #scheduleRescan(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#rescanLogged(), this.#options.debounceMs);
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
      this.#log.warn({ err: error }, 'rescanning the manifests failed; keeping what was loaded');
    }
  }

  async #scanOnce(): Promise<void> {
    const paths = (await this.#list(this.#dir)).sort();
    // Concurrently: one stat after another would cost a thread-pool round trip per file.
    const loaded = await Promise.all(paths.map((path) => this.#load(path)));
    const files = new Map<string, FileState>(paths.map((path, i) => [path, loaded[i]!]));

    // Later files (in path order) win over earlier ones for the same object, as with kubectl apply.
    const next = new Map<string, KubeObject>();
    for (const [path, state] of files) {
      for (const [key, object] of state.objects) {
        if (next.has(key))
          this.#log.warn({ file: this.#rel(path), object: key }, 'object defined twice; the later file wins');
        next.set(key, object);
      }
    }
    this.#files = files;
    this.#apply(next);
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

  async #list(dir: string): Promise<string[]> {
    const found: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const info = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
      if (info?.isDirectory()) found.push(...(await this.#list(path)));
      else if (info?.isFile() && MANIFEST_FILE.test(entry.name)) found.push(path);
    }
    return found;
  }

  /** The file's objects; on any failure, what it held before (or nothing, for a new file). */
  async #load(path: string): Promise<FileState> {
    const previous = this.#files.get(path);
    let stamp: string;
    let text: string;
    try {
      const info = await stat(path);
      stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (previous?.stamp === stamp) return previous;
      text = await readFile(path, 'utf8');
    } catch (error) {
      this.#log.warn(
        { file: this.#rel(path), err: error },
        'cannot read manifest file; keeping its last objects',
      );
      return previous ?? { stamp: '', objects: new Map() };
    }
    const documents = parseAllDocuments(text);
    const failed = documents.flatMap((doc) => doc.errors)[0];
    if (failed) {
      this.#log.error(
        {
          file: this.#rel(path),
          line: failed.linePos?.[0].line,
          column: failed.linePos?.[0].col,
          error: failed.code,
        },
        `manifest does not parse; keeping its last objects: ${failed.message.split('\n')[0]}`,
      );
      // Keep the old stamp so the broken file is read (and reported) again only once it changes.
      return { stamp, objects: previous?.objects ?? new Map() };
    }
    return {
      stamp,
      objects: this.#objectsOf(
        path,
        documents.map((doc) => doc.toJS() as unknown),
      ),
    };
  }

  #objectsOf(path: string, values: unknown[]): Map<string, KubeObject> {
    const file = this.#rel(path);
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

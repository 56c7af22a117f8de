/**
 * Watches a set of folders, each with its own non-recursive `fs.watch`
 * (inotify on Linux), and reports only "something changed": the caller
 * rescans, and the scan, not the event, says what changed.
 *
 * Why not `fs.watch(dir, { recursive: true })`: on Linux, Node 20 emulates it
 * in JavaScript with one watch per file and drops the events of a file
 * replaced by an atomic save (a temporary file renamed over it), so later
 * edits of that file go unseen until the periodic rescan. One watch per folder
 * sees every entry created, renamed, written or deleted in it, whatever its
 * inode; the caller hands us the folders after every scan, so new folders are
 * watched as soon as a scan lists them.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

export class DirectoryWatcher {
  readonly #onChange: () => void;
  readonly #log: Logger;
  readonly #watchers = new Map<string, FSWatcher>();
  #warned = false;
  #closed = false;

  constructor(onChange: () => void, log: Logger) {
    this.#onChange = onChange;
    this.#log = log;
  }

  /** Watches exactly `dirs` from now on; true when any of them was not watched before. */
  update(dirs: readonly string[]): boolean {
    if (this.#closed) return false;
    const wanted = new Set(dirs);
    for (const [dir, watcher] of this.#watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
    let added = false;
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, () => this.#onChange());
        // A watched folder that goes away errors on some systems: the next scan decides.
        watcher.on('error', () => {
          watcher.close();
          if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir);
          this.#onChange();
        });
        this.#watchers.set(dir, watcher);
        added = true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue; // gone since the scan listed it
        if (!this.#warned)
          this.#log.warn(
            { err: error, folder: dir },
            'cannot watch a manifest folder (inotify limit?); its changes arrive with the periodic rescan',
          );
        this.#warned = true;
      }
    }
    return added;
  }

  get size(): number {
    return this.#watchers.size;
  }

  close(): void {
    this.#closed = true;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }
}

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
 *
 * A watch follows the folder (the inode), not its path: a folder deleted or
 * renamed away and another put under the same path would leave the path
 * watched in name only. So each folder's identity (device, inode and birth
 * time, since a freed inode number is soon reused) is kept and checked on
 * every update, and a path now naming another folder is watched again. Where
 * the file system has no birth time, an event naming the watched folder itself
 * (inotify's delete-self and move-self) marks its watch for renewal.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';

interface Watched {
  watcher: FSWatcher;
  /** `dev:ino:birthtime` of the folder the watch is on; '' when unsure (renewed next time). */
  id: string;
}

export class DirectoryWatcher {
  readonly #onChange: () => void;
  readonly #log: Logger;
  readonly #watched = new Map<string, Watched>();
  #warned = false;
  #closed = false;

  constructor(onChange: () => void, log: Logger) {
    this.#onChange = onChange;
    this.#log = log;
  }

  /**
   * Watches exactly `dirs` from now on; true when any of them was not watched
   * before (or was another folder): the caller rescans, since what changed in
   * it before the watch began was not an event.
   */
  async update(dirs: readonly string[]): Promise<boolean> {
    if (this.#closed) return false;
    const keep = new Set(dirs);
    for (const [dir, entry] of this.#watched) {
      if (!keep.has(dir)) this.#drop(dir, entry);
    }
    const wanted = [...keep];
    const ids = await Promise.all(wanted.map(identity));
    let added = false;
    for (const [i, dir] of wanted.entries()) {
      if (this.#closed) return false;
      const id = ids[i];
      const current = this.#watched.get(dir);
      if (current && current.id === id) continue;
      if (current) this.#drop(dir, current);
      if (id === undefined) continue; // gone since the scan listed it
      const watcher = this.#watch(dir);
      if (!watcher) continue;
      const entry: Watched = { watcher, id: '' };
      this.#watched.set(dir, entry);
      added = true;
      // The same folder before and after the watch began: the watch is on it.
      if ((await identity(dir)) === id) entry.id = id;
    }
    if (this.#closed) this.close();
    return added;
  }

  #watch(dir: string): FSWatcher | undefined {
    try {
      const name = basename(dir);
      const watcher = watch(dir, (_event, file) => {
        // The folder itself deleted or moved (or an entry of the same name: renewing costs little).
        if (file === name) {
          const entry = this.#watched.get(dir);
          if (entry?.watcher === watcher) entry.id = '';
        }
        this.#onChange();
      });
      // A watched folder that goes away errors on some systems: the next scan decides.
      watcher.on('error', () => {
        const entry = this.#watched.get(dir);
        if (entry?.watcher === watcher) this.#drop(dir, entry);
        else watcher.close();
        this.#onChange();
      });
      return watcher;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined; // gone since the scan listed it
      if (!this.#warned)
        this.#log.warn(
          { err: error, folder: dir },
          'cannot watch a manifest folder (inotify limit?); its changes arrive with the periodic rescan',
        );
      this.#warned = true;
      return undefined;
    }
  }

  #drop(dir: string, entry: Watched): void {
    entry.watcher.close();
    this.#watched.delete(dir);
  }

  get size(): number {
    return this.#watched.size;
  }

  close(): void {
    this.#closed = true;
    for (const { watcher } of this.#watched.values()) watcher.close();
    this.#watched.clear();
  }
}

async function identity(dir: string): Promise<string | undefined> {
  try {
    const info = await stat(dir);
    return info.isDirectory() ? `${info.dev}:${info.ino}:${info.birthtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

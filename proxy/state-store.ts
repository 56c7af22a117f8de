import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

const STATE_FILE = 'last-good-config.json';

/**
 * Keeps the last known good config on disk so that a restarted proxy serves
 * at once, even while the controller is down. Writes are atomic: a crash
 * mid-write leaves the previous file intact.
 */
export class StateStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get file(): string {
    return join(this.#dir, STATE_FILE);
  }

  /** Writes to a temporary file, flushes it, then renames it over the old one. */
  async save(json: string): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(json);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
  }

  /** The stored config's bytes (checked as UTF-8 by the loader) and modification time, or undefined. */
  async load(): Promise<{ bytes: Buffer; mtimeMs: number } | undefined> {
    try {
      const [bytes, info] = await Promise.all([readFile(this.file), stat(this.file)]);
      return { bytes, mtimeMs: info.mtimeMs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/**
 * Lists the manifest files of a folder, bounded, for one scan.
 *
 * The rules:
 * - `*.yaml`, `*.yml`, `*.json`, recursively; entries named `.*` are skipped
 *   (a mounted ConfigMap's `..data` and `..2026_…` folders, editors' temporary files).
 * - Symbolic links are followed, because a mounted ConfigMap's files are links
 *   into `..data`; but by real path, once: a link to a folder already read (a
 *   loop such as `ln -s . loop`, or a second way into the same folder) is not
 *   followed, and a real file reached twice is read under its first path.
 * - At most `maxDepth` levels and `maxFiles` files; what lies beyond is a
 *   problem, never an endless scan. A listing cut short (or a folder that
 *   cannot be read) is marked incomplete, so the caller does not take files
 *   it did not see for deleted ones.
 * - Besides the folders read, the listing names the folders that hold a link
 *   on the way (in the folder's own path, as `..data` when the folder given is
 *   a ConfigMap's, or from a linked entry to its target) and the real folders
 *   of linked files: a link swapped or a linked file edited is an event there.
 */
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, parse, relative, resolve } from 'node:path';
import type { ProblemCode } from '../translate/problem-codes.js';

export const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ScanProblem {
  code: ProblemCode;
  /** Relative to the folder; `.` is the folder itself. */
  file: string;
  message: string;
}

export interface FolderListing {
  /** Manifest files, absolute (through links as found), sorted: later files win. */
  files: string[];
  /** Real paths of every folder read: what to watch. */
  directories: string[];
  /** Real paths of the folders holding a link on the way, and of linked files' folders: what to watch too. */
  linkFolders: string[];
  /** Links to folders already read, not followed (relative). */
  loops: string[];
  problems: ScanProblem[];
  /** False when a limit cut the listing short or a folder could not be read. */
  complete: boolean;
}

export interface ListOptions {
  maxFiles: number;
  maxDepth: number;
  /** Awaited between folder entries; may throw to abandon the scan. */
  pause?: () => Promise<void>;
}

export async function listManifestFolder(root: string, options: ListOptions): Promise<FolderListing> {
  const listing: FolderListing = {
    files: [],
    directories: [],
    linkFolders: [],
    loops: [],
    problems: [],
    complete: true,
  };
  const holders = new Set<string>();
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const rel = (path: string) => relative(root, path) || '.';
  let full = false;

  const visit = async (dir: string, real: string, depth: number): Promise<void> => {
    seenDirs.add(real);
    listing.directories.push(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // A folder deleted during the scan is simply gone; anything else may hide files that exist.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && depth > 0) return;
      listing.complete = false;
      listing.problems.push({
        code: 'MANIFEST_UNREADABLE',
        file: rel(dir),
        message: `${rel(dir)}: cannot read the folder: ${(error as Error).message}`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (full) return;
      await options.pause?.();
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let target = join(real, entry.name);
      if (entry.isSymbolicLink()) {
        try {
          const info = await stat(path);
          [isDir, isFile] = [info.isDirectory(), info.isFile()];
          target = await realpath(path);
          await linkHolders(real, entry.name, holders);
          if (isFile) holders.add(dirname(target));
        } catch {
          continue; // a dangling link is like a missing file
        }
      }
      if (isDir) {
        if (seenDirs.has(target)) {
          listing.loops.push(rel(path));
        } else if (depth + 1 > options.maxDepth) {
          listing.problems.push({
            code: 'MANIFEST_FOLDER_LIMIT',
            file: rel(path),
            message: `${rel(path)}: deeper than ${options.maxDepth} folder levels; not read`,
          });
        } else {
          await visit(path, target, depth + 1);
        }
      } else if (isFile && MANIFEST_FILE.test(entry.name) && !seenFiles.has(target)) {
        if (listing.files.length >= options.maxFiles) {
          full = true;
          listing.complete = false;
          listing.problems.push({
            code: 'MANIFEST_FOLDER_LIMIT',
            file: '.',
            message: `more than ${options.maxFiles} manifest files; the others are not read`,
          });
          return;
        }
        seenFiles.add(target);
        listing.files.push(path);
      }
    }
  };

  let rootReal = root;
  try {
    rootReal = await realpath(root);
  } catch {
    // visit reports the folder as unreadable
  }
  const absolute = resolve(root);
  if (rootReal !== absolute) await linkHolders(parse(absolute).root, absolute, holders);
  await visit(root, rootReal, 0);
  listing.files.sort();
  listing.linkFolders = [...holders];
  return listing;
}

/** Links followed for one path at most, as the kernel does (ELOOP). */
const MAX_HOPS = 40;

/**
 * Adds to `found` the real folders that hold the links `rest` goes through
 * from `base` (a real folder), following each link's own target.
 */
async function linkHolders(base: string, rest: string, found: Set<string>, hops = 0): Promise<number> {
  let at = base;
  for (const part of rest.split(/[\\/]+/).filter(Boolean)) {
    const next = join(at, part);
    const info = await lstat(next).catch(() => undefined);
    if (!info?.isSymbolicLink()) {
      if (!info) return hops;
      at = next;
      continue;
    }
    if (++hops > MAX_HOPS) return hops;
    found.add(at);
    const target = await readlink(next).catch(() => undefined);
    if (target === undefined) return hops;
    hops = await linkHolders(isAbsolute(target) ? parse(target).root : at, target, found, hops);
    const real = await realpath(next).catch(() => undefined);
    if (real === undefined) return hops;
    at = real;
  }
  return hops;
}

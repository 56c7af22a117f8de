/**
 * The manifests `translate` and `apps` are given: files and folders named on
 * the command line. A path the user named that cannot be used (missing,
 * unreadable, neither file nor folder) is a usage error: one line naming it,
 * status 2, nothing printed. What lies inside is read as the manifest folder
 * reads it (same scan, parser and default limits), so a file there that fails
 * is a problem, as the controller would report it, and the rest is used.
 * `translate` may raise the per-file limits with the controller's flags.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceProblem } from '../controller/source.js';
import type { ManifestLimits } from '../controller/sources/manifest-limits.js';
import { exitWithUsageError } from './usage-error.js';

/** Why a path cannot be used, in words (Node's messages repeat the path and the syscall). */
function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  return (error as Error).message;
}

/** The manifest files under the named paths, in the order given (a folder's in path order). */
async function expandPaths(
  command: string,
  paths: string[],
): Promise<{ files: string[]; problems: SourceProblem[] }> {
  const [{ listManifestFolder }, { DEFAULT_MANIFEST_LIMITS }] = await Promise.all([
    import('../controller/sources/folder-scan.js'),
    import('../controller/sources/manifest-limits.js'),
  ]);
  const files: string[] = [];
  const problems: SourceProblem[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) =>
      exitWithUsageError(command, `cannot read ${path}: ${reason(error)}`),
    );
    if (info.isFile()) {
      await access(path, constants.R_OK).catch((error: unknown) =>
        exitWithUsageError(command, `cannot read ${path}: ${reason(error)}`),
      );
      files.push(path);
      continue;
    }
    if (!info.isDirectory()) exitWithUsageError(command, `${path} is neither a file nor a folder`);
    const listing = await listManifestFolder(path, DEFAULT_MANIFEST_LIMITS);
    for (const p of listing.problems) {
      // The folder itself unreadable: the path named is wrong, not a file in it.
      if (p.file === '.' && p.code === 'MANIFEST_UNREADABLE')
        exitWithUsageError(command, `cannot read the folder ${path}: ${p.message.replace(/^.*?: /, '')}`);
      problems.push({
        code: p.code,
        message: `${path}: ${p.message}`,
        objects: [],
        file: join(path, p.file),
      });
    }
    files.push(...listing.files);
  }
  return { files, problems };
}

/**
 * Every object in the named files and folders. A file that fails contributes
 * nothing and is a problem naming file, line and column, so that what is
 * translated is what the controller would serve from these files.
 */
export async function readManifestInputs(
  command: string,
  paths: string[],
  fileLimits: Partial<Pick<ManifestLimits, 'maxFileBytes' | 'maxDocuments'>> = {},
): Promise<{ objects: unknown[]; problems: SourceProblem[] }> {
  const [{ parseManifest, DEFAULT_MANIFEST_LIMITS }, { fileProblem }] = await Promise.all([
    import('../controller/sources/manifest-parse.js'),
    import('../controller/sources/manifest-folder.js'),
  ]);
  const limits = { ...DEFAULT_MANIFEST_LIMITS, ...fileLimits };
  const { files, problems } = await expandPaths(command, paths);
  const objects: unknown[] = [];
  for (const file of files) {
    let text: string;
    try {
      const { size } = await stat(file);
      if (size > limits.maxFileBytes) {
        problems.push(
          fileProblem(
            'MANIFEST_TOO_LARGE',
            file,
            `larger than ${limits.maxFileBytes} bytes (${size}); not read`,
          ),
        );
        continue;
      }
      text = await readFile(file, 'utf8');
    } catch (error) {
      problems.push(fileProblem('MANIFEST_UNREADABLE', file, `cannot read: ${reason(error)}`));
      continue;
    }
    const parsed = await parseManifest(text, { maxDocuments: limits.maxDocuments });
    if (parsed.ok) objects.push(...parsed.values);
    else problems.push(fileProblem(parsed.code, file, parsed.reason, parsed.line, parsed.column));
  }
  return { objects, problems };
}

/**
 * The folder `portcullis run` watches for the demo: examples/demo itself
 * (edits there are what the printed revoke step does), or a new folder the
 * demo fills with a copy fitted to its ports. An existing folder is never
 * rewritten; if it names other ports the demo says so and stops.
 */
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PortcullisError } from '../common/errors.js';
import { describeChange, fitManifests, type ManifestFile } from './manifest-fit.js';
import type { DemoPorts } from './ports.js';

/** examples/demo of this package, wherever it is installed (dist/demo/ is two levels down). */
export const EXAMPLE_MANIFESTS = fileURLToPath(new URL('../../examples/demo', import.meta.url));

/** Manifest files as the controller reads them: *.yaml, *.yml, *.json, hidden ones left out. */
async function readManifestFiles(dir: string): Promise<ManifestFile[]> {
  const entries = await readdir(dir, { recursive: true });
  const paths = entries
    .filter((p) => /\.(ya?ml|json)$/.test(p) && !p.split(sep).some((part) => part.startsWith('.')))
    .sort();
  return Promise.all(paths.map(async (path) => ({ path, text: await readFile(join(dir, path), 'utf8') })));
}

export interface PreparedManifests {
  dir: string;
  /** True when the demo made the folder (a fitted copy of examples/demo). */
  created: boolean;
}

export async function prepareManifests(dir: string, ports: DemoPorts): Promise<PreparedManifests> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory())
    throw new PortcullisError('PCS_STARTUP', `--manifests ${dir} is not a directory`);
  if (!existing) {
    await mkdir(dir, { recursive: true });
    await cp(EXAMPLE_MANIFESTS, dir, { recursive: true });
    const { files } = fitManifests(await readManifestFiles(dir), ports);
    await Promise.all(files.map((f) => writeFile(join(dir, f.path), f.text)));
    return { dir, created: true };
  }
  const { changes } = fitManifests(await readManifestFiles(dir), ports);
  if (changes.length > 0) {
    const lines = changes.map((c) => `  ${describeChange(c)}`).join('\n');
    throw new PortcullisError(
      'PCS_STARTUP',
      `the manifests in ${dir} do not match the demo's ports:\n${lines}\n` +
        'Edit them, or pass --manifests with a folder that does not exist yet: the demo copies examples/demo there with its ports written in.',
    );
  }
  return { dir, created: false };
}

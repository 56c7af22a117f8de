/**
 * Running Portcullis's built proxy on Bun, for bench/bun.mjs only.
 *
 * Bun answers `import 'undici'` with its own built-in stand-in, whose Pool
 * has no dispatch() (oven-sh/bun#39247), and a Bun.plugin cannot override a
 * built-in. So the build is copied and its bare `undici` imports point at
 * the real package from node_modules, which runs on Bun's node:net.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The Bun binary: $BUN, else `bun` on PATH; undefined when neither runs. */
export function findBun() {
  const command = process.env.BUN ?? 'bun';
  const r = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? { command, version: r.stdout.trim() } : undefined;
}

/** Copies `root`/dist to `dir`/dist with real undici; returns the copy's CLI entry point. */
export function bunDist(root, dir) {
  const dist = path.join(dir, 'dist');
  cpSync(path.join(root, 'dist'), dist, { recursive: true });
  // Modules resolve from the copy's location: give it the repository's packages and module type.
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  cpSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  const undici = createRequire(path.join(root, 'package.json')).resolve('undici');
  for (const entry of readdirSync(dist, { recursive: true })) {
    const file = path.join(dist, entry);
    if (!file.endsWith('.js')) continue;
    const text = readFileSync(file, 'utf8');
    if (text.includes("from 'undici'"))
      writeFileSync(file, text.replaceAll("from 'undici'", `from '${undici}'`));
  }
  return path.join(dist, 'cli/main.js');
}

/**
 * Every process of portcullis (run, the proxy primary, each worker) starts
 * from cli/main.js, so what it imports statically is paid by each of them at
 * start. The Kubernetes client alone costs about a second and 70 MB; undici
 * about 90 ms, the `yaml` package about 35 ms.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT =
  /^\s*(?:import|export)\s(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** The project files and packages reached by static, non-type imports from `entry`. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [join(ROOT, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (match[1] ?? match[2])!;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) queue.push(target);
      } else if (!spec.startsWith('node:')) {
        packages.add(
          spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
  }
  return { files: new Set([...files].map((f) => relative(ROOT, f))), packages };
}

describe('start-up imports', () => {
  it('cli/main loads no Kubernetes client and no HTTP client', () => {
    const { packages } = staticGraph('cli/main.ts');
    expect(packages).not.toContain('@kubernetes/client-node');
    expect(packages).not.toContain('undici');
  });

  it('translate loads the yaml package only for what js-yaml leaves to it', () => {
    expect(staticGraph('controller/translate/index.ts').packages).not.toContain('yaml');
  });

  it('the proxy primary loads neither the worker nor the plugins', () => {
    const { files } = staticGraph('proxy/primary.ts');
    expect(files).not.toContain('proxy/worker.ts');
    expect([...files].filter((f) => f.startsWith('proxy/plugins/openid-connect/'))).toEqual([]);
  });
});

/**
 * What a scenario needs on the machine, checked before anything starts.
 *
 * A requirement is either a program (`bin`, found on PATH or in the sbin
 * directories, with the Debian package that provides it) or a file of this
 * repository (`file`, with the command that makes it).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** @typedef {{ bin: string, pkg: string } | { file: string, hint: string }} Requirement */

export const WRK = { bin: 'wrk', pkg: 'wrk' };
export const NGINX = { bin: 'nginx', pkg: 'nginx-light' };
export const HAPROXY = { bin: 'haproxy', pkg: 'haproxy' };
export const PORTCULLIS = { file: 'dist/cli/main.js', hint: 'npm run build' };

const SEARCH = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable, or undefined. */
export function findBinary(name) {
  for (const dir of SEARCH) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Check requirements; returns a list of human-readable problems (empty: all present).
 * @param {Requirement[]} reqs
 * @param {string} root  repository root, for `file` requirements
 */
export function checkRequirements(reqs, root) {
  const unique = [...new Map(reqs.map((r) => ['bin' in r ? r.bin : r.file, r])).values()];
  const missingPkgs = [];
  const problems = [];
  for (const r of unique) {
    if ('bin' in r) {
      if (!findBinary(r.bin)) {
        missingPkgs.push(r.pkg);
        problems.push(`'${r.bin}' not found (Debian package ${r.pkg}).`);
      }
    } else if (!existsSync(path.join(root, r.file))) {
      problems.push(`${r.file} not found: run \`${r.hint}\` first (\`npm run bench\` does).`);
    }
  }
  if (missingPkgs.length > 0) {
    const all = [...new Set(unique.filter((r) => 'bin' in r).map((r) => r.pkg))].sort();
    problems.push(`Install with: apt-get install -y ${all.join(' ')}`);
  }
  return problems;
}

/**
 * The CPU list pinned proxies run on (BENCH_PIN_CPUS; default the last CPU; "none": unpinned), or
 * undefined when they run unpinned (one CPU, no taskset, or "none").
 */
export function pinCpus() {
  const env = process.env.BENCH_PIN_CPUS;
  if (env === 'none' || !findBinary('taskset')) return undefined;
  if (env) return env;
  const n = os.availableParallelism();
  return n >= 2 ? String(n - 1) : undefined;
}

/** The CPUs not in `cpuList` (a taskset list such as "1" or "2-3,5"), as a list; undefined if none. */
export function otherCpus(cpuList) {
  const taken = new Set();
  for (const part of cpuList.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    for (let c = a; c <= b; c++) taken.add(c);
  }
  const rest = [];
  for (let c = 0; c < os.availableParallelism(); c++) if (!taken.has(c)) rest.push(c);
  return rest.length > 0 ? rest.join(',') : undefined;
}

/** The command and arguments that run `command` under `taskset -c <cpuList>`, when a list is given. */
export function pinned(cpuList, command, args) {
  if (!cpuList) return { command, args };
  return { command: findBinary('taskset') ?? 'taskset', args: ['-c', cpuList, command, ...args] };
}

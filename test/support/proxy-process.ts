/**
 * Starts the built `portcullis proxy` CLI (dist/cli/main.js) as a child
 * process on free loopback ports, with a temporary state dir and admin token
 * file, and drives it over its admin and status ports.
 *
 * Build first: `npx tsc -p tsconfig.build.json`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledConfig } from '../../contract/compiled-config.js';
import { eventually, http, StopPolling, type HttpResult } from './http-client.js';
import { expect } from 'vitest';
import { freePorts } from './upstreams.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface ProxyStartOptions {
  /** Written to a temporary file and passed as `--config`. */
  config?: CompiledConfig;
  /** An existing file passed as `--config`. */
  configFile?: string;
  /** Defaults to a fresh temporary directory. */
  stateDir?: string;
  /** Defaults to 2 (the test machine has 2 cores). */
  workers?: number;
  /**
   * The admin token, written to a token file passed as `--admin-token-file`.
   * Defaults to a random token; `false` passes no token file.
   */
  token?: string | false;
  /** Passes `--allow-unauthenticated-admin`. */
  allowUnauthenticatedAdmin?: boolean;
  accessLog?: boolean;
  /** `--trusted-proxies` value. */
  trustedProxies?: string;
  /** More CLI arguments, appended last. */
  args?: string[];
  /** Environment variables for the proxy, on top of the test's own (less any PORTCULLIS_*). */
  env?: Record<string, string>;
  /**
   * What to wait for: `ready` (/readyz answers 200; the default with a
   * config), `status` (the status port answers; the default without one).
   */
  wait?: 'ready' | 'status';
  startTimeoutMs?: number;
}

export interface PushResult {
  status: number;
  body: {
    hash?: string;
    generation?: number;
    changed?: boolean;
    error?: string;
    message?: string;
    problems?: {
      path: string;
      message: string;
      source?: { kind: string; namespace?: string; name: string };
    }[];
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // A test that failed before stop() must not leave proxies behind.
  for (const child of running) child.kill('SIGKILL');
});

let staleChecked = false;

/** Warns once when a source file is newer than its compiled output: the tests would run old code. */
function warnIfDistIsStale(): void {
  if (staleChecked) return;
  staleChecked = true;
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) {
        const out = join(REPO_ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
        const src = join(REPO_ROOT, rel);
        if (!existsSync(out) || statMs(out) < statMs(src)) stale.push(rel);
      }
    }
  };
  for (const dir of ['cli', 'common', 'contract', 'proxy']) walk(dir);
  if (stale.length > 0)
    console.warn(`dist/ is older than ${stale.join(', ')}: run \`npx tsc -p tsconfig.build.json\``);
}

function statMs(file: string): number {
  return statSync(file).mtimeMs;
}

export class ProxyProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminPort: number;
  readonly statusPort: number;
  readonly stateDir: string;
  readonly token: string | undefined;
  readonly exited: Promise<Exit>;
  readonly #tempDirs: string[];
  #stdout = '';
  #stderr = '';
  #exit: Exit | undefined;

  constructor(
    child: ChildProcess,
    ports: { http: number; https: number; admin: number; status: number },
    stateDir: string,
    token: string | undefined,
    tempDirs: string[],
  ) {
    this.child = child;
    this.httpPort = ports.http;
    this.httpsPort = ports.https;
    this.adminPort = ports.admin;
    this.statusPort = ports.status;
    this.stateDir = stateDir;
    this.token = token;
    this.#tempDirs = tempDirs;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.#stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stdout(): string {
    return this.#stdout;
  }

  /** Everything the process (primary and workers) wrote so far. */
  output(): string {
    return this.#stdout + this.#stderr;
  }

  /** The JSON log lines written so far (lines that are not JSON are skipped). */
  logLines(): Record<string, unknown>[] {
    const lines: Record<string, unknown>[] = [];
    for (const line of this.#stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line still being written.
      }
    }
    return lines;
  }

  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /**
   * `PUT /config` with the proxy's token (or `token`; `null` sends none). On
   * success also waits until /readyz answers 200 (workers listen and serve it).
   */
  async push(config: unknown, token?: string | null): Promise<PushResult> {
    if (token === undefined) token = this.token ?? null;
    const body = typeof config === 'string' ? config : JSON.stringify(config);
    const res = await http({
      port: this.adminPort,
      method: 'PUT',
      path: '/config',
      headers: {
        'content-type': 'application/json',
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
    });
    const result = { status: res.status, body: res.json<PushResult['body']>() };
    if (res.status === 200) await this.waitReady();
    return result;
  }

  /** Pushes and fails the test unless the proxy accepted the config. */
  async pushOk(config: CompiledConfig): Promise<PushResult['body']> {
    const result = await this.push(config);
    if (result.status !== 200)
      throw new Error(`push rejected: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  }

  getConfig(): Promise<HttpResult> {
    return http({
      port: this.adminPort,
      path: '/config',
      headers: this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {},
    });
  }

  status(path: string): Promise<HttpResult> {
    return http({ port: this.statusPort, path });
  }

  async metrics(): Promise<string> {
    const res = await this.status('/metrics');
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text;
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => {
        this.#failIfExited();
        return (await this.status('/readyz')).status === 200 ? true : undefined;
      },
      `/readyz 200 on port ${this.statusPort}`,
      timeoutMs,
    );
  }

  async waitStatusPort(timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => {
        this.#failIfExited();
        return (await this.status('/healthz')).status === 200 ? true : undefined;
      },
      `/healthz on port ${this.statusPort}`,
      timeoutMs,
    );
  }

  /** Waits until the output contains `text` (or matches it). */
  async waitForOutput(text: string | RegExp, timeoutMs = 10_000): Promise<void> {
    await eventually(
      () => (typeof text === 'string' ? this.output().includes(text) : text.test(this.output())) || undefined,
      `output ${String(text)}`,
      timeoutMs,
    );
  }

  /** The pids of the worker processes (children of the primary), read from /proc. */
  workerPids(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // Fields after the parenthesised command name: state, ppid, ...
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === this.pid) pids.push(Number(entry));
      } catch {
        // The process went away while we looked.
      }
    }
    return pids;
  }

  /** Kills worker `pid` and waits until its replacement runs and every worker serves the config. */
  async replaceWorker(pid: number): Promise<void> {
    const count = this.workerPids().length;
    process.kill(pid, 'SIGKILL');
    await this.waitForOutput('worker exited; starting a new one');
    await eventually(() => (this.workerPids().length === count ? true : undefined), 'a replacement worker');
    await this.waitReady();
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<Exit> {
    if (!this.#exit) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.#exit!;
  }

  /** Stops the process and removes its temporary files (not a state dir the caller passed in). */
  async dispose(): Promise<void> {
    await this.stop();
    await Promise.all(this.#tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  #failIfExited(): void {
    if (this.#exit) {
      throw new StopPolling(`proxy exited (${JSON.stringify(this.#exit)}) with output:\n${this.output()}`);
    }
  }
}

export async function tempDir(prefix = 'portcullis-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The CLI arguments, ports and temporary files for one start. */
async function prepare(options: ProxyStartOptions) {
  warnIfDistIsStale();
  const scratch = await tempDir();
  const tempDirs = [scratch];
  const stateDir = options.stateDir ?? join(scratch, 'state');
  const [http, https, admin, status] = (await freePorts(4)) as [number, number, number, number];
  const args = [
    CLI,
    'proxy',
    '--address',
    '127.0.0.1',
    '--status-address',
    '127.0.0.1',
    '--http-port',
    String(http),
    '--https-port',
    String(https),
    '--admin-port',
    String(admin),
    '--status-port',
    String(status),
    '--workers',
    String(options.workers ?? 2),
    '--state-dir',
    stateDir,
  ];
  const token = options.token === false ? undefined : (options.token ?? randomBytes(16).toString('hex'));
  if (token !== undefined) {
    const tokenFile = join(scratch, 'admin-token');
    await writeFile(tokenFile, token + '\n', { mode: 0o600 });
    args.push('--admin-token-file', tokenFile);
  }
  if (options.allowUnauthenticatedAdmin) args.push('--allow-unauthenticated-admin');
  if (options.config) {
    const configFile = join(scratch, 'config.json');
    await writeFile(configFile, JSON.stringify(options.config));
    args.push('--config', configFile);
  } else if (options.configFile) {
    args.push('--config', options.configFile);
  }
  if (options.accessLog) args.push('--access-log');
  if (options.trustedProxies) args.push('--trusted-proxies', options.trustedProxies);
  args.push(...(options.args ?? []));
  return { args, ports: { http, https, admin, status }, stateDir, token, tempDirs };
}

/** The environment without any PORTCULLIS_* variable of the developer's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('PORTCULLIS_')) env[key] = value;
  return env;
}

/** Spawns the CLI with prepared arguments; the process is tracked for cleanup. */
async function spawnProxy(options: ProxyStartOptions): Promise<ProxyProcess> {
  const prepared = await prepare(options);
  const child = spawn(process.execPath, prepared.args, {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  return new ProxyProcess(child, prepared.ports, prepared.stateDir, prepared.token, prepared.tempDirs);
}

/** Starts the proxy and waits until it is ready (or its status port answers, without a config). */
export async function startProxy(options: ProxyStartOptions = {}): Promise<ProxyProcess> {
  const proxy = await spawnProxy(options);
  const wait = options.wait ?? (options.config || options.configFile ? 'ready' : 'status');
  try {
    if (wait === 'ready') await proxy.waitReady(options.startTimeoutMs);
    else await proxy.waitStatusPort(options.startTimeoutMs);
  } catch (error) {
    await proxy.dispose();
    throw error;
  }
  return proxy;
}

/**
 * Starts the proxy when it is expected to refuse to start: resolves with
 * its exit and output, or fails if it is still running after `timeoutMs`.
 */
export async function startProxyExpectingExit(
  options: ProxyStartOptions,
  timeoutMs = 15_000,
): Promise<Exit & { output: string }> {
  const proxy = await spawnProxy(options);
  const timer = setTimeout(() => proxy.child.kill('SIGKILL'), timeoutMs);
  const exit = await proxy.exited;
  clearTimeout(timer);
  await proxy.dispose();
  if (exit.signal === 'SIGKILL')
    throw new Error(`the proxy did not exit within ${timeoutMs} ms:\n${proxy.output()}`);
  return { ...exit, output: proxy.output() };
}

let probes = 0;

/**
 * What each worker of `proxy` answers: `ask` sends a request for a fresh
 * path (a new connection each time, so requests spread over the workers)
 * and turns the response into an answer; each request's worker is read from
 * the access log. Asks until every current worker answered at least twice.
 */
export async function answersByWorker(
  proxy: ProxyProcess,
  ask: (path: string) => Promise<string>,
): Promise<Map<number, Set<string>>> {
  const pids = proxy.workerPids();
  const seen = new Map<number, Set<string>>();
  const answers = new Map<number, number>();
  for (let i = 0; i < 60 && !pids.every((pid) => (answers.get(pid) ?? 0) >= 2); i++) {
    const path = `/probe-${++probes}`;
    const answer = await ask(path);
    const line = await eventually(
      () => proxy.logLines().find((l) => l.type === 'access' && l.path === path),
      `access log line for ${path}`,
    );
    const pid = Number(line.pid);
    seen.set(pid, (seen.get(pid) ?? new Set()).add(answer));
    answers.set(pid, (answers.get(pid) ?? 0) + 1);
  }
  expect([...seen.keys()].sort()).toEqual([...pids].sort());
  return seen;
}

/**
 * Child processes of the benchmark: spawn, track, wait for readiness, stop.
 *
 * Every child is started in its own process group (`detached`), so that
 * stopping it also stops the workers it forked (nginx workers, Node cluster
 * workers). `installCleanup()` makes sure nothing outlives the harness: on
 * normal exit, on an error, on SIGINT/SIGTERM and when the time budget runs out.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** @type {Set<Child>} */
const children = new Set();
let closing = false;

/** True once shutdown began: no new children start, and callers should stop working. */
export const isClosing = () => closing;

/** A promise that never settles: park the caller while shutdown exits the process. */
export const parkIfClosing = () => (closing ? new Promise(() => {}) : Promise.resolve());

/**
 * @typedef {object} Child
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} proc
 * @property {string | undefined} logFile
 * @property {Promise<{code: number | null, signal: string | null}>} exited
 * @property {boolean} hasExited
 * @property {() => string} output  stdout+stderr so far (when captured) or the log tail
 * @property {() => Promise<void>} stop
 */

/**
 * Start a tracked child process.
 * @param {string} name  label used in messages
 * @param {string} command
 * @param {string[]} args
 * @param {{ logFile?: string, capture?: boolean, env?: NodeJS.ProcessEnv, cwd?: string }} [opts]
 *   logFile: append stdout+stderr there; capture: keep them in memory instead.
 * @returns {Child}
 */
export function startProcess(name, command, args, opts = {}) {
  if (closing) throw new Error('shutting down');
  const proc = spawn(command, args, {
    detached: true,
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let captured = '';
  if (opts.logFile) {
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    proc.stdout.pipe(log);
    proc.stderr.pipe(log);
  } else {
    proc.stdout.on('data', (d) => (captured += d));
    proc.stderr.on('data', (d) => (captured += d));
  }
  /** @type {Child} */
  const child = {
    name,
    proc,
    logFile: opts.logFile,
    hasExited: false,
    exited: new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        child.hasExited = true;
        children.delete(child);
        resolve({ code, signal });
      });
      proc.on('error', (err) => {
        captured += `\n${err.message}`;
        child.hasExited = true;
        children.delete(child);
        resolve({ code: -1, signal: null });
      });
    }),
    output: () => (opts.logFile ? tail(opts.logFile) : captured),
    stop: () => stopChild(child),
  };
  children.add(child);
  return child;
}

/** Last lines of a log file, for error messages. */
export function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function signalGroup(child, signal) {
  if (child.hasExited || child.proc.pid === undefined) return;
  try {
    process.kill(-child.proc.pid, signal);
  } catch {
    // group already gone
  }
}

/** SIGTERM the child's process group, SIGKILL it after `graceMs`. */
async function stopChild(child, graceMs = 5000) {
  // Also catches group members left behind after the leader exited.
  signalGroup(child, 'SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout');
  if ((await Promise.race([child.exited, timer])) === 'timeout') signalGroup(child, 'SIGKILL');
  await child.exited;
  if (child.proc.pid !== undefined) {
    try {
      process.kill(-child.proc.pid, 'SIGKILL');
    } catch {
      // nothing left
    }
  }
}

/** Stop every child that is still running (servers last-started first). */
export async function stopAll() {
  await Promise.all([...children].reverse().map((c) => c.stop()));
}

/** Synchronous last resort, for the `exit` event. */
function killAllSync() {
  for (const child of children) signalGroup(child, 'SIGKILL');
}

/**
 * Clean up on every way out. `onExit` runs once before the process ends
 * (e.g. to remove the temp dir). Returns `shutdown(code, message)` for the
 * harness's own fatal paths (time budget exceeded).
 */
export function installCleanup(onExit = async () => {}) {
  let shuttingDown = false;
  const shutdown = async (code, message) => {
    if (shuttingDown) return;
    shuttingDown = true;
    closing = true;
    if (message) console.error(message);
    await stopAll().catch(() => {});
    await Promise.resolve(onExit(code)).catch(() => {});
    process.exit(code);
  };
  process.on('exit', killAllSync);
  process.on('SIGINT', () => shutdown(130, '\nInterrupted: stopping child processes.'));
  process.on('SIGTERM', () => shutdown(143, '\nTerminated: stopping child processes.'));
  process.on('SIGHUP', () => shutdown(129));
  process.on('uncaughtException', (err) => shutdown(1, `Fatal: ${err?.stack ?? err}`));
  process.on('unhandledRejection', (err) => shutdown(1, `Fatal: ${err?.stack ?? err}`));
  return shutdown;
}

/** A loopback TCP port that was free a moment ago (bind to port 0, then release). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** `n` distinct free loopback ports. */
export async function freePorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/**
 * One HTTP GET with a short timeout; never throws.
 * @returns {Promise<{status: number, body: string} | {error: string}>}
 */
export function httpGet(url, headers = {}, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        if (body.length < 4096) body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

/**
 * Poll `url` until it answers 200, the child exits, or `timeoutMs` passes.
 * Throws with the child's output tail on failure.
 */
export async function waitReady(child, url, { headers = {}, timeoutMs = 15000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.hasExited) {
      const { code, signal } = await child.exited;
      throw new Error(
        `${child.name} exited (code ${code}, signal ${signal}) before it was ready.\n${child.output()}`,
      );
    }
    const res = await httpGet(url, headers, 1000);
    if ('status' in res && res.status === 200) return;
    last = 'status' in res ? `HTTP ${res.status}` : res.error;
    await sleep(100);
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms (${url}: ${last}).\n${child.output()}`);
}

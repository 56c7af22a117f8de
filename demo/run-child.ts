/**
 * `portcullis run` on the demo's manifests, as a child process: the same
 * command a user runs on their own folder, with every port on 127.0.0.1 and
 * one worker. It stays in our process group, so a Ctrl-C in the terminal
 * reaches it directly; `stop()` covers every other way the demo ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PortcullisError } from '../common/errors.js';
import { DEMO_ADDRESS, type DemoPorts } from './ports.js';

export interface RunChild {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (run stops its controller, then drains its proxy) and wait until it is gone. */
  stop(): Promise<void>;
}

export interface RunChildOptions {
  cli: string;
  manifests: string;
  ports: DemoPorts;
  logLevel: string;
  readyWithinMs?: number;
  /** Aborted while waiting for readiness: stop the child and reject. */
  signal?: AbortSignal;
}

export function runArgs(o: RunChildOptions): string[] {
  const p = o.ports;
  return [
    o.cli,
    'run',
    ...['--manifests', o.manifests],
    ...['--address', DEMO_ADDRESS, '--admin-address', DEMO_ADDRESS, '--status-address', DEMO_ADDRESS],
    ...['--controller-status-address', DEMO_ADDRESS],
    ...['--http-port', String(p.http), '--https-port', String(p.https), '--admin-port', String(p.admin)],
    ...['--status-port', String(p.status), '--controller-status-port', String(p.controller)],
    ...['--workers', '1', '--log-level', o.logLevel],
  ];
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startRunChild(options: RunChildOptions): Promise<RunChild> {
  // Our flags decide; a PORTCULLIS_* variable of the user's shell must not change the child.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('PORTCULLIS_')) env[key] = value;
  const child: ChildProcess = spawn(process.execPath, runArgs(options), {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  // If the demo itself dies of an error, do not leave run (and its proxy) holding the ports.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    await exited;
    process.removeListener('exit', onExit);
  };

  const url = `http://${DEMO_ADDRESS}:${options.ports.controller}/readyz`;
  const deadline = Date.now() + (options.readyWithinMs ?? 60_000);
  while (!(await ready(url))) {
    if (gone) {
      const { code, signal } = await exited;
      throw new PortcullisError(
        'PCS_STARTUP',
        `portcullis run exited (${signal ?? `status ${code}`}); see its lines above`,
      );
    }
    if (options.signal?.aborted) {
      await stop();
      options.signal.throwIfAborted();
    }
    if (Date.now() > deadline) {
      await stop();
      throw new PortcullisError(
        'PCS_STARTUP',
        `portcullis run was not ready within ${options.readyWithinMs ?? 60_000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { exited, stop };
}

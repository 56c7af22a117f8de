import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { eventually, http, StopPolling } from './http-client.js';
import { CLI, REPO_ROOT } from './proxy-process.js';
import { freePorts } from './upstreams.js';

export interface RunPorts {
  http: number;
  https: number;
  admin: number;
  status: number;
  controller: number;
}

export interface RunOptions {
  /** Defaults to free loopback ports; pass a run's ports to restart on them. */
  ports?: RunPorts;
  /** More environment variables. */
  env?: Record<string, string>;
  readyWithinMs?: number;
}

/** `portcullis run --manifests DIR` from the built CLI, on free loopback ports, with one worker. */
export class RunProcess {
  readonly child: ChildProcess;
  readonly ports: RunPorts;
  readonly exited: Promise<number | null>;
  #output = '';

  private constructor(child: ChildProcess, ports: RunPorts) {
    this.child = child;
    this.ports = ports;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Everything the process printed so far. */
  get output(): string {
    return this.#output;
  }

  /** Free loopback ports for one run (pass them to `spawn` again to restart on the same ports). */
  static async freePorts(): Promise<RunPorts> {
    const [h, s, a, st, c] = (await freePorts(5)) as [number, number, number, number, number];
    return { http: h, https: s, admin: a, status: st, controller: c };
  }

  /** Starts it without waiting; ports default to free ones. */
  static async spawn(dir: string, args: string[] = [], options: RunOptions = {}): Promise<RunProcess> {
    const p = options.ports ?? (await RunProcess.freePorts());
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--manifests',
        dir,
        ...[
          '--address',
          '127.0.0.1',
          '--status-address',
          '127.0.0.1',
          '--controller-status-address',
          '127.0.0.1',
        ],
        ...['--http-port', String(p.http), '--https-port', String(p.https), '--admin-port', String(p.admin)],
        ...['--status-port', String(p.status), '--controller-status-port', String(p.controller)],
        ...['--workers', '1'],
        ...args,
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PORTCULLIS_LOG_LEVEL: 'info', ...options.env },
      },
    );
    return new RunProcess(child, p);
  }

  /** Starts it (more flags in `args`) and waits until the controller reports ready (synced and pushed). */
  static async start(dir: string, args: string[] = [], options: RunOptions = {}): Promise<RunProcess> {
    const run = await RunProcess.spawn(dir, args, options);
    await run.waitReady(options.readyWithinMs).catch(async (error: unknown) => {
      await run.kill();
      throw error;
    });
    return run;
  }

  /** Until the controller's /readyz answers 200; fails at once if `run` exits. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    await eventually(
      async () => {
        if (exited) throw new StopPolling(`run exited with output:\n${this.output}`);
        return (await http({ port: this.ports.controller, path: '/readyz' })).status === 200
          ? true
          : undefined;
      },
      `controller ready; output:\n${this.output}`,
      timeoutMs,
    );
  }

  /**
   * SIGKILL for a process that no longer answers SIGTERM, and its proxy
   * child too (in its own process group, so it would outlive us).
   */
  async kill(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    for (const child of children.split(' ').filter(Boolean)) {
      try {
        process.kill(Number(child), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { eventually, http } from './http-client.js';
import { CLI, REPO_ROOT } from './proxy-process.js';
import { freePorts } from './upstreams.js';

export interface RunPorts {
  http: number;
  https: number;
  admin: number;
  status: number;
  controller: number;
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

  /** Starts it (more flags in `args`, more variables in `env`) and waits until the controller reports ready (synced and pushed). */
  static async start(
    dir: string,
    args: string[] = [],
    env: Record<string, string> = {},
    readyWithinMs = 20_000,
  ): Promise<RunProcess> {
    const [h, s, a, st, c] = (await freePorts(5)) as [number, number, number, number, number];
    const ports = { http: h, https: s, admin: a, status: st, controller: c };
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
        ...['--http-port', String(h), '--https-port', String(s), '--admin-port', String(a)],
        ...['--status-port', String(st), '--controller-status-port', String(c), '--workers', '1'],
        ...args,
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PORTCULLIS_LOG_LEVEL: 'info', ...env },
      },
    );
    const run = new RunProcess(child, ports);
    await eventually(
      async () => ((await http({ port: c, path: '/readyz' })).status === 200 ? true : undefined),
      'controller ready',
      readyWithinMs,
    ).catch(async (error: unknown) => {
      await run.kill();
      throw new Error(`${(error as Error).message}; output:\n${run.output.slice(-4000)}`);
    });
    return run;
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
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

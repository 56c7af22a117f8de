import { spawn, type ChildProcess } from 'node:child_process';
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

  /** Starts it without waiting; `ports` defaults to free ones. */
  static async spawn(dir: string, args: string[] = [], ports?: RunPorts): Promise<RunProcess> {
    const p = ports ?? (await RunProcess.freePorts());
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
        env: { ...process.env, PORTCULLIS_LOG_LEVEL: 'info' },
      },
    );
    return new RunProcess(child, p);
  }

  /** Starts it (more flags in `args`) and waits until the controller reports ready (synced and pushed). */
  static async start(dir: string, args: string[] = [], ports?: RunPorts): Promise<RunProcess> {
    const run = await RunProcess.spawn(dir, args, ports);
    await run.waitReady();
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

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

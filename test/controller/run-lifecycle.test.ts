/**
 * `portcullis run`'s process lifecycle through the built CLI: restarts on
 * the same state dir, a killed `run` and the proxy it started, ports that
 * are taken. Build first: `npx tsc -p tsconfig.build.json`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { startProxy } from '../support/proxy-process.js';
import { RunProcess, type RunPorts } from '../support/run-process.js';
import { startEcho, type EchoServer } from '../support/upstreams.js';

const manifests = (upstreamPort: number, path: string) => `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: demo }
spec:
  ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-local
  namespace: demo
  labels: { kubernetes.io/service-name: echo }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: demo }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: ${path}, pathType: Prefix, backend: { service: { name: echo, port: { number: 80 } } } }
`;

let dir: string;
let echo: EchoServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-run-life-'));
  echo = await startEcho({ name: 'echo' });
  await writeFile(join(dir, 'all.yaml'), manifests(echo.port, '/one'));
});

afterAll(async () => {
  await echo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const refused = async (port: number) => {
  try {
    await http({ port, path: '/', timeoutMs: 1000 });
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? true : undefined;
  }
};

describe('run --state-dir, restarted', () => {
  it('serves after every restart, with and without manifest changes in between', async () => {
    const state = await mkdtemp(join(tmpdir(), 'portcullis-run-state-'));
    const ports = await RunProcess.freePorts();
    try {
      for (const [i, path] of ['/one', '/one', '/two', '/two', '/one'].entries()) {
        await writeFile(join(dir, 'all.yaml'), manifests(echo.port, path));
        const run = await RunProcess.start(dir, ['--state-dir', state], { ports });
        try {
          await eventually(
            async () =>
              (await http({ port: ports.http, path: `${path}/x` })).status === 200 ? true : undefined,
            `start ${i}: ${path} served`,
          );
          expect(run.output, `start ${i}`).not.toContain('superseded');
          expect(run.output, `start ${i}`).not.toContain('EPIPE');
        } finally {
          await run.stop();
        }
        expect(await run.exited, `start ${i}:\n${run.output}`).toBe(0);
      }
    } finally {
      await writeFile(join(dir, 'all.yaml'), manifests(echo.port, '/one'));
      await rm(state, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('run killed with SIGKILL', () => {
  it('takes its proxy with it, so that the next run starts on the same ports', async () => {
    const ports = await RunProcess.freePorts();
    const first = await RunProcess.start(dir, [], { ports });
    first.child.kill('SIGKILL');
    await first.exited;
    for (const port of [ports.http, ports.https, ports.admin, ports.status])
      await eventually(() => refused(port), `port ${port} released`, 15_000);
    const second = await RunProcess.start(dir, [], { ports });
    try {
      expect((await http({ port: ports.http, path: '/one' })).status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('run on ports that are taken', () => {
  /** Holds `port` on 127.0.0.1 as some other program would. */
  async function occupy(port: number): Promise<Server> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return server;
  }

  const expectPromptExit = async (run: RunProcess, started: number) => {
    const code = await Promise.race([
      run.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 10_000)),
    ]);
    if (code === 'running') await run.stop();
    expect(code, run.output).not.toBe('running');
    expect(code, run.output).not.toBe(0);
    // Immediate: the proxy was never waited for (before, 15 s and more).
    expect(Date.now() - started).toBeLessThan(10_000);
  };

  it.each([
    ['--controller-status-port', 'controller'],
    ['--http-port', 'http'],
    ['--status-port', 'status'],
  ] as const)(
    '%s in use: exits at once, naming it, never ready',
    async (flag, key) => {
      const ports: RunPorts = await RunProcess.freePorts();
      const holder = await occupy(ports[key]);
      try {
        const started = Date.now();
        const run = await RunProcess.spawn(dir, [], { ports });
        let everReady = false;
        const watch = setInterval(() => {
          if (key !== 'controller')
            void http({ port: ports.controller, path: '/readyz', timeoutMs: 500 })
              .then((r) => (everReady ||= r.status === 200))
              .catch(() => undefined);
        }, 100);
        await expectPromptExit(run, started).finally(() => clearInterval(watch));
        expect(everReady).toBe(false);
        expect(run.output.split('\n').filter((l) => l.includes(flag))).toHaveLength(1);
        expect(run.output).toContain('EADDRINUSE');
      } finally {
        holder.close();
      }
    },
    30_000,
  );

  it('an old proxy still on the ports: says so', async () => {
    const old = await startProxy({ wait: 'status' });
    try {
      const ports: RunPorts = {
        http: old.httpPort,
        https: old.httpsPort,
        admin: old.adminPort,
        status: old.statusPort,
        controller: (await RunProcess.freePorts()).controller,
      };
      const started = Date.now();
      const run = await RunProcess.spawn(dir, [], { ports });
      await expectPromptExit(run, started);
      expect(run.output).toMatch(/another Portcullis proxy/);
    } finally {
      await old.dispose();
    }
  }, 30_000);
});

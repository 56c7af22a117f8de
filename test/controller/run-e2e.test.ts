/**
 * `portcullis run --manifests DIR` end to end: the built CLI starts the
 * proxy as a child process and the controller in-process; we change files
 * and watch what the proxy serves. Build first: `npx tsc -p tsconfig.build.json`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { RunProcess, type RunPorts } from '../support/run-process.js';
import { startEcho, type EchoServer } from '../support/upstreams.js';

const backend = (name: string, upstreamPort: number) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: demo }
spec:
  ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-local
  namespace: demo
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`;

const ingressFor = (name: string, path: string, service: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}, namespace: demo }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: ${path}, pathType: Prefix, backend: { service: { name: ${service}, port: { number: 80 } } } }
`;

const CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
`;

describe('portcullis run --manifests', () => {
  let dir: string;
  let echo: EchoServer;
  let run: RunProcess;
  let ports: RunPorts;

  const get = (path: string) => http({ port: ports.http, path });
  const serves = (path: string, status: number) =>
    eventually(
      async () => ((await get(path)).status === status ? true : undefined),
      `${path} -> ${status}`,
      5000,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-run-'));
    echo = await startEcho({ name: 'echo' });
    await writeFile(join(dir, 'class.yaml'), CLASS);
    await writeFile(join(dir, 'backend.yaml'), backend('echo', echo.port));
    await writeFile(join(dir, 'ingress.yaml'), ingressFor('web', '/one', 'echo'));
    await writeFile(join(dir, 'other.yaml'), ingressFor('other', '/other', 'echo'));
    run = await RunProcess.start(dir);
    ports = run.ports;
  });

  afterAll(async () => {
    await run?.stop();
    await echo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the routes of the manifests', async () => {
    const res = await get('/one/x');
    expect(res.status).toBe(200);
    expect(res.json<{ upstream: string; url: string }>()).toMatchObject({ upstream: 'echo', url: '/one/x' });
    expect((await get('/nothing')).status).toBe(404);
  });

  it('serves an edited manifest within a couple of seconds', async () => {
    const started = Date.now();
    await writeFile(join(dir, 'ingress.yaml'), ingressFor('web', '/two', 'echo'));
    await serves('/two', 200);
    await serves('/one', 404);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a broken manifest leaves everything else working and updating', async () => {
    await writeFile(
      join(dir, 'other.yaml'),
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: [\n',
    );
    await eventually(
      () => (run.output.includes('manifest does not parse') ? true : undefined),
      'parse error logged',
    );
    // The broken file's last good Ingress is still served.
    expect((await get('/other')).status).toBe(200);
    // And other files still update.
    await writeFile(join(dir, 'ingress.yaml'), ingressFor('web', '/three', 'echo'));
    await serves('/three', 200);
    expect((await get('/other')).status).toBe(200);
  });

  it('reports controller metrics and readiness on its status port', async () => {
    const metrics = await http({ port: ports.controller, path: '/metrics' });
    expect(metrics.text).toMatch(
      /portcullis_controller_pushes_total\{proxy="http:\/\/127\.0\.0\.1:\d+",result="ok"\} [1-9]/,
    );
    expect(metrics.text).toContain('portcullis_controller_translations_total');
  });

  it('stops controller and proxy on SIGTERM', async () => {
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    // The proxy child is gone too: nothing answers on its admin port.
    await eventually(
      async () => {
        try {
          await http({ port: ports.admin, path: '/config', timeoutMs: 500 });
          return undefined;
        } catch {
          return true;
        }
      },
      'proxy admin port closed',
      10_000,
    );
  });
});

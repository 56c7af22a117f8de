/**
 * `portcullis controller` in Kubernetes mode, as a user runs it: the built
 * CLI with a kubeconfig pointing at the test API server, pushing to a real
 * proxy. Objects created or changed in the API server are served, and the
 * leader writes Ingress status (from the publish Service) and holds
 * the Lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findByKind } from '../k8s-api-server/resources.js';
import { KubeApiTestServer } from '../k8s-api-server/server.js';
import type { Obj } from '../k8s-api-server/store.js';
import { eventually, http } from '../support/http-client.js';
import { CLI, REPO_ROOT, startProxy, tempDir, type ProxyProcess } from '../support/proxy-process.js';
import { startEcho, type EchoServer } from '../support/upstreams.js';

const kind = (apiVersion: string, k: string) => findByKind(apiVersion, k)!;
const INGRESS = kind('networking.k8s.io/v1', 'Ingress');

let api: KubeApiTestServer;
let proxy: ProxyProcess;
let echo: EchoServer;
let controller: ChildProcess;
let output = '';

function ingress(path: string): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      ingressClassName: 'portcullis',
      rules: [
        {
          host: 'app.example.test',
          http: {
            paths: [
              { path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  } as unknown as Obj;
}

beforeAll(async () => {
  echo = await startEcho({ name: 'web' });
  api = new KubeApiTestServer();
  await api.start();
  const objects = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'portcullis' },
      spec: { controller: 'portcullis.dev/ingress-controller' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'demo' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: echo.port, protocol: 'TCP' }],
    },
    ingress('/web'),
    {
      // The Service clients reach the proxies through; its load balancer address is published.
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'proxy', namespace: 'portcullis' },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } },
    },
  ] as unknown as Obj[];
  for (const object of objects) {
    api.store.create(
      kind(String(object.apiVersion), String(object.kind)),
      object.metadata.namespace as string | undefined,
      object,
    );
  }

  proxy = await startProxy({ workers: 1, wait: 'status' });
  const dir = await tempDir();
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeConfig().exportConfig());
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, proxy.token!);
  controller = spawn(
    process.execPath,
    [
      CLI,
      'controller',
      '--kubeconfig',
      kubeconfig,
      '--proxy-admin-url',
      `http://127.0.0.1:${proxy.adminPort}`,
      '--admin-token-file',
      tokenFile,
      '--controller-status-port',
      '0',
      '--publish-service',
      'portcullis/proxy',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, POD_NAME: 'controller-0', POD_NAMESPACE: 'portcullis' } },
  );
  controller.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
  controller.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
});

afterAll(async () => {
  if (process.env.DEBUG_E2E) console.log(output);
  if (controller && controller.exitCode === null) {
    controller.kill('SIGTERM');
    await new Promise((resolve) => controller.once('exit', resolve));
  }
  await proxy?.dispose();
  await api?.stop();
  await echo?.close();
});

const get = (path: string) => http({ port: proxy.httpPort, path, headers: { host: 'app.example.test' } });

it('serves what the API server holds, and follows changes', async () => {
  await eventually(
    async () => ((await get('/web/items')).status === 200 ? true : undefined),
    'route served',
    15_000,
  );
  expect(echo.requests.at(-1)?.url).toBe('/web/items');

  const current = api.store.get(INGRESS, 'demo', 'web');
  api.store.update(INGRESS, 'demo', 'web', { ...ingress('/shop'), metadata: current.metadata } as Obj);
  await eventually(
    async () => ((await get('/shop/cart')).status === 200 ? true : undefined),
    'change served',
  );
  expect((await get('/web/items')).status).toBe(404);
});

it('writes Ingress status as leader and holds the Lease', async () => {
  const status = await eventually(() => {
    const ingressStatus = api.store.get(INGRESS, 'demo', 'web').status as
      { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined;
    return ingressStatus?.loadBalancer?.ingress?.length ? ingressStatus : undefined;
  }, 'Ingress status');
  expect(status.loadBalancer!.ingress).toEqual([{ ip: '203.0.113.10' }]);
  const lease = api.store.get(kind('coordination.k8s.io/v1', 'Lease'), 'portcullis', 'portcullis-controller');
  expect((lease.spec as { holderIdentity?: string }).holderIdentity).toBe('controller-0');
});

it('stops cleanly on SIGTERM', async () => {
  controller.kill('SIGTERM');
  const code = await new Promise((resolve) => controller.once('exit', (c) => resolve(c)));
  expect(code, output).toBe(0);
});

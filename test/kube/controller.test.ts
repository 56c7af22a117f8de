/**
 * `portcullis controller` as its ServiceAccount, with exactly the shipped
 * RBAC, against a real kube-apiserver, pushing to a real proxy: it syncs,
 * serves changes, reads the referenced TLS Secret by name (it may not list
 * Secrets), writes Ingress and Application status, creates the Pending
 * ApplicationRegistration and Events, the Programmed condition of
 * KongPlugins, holds the Lease, survives watches the
 * server ends and a compaction, and a second replica takes over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { CLI, REPO_ROOT, startProxy, tempDir, type ProxyProcess } from '../support/proxy-process.js';
import { selfSignedCertificate } from '../support/upstreams.js';
import { compact, kube, kubectlOk, skip } from './harness.js';
import { CONTROLLER_NAMESPACE, HOST_IP, installControllerRbac, installCrds } from './setup.js';

let proxy: ProxyProcess;
let upstream: Server;
let fingerprint = '';
const replicas: { child: ChildProcess; output: () => string }[] = [];

const apply = (yaml: string) =>
  kubectlOk('admin', ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml);
const jsonpath = (args: string[], path: string) =>
  kubectlOk('admin', ['get', ...args, '-o', `jsonpath=${path}`]);

const ingress = (path: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: kr-demo }
spec:
  ingressClassName: portcullis
  tls: [{ hosts: [app.example.test], secretName: web-tls }]
  rules:
    - host: app.example.test
      http:
        paths:
          - { path: ${path}, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;

async function startReplica(name: string): Promise<void> {
  const dir = await tempDir();
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, proxy.token!);
  let output = '';
  const child = spawn(
    process.execPath,
    [
      CLI,
      'controller',
      '--kubeconfig',
      kube.kubeconfigs.controller,
      '--proxy-admin-url',
      `http://127.0.0.1:${proxy.adminPort}`,
      '--admin-token-file',
      tokenFile,
      '--controller-status-port',
      '0',
      '--publish-address',
      '203.0.113.10',
      '--secret-refresh-interval',
      '1',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, POD_NAME: name, POD_NAMESPACE: CONTROLLER_NAMESPACE } },
  );
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
  replicas.push({ child, output: () => output });
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const get = (path: string) => http({ port: proxy.httpPort, path, headers: { host: 'app.example.test' } });

/** The fingerprint of the certificate the proxy serves for app.example.test. */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: proxy.httpsPort,
        servername: 'app.example.test',
        path: '/',
        rejectUnauthorized: false,
        agent: false, // a fresh handshake: a resumed TLS session would report the certificate it began with
      },
      (res) => {
        resolve((res.socket as TLSSocket).getPeerCertificate().fingerprint256);
        res.resume();
      },
    );
    req.on('error', reject);
    req.end();
  });
}

if (!skip && !HOST_IP)
  console.warn('kube-real controller test skipped: this host has no non-loopback IPv4 address');

describe.skipIf(skip || !HOST_IP)('the controller on a real kube-apiserver', () => {
  beforeAll(async () => {
    installCrds();
    installControllerRbac();
    upstream = createServer((req, res) =>
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ url: req.url })),
    );
    await new Promise<void>((resolve) => upstream.listen(0, HOST_IP, resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const cert = await selfSignedCertificate(['app.example.test']);
    fingerprint = cert.fingerprint256;
    apply(`apiVersion: v1
kind: Namespace
metadata: { name: kr-demo }
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: kr-demo }
spec: { ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: kr-demo, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
endpoints: [{ addresses: [${HOST_IP}], conditions: { ready: true } }]
ports: [{ name: http, port: ${upstreamPort}, protocol: TCP }]
---
apiVersion: v1
kind: Secret
metadata: { name: web-tls, namespace: kr-demo }
type: kubernetes.io/tls
stringData:
  tls.crt: ${JSON.stringify(cert.cert)}
  tls.key: ${JSON.stringify(cert.key)}
`);
    apply(ingress('/web'));
    proxy = await startProxy({ workers: 1, wait: 'status' });
    await startReplica('controller-0');
  });

  afterAll(async () => {
    for (const r of replicas) await stop(r.child);
    if (process.env.DEBUG_E2E) for (const r of replicas) console.log(r.output());
    await proxy?.dispose();
    upstream?.close();
  });

  it('syncs and serves, with the TLS Secret read by name', async () => {
    await eventually(
      async () => ((await get('/web/items')).status === 200 ? true : undefined),
      'route served',
      30_000,
    );
    expect(await servedFingerprint()).toBe(fingerprint);
    expect(replicas[0]!.output()).toContain('no list/watch permission on Secrets');
  });

  it('follows a change, and writes Ingress status as leader with a real Lease', async () => {
    apply(ingress('/shop'));
    await eventually(
      async () => ((await get('/shop/cart')).status === 200 ? true : undefined),
      'change served',
      15_000,
    );
    expect((await get('/web/items')).status).toBe(404);
    await eventually(
      () =>
        jsonpath(['ingress', 'web', '-n', 'kr-demo'], '{.status.loadBalancer.ingress[0].ip}') ===
        '203.0.113.10'
          ? true
          : undefined,
      'Ingress status',
      15_000,
    );
    expect(
      jsonpath(['lease', 'portcullis-controller', '-n', CONTROLLER_NAMESPACE], '{.spec.holderIdentity}'),
    ).toBe('controller-0');
  });

  it('creates the Pending registration, writes Application status and posts Events', async () => {
    apply(`apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: apps, namespace: kr-demo }
plugin: application-registration
config: { display_name: Web }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: kr-demo, annotations: { konghq.com/plugins: apps } }
spec: { ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: portcullis.dev/v1alpha1
kind: Application
metadata: { name: billing, namespace: kr-demo }
spec: { clientId: kr-demo-billing, registrations: [{ service: { namespace: kr-demo, name: web } }] }
`);
    const name = await eventually(
      () => {
        const names = jsonpath(['applicationregistrations', '-n', 'kr-demo'], '{.items[*].metadata.name}');
        return names ? names : undefined;
      },
      'Pending registration created',
      15_000,
    );
    expect(jsonpath(['applicationregistration', name, '-n', 'kr-demo'], '{.spec.state}')).toBe('Pending');
    await eventually(
      () =>
        jsonpath(['application', 'billing', '-n', 'kr-demo'], '{.status.conditions[*].type}')
          ? true
          : undefined,
      'Application status',
      15_000,
    );
    // A broken object gets an Event, written by the controller's own identity.
    apply(`apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: broken, namespace: kr-demo }
plugin: application-registration
config: { auto_approve: "true" }
`);
    apply(
      ingress('/shop').replace(
        'namespace: kr-demo }',
        'namespace: kr-demo, annotations: { konghq.com/plugins: broken } }',
      ),
    );
    await eventually(
      () =>
        jsonpath(['events', '-n', 'kr-demo'], '{.items[*].reportingComponent}').includes('portcullis')
          ? true
          : undefined,
      'an Event',
      15_000,
    );
    for (const r of replicas) expect(r.output()).not.toMatch(/"statusCode":403|forbidden/i);
  });

  it('writes the Programmed condition of the KongPlugins in use, and turns a fixed one True', async () => {
    const plugin = (name: string, config: string) => `apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: ${name}, namespace: kr-demo }
plugin: application-registration
config: ${config}
`;
    const routed = (name: string, plugins: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}, namespace: kr-demo, annotations: { konghq.com/plugins: ${plugins} } }
spec:
  ingressClassName: portcullis
  rules:
    - host: ${name}.example.test
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${name}, port: { number: 80 } } } }
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: kr-demo }
spec: { ports: [{ name: http, port: 80, targetPort: 8080 }] }
`;
    apply(
      [
        plugin('kr-good', '{ display_name: Good }'),
        plugin('kr-bad', '{ display_name: Bad, auto_approve: "yes" }'),
        plugin('kr-unused', '{ display_name: Nobody }'),
        routed('pl-good', 'kr-good'),
        routed('pl-bad', 'kr-bad'),
      ].join('---\n'),
    );
    const programmed = (name: string) =>
      jsonpath(
        ['kongplugin', name, '-n', 'kr-demo'],
        '{.status.conditions[?(@.type=="Programmed")].status}/{.status.conditions[?(@.type=="Programmed")].reason}',
      );
    const until = (name: string, want: string) =>
      eventually(() => (programmed(name) === want ? true : undefined), `${name} ${want}`, 15_000);
    await until('kr-good', 'True/Programmed');
    await until('kr-bad', 'False/Invalid');
    expect(jsonpath(['kongplugin', 'kr-bad', '-n', 'kr-demo'], '{.status.conditions[0].message}')).toContain(
      'auto_approve',
    );
    // No route of ours names it: not ours to write.
    expect(programmed('kr-unused')).toBe('/');
    const table = kubectlOk('admin', ['get', 'kongplugin', 'kr-good', 'kr-bad', '-n', 'kr-demo']);
    expect(table.split('\n')[0]).toMatch(/NAME\s+PLUGIN-TYPE\s+AGE\s+PROGRAMMED/);
    expect(table).toMatch(/kr-good\s+application-registration\s+\S+\s+True/);
    expect(table).toMatch(/kr-bad\s+application-registration\s+\S+\s+False/);
    // Written by server-side apply under the controller's own field manager, generation observed.
    const managed = JSON.parse(
      kubectlOk('admin', [
        'get',
        'kongplugin',
        'kr-good',
        '-n',
        'kr-demo',
        '-o',
        'json',
        '--show-managed-fields',
      ]),
    ) as {
      metadata: { generation: number; managedFields: { manager: string; subresource?: string }[] };
      status: { conditions: { observedGeneration: number }[] };
    };
    expect(managed.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'portcullis/portcullis', subresource: 'status' }),
    );
    expect(managed.status.conditions[0]!.observedGeneration).toBe(managed.metadata.generation);

    apply(plugin('kr-bad', '{ display_name: Bad, auto_approve: true }'));
    await until('kr-bad', 'True/Programmed');
    // No route uses it any more: the condition the controller applied is withdrawn.
    kubectlOk('admin', ['delete', '-n', 'kr-demo', 'ingress/pl-good', 'ingress/pl-bad']);
    await until('kr-good', '/');
    for (const r of replicas) expect(r.output()).not.toMatch(/"statusCode":403|forbidden/i);
  });

  it('a change made after an etcd compaction still arrives', async () => {
    await compact();
    // Watches end (the server's request timeout, or after the compaction); a change made now must still arrive.
    apply(ingress('/after-compaction'));
    await eventually(
      // Routed (the Service now carries application-registration, so 401 without a token), no longer 404.
      async () => ((await get('/after-compaction/x')).status === 401 ? true : undefined),
      'change after compaction served',
      30_000,
    );
  });

  it('a second replica takes over when the leader stops', async () => {
    await startReplica('controller-1');
    expect(await stop(replicas[0]!.child)).toBe(0);
    await eventually(
      () =>
        jsonpath(['lease', 'portcullis-controller', '-n', CONTROLLER_NAMESPACE], '{.spec.holderIdentity}') ===
        'controller-1'
          ? true
          : undefined,
      'controller-1 leads',
      30_000,
    );
    apply(ingress('/second'));
    await eventually(
      async () => ((await get('/second/x')).status === 401 ? true : undefined),
      'served by the new leader',
      15_000,
    );
  });
});

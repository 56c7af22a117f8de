/**
 * How the controller's watches behave on a real kube-apiserver, read from the
 * server's own audit log: streams the server ends are resumed from the last
 * resourceVersion without a relist; bookmarks keep a quiet kind's
 * resourceVersion current; after a compaction the watch gets 410 Gone and the
 * kind is listed again, changes and deletions made meanwhile included; Secrets
 * are watched where a Role grants list and watch, and unreferenced ones are
 * dropped.
 *
 * This file runs its own server: short watch timeouts (`--watch-timeout 3`),
 * etcd progress notifications every second (the watch cache's bookmarks
 * advance on them; production etcd sends them every 10 minutes), no watch
 * cache for Ingresses (their watches then read etcd, so a compaction gives
 * 410 Gone; the cache would serve the resourceVersion from memory), and an
 * audit log of the controller's requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { sumOf, parseMetrics } from '../support/metrics.js';
import { CLI, REPO_ROOT, startProxy, tempDir, type ProxyProcess } from '../support/proxy-process.js';
import { freePorts, selfSignedCertificate } from '../support/upstreams.js';
import { startKubeApiserver, type KubeApiserverProcess } from './apiserver-process.js';
import { kubeClient, skip, type KubeClient } from './harness.js';
import { CONTROLLER_NAMESPACE, HOST_IP, installControllerRbac, installCrds } from './setup.js';

const CONTROLLER_USER = 'system:serviceaccount:portcullis:portcullis-controller';
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ['${CONTROLLER_USER}']
  - level: None
`;

interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  objectRef?: { resource?: string; namespace?: string };
  responseStatus?: { code?: number };
}

let server: KubeApiserverProcess;
let client: KubeClient;
let auditLog = '';
let proxy: ProxyProcess;
let upstream: Server;
let controller: ChildProcess;
let controllerOutput = '';
let statusPort = 0;

/** The controller's requests the server has finished answering (a watch appears when it ends). */
function audit(resource: string, verb: string, namespace?: string): AuditEvent[] {
  return readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter(
      (e) =>
        (e.stage === 'ResponseComplete' || (verb === 'watch' && e.stage === 'ResponseStarted')) &&
        e.verb === verb &&
        e.objectRef?.resource === resource &&
        (namespace === undefined || e.objectRef.namespace === namespace),
    );
}
const started = (resource: string, namespace?: string) =>
  audit(resource, 'watch', namespace).filter((e) => e.stage === 'ResponseStarted');
const lists = (resource: string, namespace?: string) =>
  audit(resource, 'list', namespace).filter((e) => e.responseStatus?.code === 200);
const watchVersion = (e: AuditEvent) =>
  Number(new URL(e.requestURI, 'https://x').searchParams.get('resourceVersion'));

const apply = (yaml: string) =>
  client.kubectlOk('admin', ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml);
const get = (path: string) => http({ port: proxy.httpPort, path, headers: { host: 'watch.example.test' } });
const routed = (path: string, status: number) => async () =>
  (await get(path)).status === status ? true : undefined;

const ingress = (name: string, path: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}, namespace: kw-a }
spec:
  ingressClassName: portcullis
  tls: [{ hosts: [watch.example.test], secretName: watch-tls }]
  rules:
    - host: watch.example.test
      http:
        paths:
          - { path: ${path}, pathType: Prefix, backend: { service: { name: echo, port: { number: 80 } } } }
`;

async function tlsSecret(): Promise<string> {
  const cert = await selfSignedCertificate(['watch.example.test']);
  apply(`apiVersion: v1
kind: Secret
metadata: { name: watch-tls, namespace: kw-a }
type: kubernetes.io/tls
stringData:
  tls.crt: ${JSON.stringify(cert.cert)}
  tls.key: ${JSON.stringify(cert.key)}
`);
  return cert.fingerprint256;
}

function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      // agent: false: a fresh handshake each time (a resumed TLS session would report the old certificate).
      {
        host: '127.0.0.1',
        port: proxy.httpsPort,
        servername: 'watch.example.test',
        rejectUnauthorized: false,
        agent: false,
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

async function translations(): Promise<number> {
  const res = await http({ port: statusPort, path: '/metrics' });
  return sumOf(parseMetrics(res.body.toString()), 'portcullis_controller_translations_total');
}

if (!skip && !HOST_IP)
  console.warn('kube-real watch test skipped: this host has no non-loopback IPv4 address');

describe.skipIf(skip || !HOST_IP)('the controller’s watches on a real kube-apiserver', () => {
  beforeAll(async () => {
    const dir = await tempDir();
    auditLog = join(dir, 'audit.log');
    await writeFile(join(dir, 'policy.yaml'), AUDIT_POLICY);
    server = await startKubeApiserver({
      harnessArgs: ['-etcd-progress-notify-interval=1s'],
      apiserverArgs: [
        '--watch-cache-sizes=ingresses.networking.k8s.io#0',
        `--audit-policy-file=${join(dir, 'policy.yaml')}`,
        `--audit-log-path=${auditLog}`,
      ],
    });
    client = kubeClient(server.harness);
    installCrds(client);
    installControllerRbac(client);
    upstream = createServer((req, res) => res.end(req.url));
    await new Promise<void>((resolve) => upstream.listen(0, HOST_IP, resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    apply(`apiVersion: v1
kind: Namespace
metadata: { name: kw-a }
---
apiVersion: v1
kind: Namespace
metadata: { name: kw-b }
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: kw-a }
spec: { ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: echo-1, namespace: kw-a, labels: { kubernetes.io/service-name: echo } }
addressType: IPv4
endpoints: [{ addresses: [${HOST_IP}], conditions: { ready: true } }]
ports: [{ name: http, port: ${upstreamPort}, protocol: TCP }]
---
# Secrets in kw-a may be listed and watched; in kw-b only the shipped get applies.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: secrets-watch, namespace: kw-a }
rules: [{ apiGroups: [''], resources: [secrets], verbs: [list, watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: secrets-watch, namespace: kw-a }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: secrets-watch }
subjects: [{ kind: ServiceAccount, name: portcullis-controller, namespace: ${CONTROLLER_NAMESPACE} }]
`);
    await tlsSecret();
    apply(ingress('one', '/one'));
    apply(ingress('two', '/two'));

    proxy = await startProxy({ workers: 1, wait: 'status' });
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, proxy.token!);
    [statusPort] = (await freePorts(1)) as [number];
    controller = spawn(
      process.execPath,
      [
        CLI,
        'controller',
        '--kubeconfig',
        server.harness.kubeconfigs.controller,
        '--proxy-admin-url',
        `http://127.0.0.1:${proxy.adminPort}`,
        '--admin-token-file',
        tokenFile,
        '--controller-status-port',
        String(statusPort),
        '--watch-namespaces',
        'kw-a,kw-b',
        '--watch-timeout',
        '3',
        // Long, so that only a watch can explain a Secret change served at once.
        '--secret-refresh-interval',
        '600',
        '--no-leader-election',
      ],
      { cwd: REPO_ROOT, env: { ...process.env, POD_NAMESPACE: CONTROLLER_NAMESPACE } },
    );
    controller.stdout!.setEncoding('utf8').on('data', (s: string) => (controllerOutput += s));
    controller.stderr!.setEncoding('utf8').on('data', (s: string) => (controllerOutput += s));
  }, 180_000);

  afterAll(async () => {
    if (controller && controller.exitCode === null) {
      controller.kill('SIGCONT');
      controller.kill('SIGTERM');
      await new Promise((resolve) => controller.once('exit', resolve));
    }
    if (process.env.DEBUG_E2E) console.log(controllerOutput);
    await proxy?.dispose();
    upstream?.close();
    await server?.stop();
  });

  it('syncs', async () => {
    await eventually(routed('/one/x', 200), '/one served', 30_000);
    expect((await get('/two/x')).status).toBe(200);
  });

  it('resumes the watches the server ends from the last resourceVersion, without listing again', async () => {
    await eventually(
      () => (started('services', 'kw-a').length >= 3 ? true : undefined),
      'three services watches in kw-a',
      30_000,
    );
    for (const [resource, namespace] of [
      ['services', 'kw-a'],
      ['services', 'kw-b'],
      ['endpointslices', 'kw-a'],
      ['ingressclasses', undefined],
    ] as const)
      expect(lists(resource, namespace), `${resource} ${namespace ?? ''}`).toHaveLength(1);
    for (const e of started('services'))
      expect(new URL(e.requestURI, 'https://x').searchParams.get('allowWatchBookmarks')).toBe('true');
    // Changes and deletions still arrive through the resumed watches.
    apply(ingress('one', '/uno'));
    await eventually(routed('/uno/x', 200), 'the change served', 15_000);
    client.kubectlOk('admin', ['delete', 'ingress', 'two', '-n', 'kw-a']);
    await eventually(routed('/two/x', 404), 'the deletion served', 15_000);
  });

  it('bookmarks keep a quiet kind’s resourceVersion current', async () => {
    // Nothing changes IngressClasses; other writes move the cluster's resourceVersion.
    const first = watchVersion(started('ingressclasses')[0]!);
    for (let i = 0; i < 5; i++) client.kubectlOk('admin', ['create', 'configmap', `bump-${i}`, '-n', 'kw-b']);
    await eventually(
      () => (started('ingressclasses').some((e) => watchVersion(e) > first) ? true : undefined),
      'an IngressClass watch resumed from a newer resourceVersion than its list',
      30_000,
    );
    expect(lists('ingressclasses')).toHaveLength(1);
  });

  it('after a compaction, the watch gets 410 Gone and the kind is listed again, with what changed meanwhile', async () => {
    const before = lists('ingresses', 'kw-a').length;
    // Paused past its longest watch (2 x 3 s), the controller misses the
    // stream's end and every change below; its next watch asks for a
    // compacted resourceVersion.
    controller.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    apply(ingress('one', '/after'));
    apply(ingress('three', '/three'));
    for (let i = 0; i < 5; i++) client.kubectlOk('admin', ['create', 'configmap', `gap-${i}`, '-n', 'kw-b']);
    await client.compact();
    controller.kill('SIGCONT');
    await eventually(routed('/after/x', 200), 'the change made during the pause', 30_000);
    await eventually(routed('/three/x', 200), 'the Ingress created during the pause', 15_000);
    expect((await get('/uno/x')).status).toBe(404);
    expect(lists('ingresses', 'kw-a').length).toBeGreaterThan(before);
  });

  it('watches Secrets where a Role grants list and watch, and drops the unreferenced ones', async () => {
    expect(started('secrets', 'kw-a').length).toBeGreaterThan(0);
    expect(lists('secrets', 'kw-a')).not.toHaveLength(0);
    // kw-b has only the shipped `get`: its list was refused, no watch started.
    expect(audit('secrets', 'list', 'kw-b').every((e) => e.responseStatus?.code === 403)).toBe(true);
    expect(started('secrets', 'kw-b')).toHaveLength(0);

    const rotated = await tlsSecret();
    await eventually(
      async () => ((await servedFingerprint()) === rotated ? true : undefined),
      'the rotated certificate served (watched, not refreshed: the refresh is every 600 s)',
      15_000,
    );
    const count = await translations();
    apply(`apiVersion: v1
kind: Secret
metadata: { name: unrelated, namespace: kw-a }
stringData: { password: not-ours }
`);
    // A referenced change arrives in well under this; an unreferenced one must not arrive at all.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await translations()).toBe(count);
    expect(controllerOutput).not.toContain('not-ours');
  });
});

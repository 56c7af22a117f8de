import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKubernetesSource } from '../../controller/kubernetes/source.js';
import { WATCHED_KINDS, type ObjectSource } from '../../controller/source.js';
import { findByKind } from '../k8s-api-server/resources.js';
import { KubeApiTestServer } from '../k8s-api-server/server.js';
import type { Obj } from '../k8s-api-server/store.js';
import { eventually, RecordingSink } from '../k8s-api-server/recording-sink.js';

const log = pino({ level: 'silent' });
let server: KubeApiTestServer;
let source: ObjectSource | undefined;
let sink: RecordingSink;

beforeEach(async () => {
  server = new KubeApiTestServer();
  await server.start();
  sink = new RecordingSink();
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await server.stop();
});

function type(apiVersion: string, kind: string) {
  const t = findByKind(apiVersion, kind);
  if (!t) throw new Error(`no type ${apiVersion} ${kind}`);
  return t;
}

/** Writes straight into the server's store (works while the server is stopped too). */
function put(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
  body: object = {},
): Obj {
  return server.store.create(type(apiVersion, kind), namespace, { metadata: { name }, ...body });
}
function modify(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
  body: object,
): Obj {
  const t = type(apiVersion, kind);
  const current = server.store.get(t, namespace, name);
  return server.store.update(t, namespace, name, { ...current, ...body });
}
function del(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
  server.store.delete(type(apiVersion, kind), namespace, name);
}

async function startSource(watchNamespaces?: string[], secretRefreshMs?: number): Promise<void> {
  source = createKubernetesSource({
    kubeConfig: server.kubeConfig(),
    log,
    backoff: { initialMs: 20, maxMs: 200 },
    ...(watchNamespaces ? { watchNamespaces } : {}),
    ...(secretRefreshMs ? { secretRefreshMs } : {}),
  });
  await source.start(sink);
  await eventually(() => sink.syncedKinds.size === WATCHED_KINDS.length, 'every kind synced');
}

const ingressClass = () =>
  put('networking.k8s.io/v1', 'IngressClass', undefined, 'portcullis', {
    spec: { controller: 'portcullis.dev/ingress-controller' },
  });
const ingress = (namespace: string, name: string, tlsSecret?: string) =>
  put('networking.k8s.io/v1', 'Ingress', namespace, name, {
    spec: {
      ingressClassName: 'portcullis',
      rules: [{ host: `${name}.example.com` }],
      ...(tlsSecret ? { tls: [{ hosts: [`${name}.example.com`], secretName: tlsSecret }] } : {}),
    },
  });
const service = (namespace: string, name: string) =>
  put('v1', 'Service', namespace, name, { spec: { ports: [{ port: 80 }] } });

describe('Kubernetes source', () => {
  it('lists every kind, then reports it synced', async () => {
    ingressClass();
    ingress('a', 'web', 'web-tls');
    service('a', 'web');
    put('discovery.k8s.io/v1', 'EndpointSlice', 'a', 'web-1', { endpoints: [{ addresses: ['10.0.0.1'] }] });
    put('v1', 'Secret', 'a', 'web-tls', {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' },
    });
    put('configuration.konghq.com/v1', 'KongPlugin', 'a', 'oidc', { plugin: 'openid-connect', config: {} });
    put('configuration.konghq.com/v1', 'KongClusterPlugin', undefined, 'global', { plugin: 'cors' });
    put('portcullis.dev/v1alpha1', 'Application', 'a', 'billing', { spec: { clientId: 'x' } });
    put('portcullis.dev/v1alpha1', 'ApplicationRegistration', 'a', 'billing.a', {
      spec: { state: 'Pending' },
    });

    await startSource();

    for (const kind of WATCHED_KINDS) {
      const synced = sink.log.indexOf(`synced ${kind.kind}`);
      const upserts = sink.log.filter((l) => l.startsWith(`upsert ${kind.kind}/`));
      expect(upserts, kind.kind).toHaveLength(1);
      expect(sink.log.indexOf(upserts[0]!), kind.kind).toBeLessThan(synced);
      const object = [...sink.objects.values()].find((o) => o.kind === kind.kind)!;
      expect(object.apiVersion).toBe(kind.apiVersion);
      expect(object.metadata.namespace === undefined).toBe(!kind.namespaced);
    }
  });

  it('forwards adds, changes and deletes', async () => {
    await startSource();
    service('a', 'web');
    await eventually(() => sink.get('Service', 'a', 'web') !== undefined, 'service added');
    modify('v1', 'Service', 'a', 'web', { spec: { ports: [{ port: 8080 }] } });
    await eventually(
      () =>
        (sink.get('Service', 'a', 'web') as { spec?: { ports?: { port: number }[] } })?.spec?.ports?.[0]
          ?.port === 8080,
      'service changed',
    );
    put('configuration.konghq.com/v1', 'KongClusterPlugin', undefined, 'cors', { plugin: 'cors' });
    await eventually(
      () => sink.get('KongClusterPlugin', undefined, 'cors') !== undefined,
      'cluster plugin added',
    );
    del('v1', 'Service', 'a', 'web');
    del('configuration.konghq.com/v1', 'KongClusterPlugin', undefined, 'cors');
    await eventually(() => sink.objects.size === 0, 'both deleted');
    expect(sink.log.filter((l) => l.startsWith('remove'))).toEqual([
      'remove Service/a/web',
      'remove KongClusterPlugin//cors',
    ]);
  });

  it('recovers from watch connections dropped mid-stream', async () => {
    await startSource();
    for (let round = 0; round < 3; round++) {
      await eventually(() => server.openWatches >= WATCHED_KINDS.length, 'watches open');
      server.dropWatches();
      service('a', `after-drop-${round}`);
      await eventually(() => sink.get('Service', 'a', `after-drop-${round}`) !== undefined, `round ${round}`);
    }
  });

  it('relists after 410 Gone and converges, deletions included', async () => {
    service('a', 'stays');
    service('a', 'goes');
    ingressClass();
    await startSource();
    await eventually(() => server.openWatches >= WATCHED_KINDS.length, 'watches open');
    await server.stop();
    del('v1', 'Service', 'a', 'goes');
    service('a', 'new');
    modify('v1', 'Service', 'a', 'stays', { spec: { ports: [{ port: 9 }] } });
    del('networking.k8s.io/v1', 'IngressClass', undefined, 'portcullis');
    server.compact();
    const listsBefore = server.requests.filter((r) => !r.path.includes('watch=')).length;
    await server.start();

    await eventually(
      () =>
        sink.get('Service', 'a', 'goes') === undefined &&
        sink.get('Service', 'a', 'new') !== undefined &&
        sink.get('IngressClass', undefined, 'portcullis') === undefined &&
        (sink.get('Service', 'a', 'stays') as { spec?: { ports?: { port: number }[] } })?.spec?.ports?.[0]
          ?.port === 9,
      'converged after relist',
    );
    // Every informer (and the Secret tracker) got 410 Gone and listed again.
    await eventually(() => server.goneWatches >= WATCHED_KINDS.length, '410 for every watch');
    await eventually(
      () =>
        server.requests.filter((r) => !r.path.includes('watch=')).length - listsBefore >=
        WATCHED_KINDS.length,
      'a relist of every kind',
    );
  });

  it('recovers when the API server goes down and comes back', async () => {
    await startSource();
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the informers fail at least once
    service('a', 'while-down');
    await server.start();
    await eventually(() => sink.get('Service', 'a', 'while-down') !== undefined, 'change made while down');
    service('a', 'after');
    await eventually(() => sink.get('Service', 'a', 'after') !== undefined, 'change after recovery');

    // stop() closes every watch, and nothing reaches the sink afterwards.
    await source?.stop();
    await eventually(() => server.openWatches === 0, 'watches closed');
    const calls = sink.log.length;
    service('a', 'after-stop');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.log.length).toBe(calls);
  });

  it('watches only the given namespaces, and cluster-scoped kinds everywhere', async () => {
    service('a', 'in');
    service('b', 'out');
    ingressClass();
    await startSource(['a', 'c']);
    service('c', 'in-too');
    service('b', 'out-too');
    put('configuration.konghq.com/v1', 'KongClusterPlugin', undefined, 'cors', { plugin: 'cors' });
    await eventually(() => sink.get('Service', 'c', 'in-too') !== undefined, 'service in c');
    await eventually(() => sink.get('KongClusterPlugin', undefined, 'cors') !== undefined, 'cluster plugin');
    expect(sink.get('IngressClass', undefined, 'portcullis')).toBeDefined();
    expect(sink.get('Service', 'a', 'in')).toBeDefined();
    expect([...sink.objects.keys()].filter((k) => k.includes('/b/'))).toEqual([]);
    const namespacedAll = server.requests.filter((r) => /^\/api\/v1\/(services|secrets)/.test(r.path));
    expect(namespacedAll).toEqual([]);
  });

  it('keeps only referenced Secrets', async () => {
    ingressClass();
    ingress('a', 'web', 'web-tls');
    put('v1', 'Secret', 'a', 'web-tls', { data: { 'tls.crt': 'eA==' } });
    put('v1', 'Secret', 'a', 'unrelated', { data: { password: 'c2VjcmV0' } });
    put('v1', 'Secret', 'a', 'okta', { data: { secret: 'eA==' } });
    await startSource();
    expect(sink.get('Secret', 'a', 'web-tls')).toBeDefined();

    // Changes to an unreferenced Secret never reach the sink.
    modify('v1', 'Secret', 'a', 'unrelated', { data: { password: 'b3RoZXI=' } });
    // A KongPlugin starts referencing `okta`, which the source then reads with a GET.
    put('configuration.konghq.com/v1', 'KongPlugin', 'a', 'oidc', {
      plugin: 'openid-connect',
      configPatches: [
        { path: '/client_secret', valueFrom: { secretKeyRef: { name: 'okta', key: 'secret' } } },
      ],
    });
    await eventually(() => sink.get('Secret', 'a', 'okta') !== undefined, 'newly referenced secret');
    expect(
      server.requests.some((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/a/secrets/okta'),
    ).toBe(true);
    modify('v1', 'Secret', 'a', 'okta', { data: { secret: 'eQ==' } });
    await eventually(
      () => (sink.get('Secret', 'a', 'okta') as { data?: Record<string, string> })?.data?.secret === 'eQ==',
      'referenced secret changed',
    );

    // Dropping the reference removes the Secret from the sink.
    del('networking.k8s.io/v1', 'Ingress', 'a', 'web');
    await eventually(() => sink.get('Secret', 'a', 'web-tls') === undefined, 'unreferenced secret removed');
    // A referenced Secret created later arrives through the watch.
    ingress('a', 'api', 'api-tls');
    put('v1', 'Secret', 'a', 'api-tls', { data: { 'tls.crt': 'eA==' } });
    await eventually(
      () => sink.get('Secret', 'a', 'api-tls') !== undefined,
      'secret created after its reference',
    );

    expect(sink.log.some((l) => l.includes('Secret/a/unrelated'))).toBe(false);
  });

  it('without list/watch on Secrets (RBAC get only): reads each referenced one, re-reads it, never lists', async () => {
    // What RBAC answers a controller granted only `get` on Secrets.
    server.forbid = (method, url) => method === 'GET' && /\/secrets$/.test(url.pathname);
    ingressClass();
    ingress('a', 'web', 'web-tls');
    put('v1', 'Secret', 'a', 'web-tls', { data: { 'tls.crt': 'eA==' } });
    put('v1', 'Secret', 'a', 'unrelated', { data: { password: 'c2VjcmV0' } });
    await startSource(undefined, 100);
    // Synced with the referenced Secret already there: the first build has it.
    expect(sink.get('Secret', 'a', 'web-tls')).toBeDefined();
    expect(sink.syncedKinds.has('Secret')).toBe(true);

    // A change shows within the refresh interval.
    modify('v1', 'Secret', 'a', 'web-tls', { data: { 'tls.crt': 'eQ==' } });
    await eventually(
      () =>
        (sink.get('Secret', 'a', 'web-tls') as { data?: Record<string, string> })?.data?.['tls.crt'] ===
        'eQ==',
      'refreshed secret',
    );
    // Deleted: gone from the sink.
    del('v1', 'Secret', 'a', 'web-tls');
    await eventually(() => sink.get('Secret', 'a', 'web-tls') === undefined, 'deleted secret removed');
    // Created after its reference: picked up by the next refresh.
    put('v1', 'Secret', 'a', 'web-tls', { data: { 'tls.crt': 'eg==' } });
    await eventually(() => sink.get('Secret', 'a', 'web-tls') !== undefined, 'recreated secret');

    expect(sink.log.some((l) => l.includes('Secret/a/unrelated'))).toBe(false);
    const secretRequests = server.requests.filter((r) => r.path.includes('/secrets'));
    // After the one refused list, only GETs of the named Secret.
    expect(secretRequests.filter((r) => !r.path.startsWith('/api/v1/namespaces/a/secrets/web-tls'))).toEqual([
      { method: 'GET', path: '/api/v1/secrets' },
    ]);
  });
});

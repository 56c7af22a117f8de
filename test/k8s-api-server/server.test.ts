import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON bodies keep these assertions short
type Json = Record<string, any>;

let server: KubeApiTestServer;

beforeEach(async () => {
  server = new KubeApiTestServer();
  await server.start();
});
afterEach(() => server.stop());

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'content-type': contentType },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** Reads watch lines until `count` events arrived or the stream ended. */
async function watchLines(path: string, count: number, whileOpen?: () => Promise<void>) {
  const controller = new AbortController();
  const res = await fetch(server.url + path, { signal: controller.signal });
  const reader = res.body!.getReader();
  const events: Json[] = [];
  let buffer = '';
  let acted = false;
  while (events.length < count) {
    if (!acted && whileOpen) {
      acted = true;
      await whileOpen();
    }
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  }
  controller.abort();
  return events;
}

const svc = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels },
  spec: { ports: [{ port: 80 }] },
});

describe('k8s API test server', () => {
  it('refuses, as a real server does or loudly, what it does not do like one', async () => {
    const slice = (address: string) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `web-${address.replace(/[.:]/g, '-')}` },
      addressType: address.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [address] }],
    });
    for (const [address, status] of [
      ['127.0.0.1', 422],
      ['169.254.1.1', 422],
      ['::1', 422],
      ['fe80::1', 422],
      ['10.0.0.1', 201],
      ['2001:db8::1', 201],
    ] as const)
      expect(
        (await call('POST', '/apis/discovery.k8s.io/v1/namespaces/a/endpointslices', slice(address))).status,
        address,
      ).toBe(status);
    await call('POST', '/api/v1/namespaces/a/services', svc('web'));
    const strategic = await call(
      'PATCH',
      '/api/v1/namespaces/a/services/web',
      { spec: {} },
      'application/strategic-merge-patch+json',
    );
    expect(strategic.status).toBe(415);
    for (const query of ['limit=10', 'continue=x', 'fieldSelector=metadata.name%3Dweb'])
      expect((await call('GET', `/api/v1/namespaces/a/services?${query}`)).status, query).toBe(400);
  });

  it('creates, gets, lists, updates, patches and deletes', async () => {
    const created = await call('POST', '/api/v1/namespaces/a/services', svc('web'));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'web', namespace: 'a', generation: 1 });
    expect((await call('POST', '/api/v1/namespaces/a/services', svc('web'))).status).toBe(409);
    expect((await call('GET', '/api/v1/namespaces/a/services/web')).body.spec.ports[0].port).toBe(80);
    await call('POST', '/api/v1/namespaces/b/services', svc('api'));
    const all = await call('GET', '/api/v1/services');
    expect(all.body.kind).toBe('ServiceList');
    expect(all.body.items.map((o: Json) => o.metadata.name).sort()).toEqual(['api', 'web']);
    expect(Number(all.body.metadata.resourceVersion)).toBe(server.store.resourceVersion);
    expect((await call('GET', '/api/v1/namespaces/b/services')).body.items).toHaveLength(1);

    const stale = { ...created.body, spec: { ports: [{ port: 81 }] } };
    expect((await call('PUT', '/api/v1/namespaces/a/services/web', stale)).status).toBe(200);
    expect((await call('PUT', '/api/v1/namespaces/a/services/web', stale)).status).toBe(409);

    const merged = await call(
      'PATCH',
      '/api/v1/namespaces/a/services/web',
      { metadata: { labels: { x: '1' } } },
      'application/merge-patch+json',
    );
    expect(merged.body.metadata.labels).toEqual({ x: '1' });
    const patched = await call(
      'PATCH',
      '/api/v1/namespaces/a/services/web',
      [{ op: 'replace', path: '/spec/ports/0/port', value: 82 }],
      'application/json-patch+json',
    );
    expect(patched.body.spec.ports[0].port).toBe(82);
    expect(patched.body.metadata.generation).toBe(3);

    expect((await call('GET', '/api/v1/services?labelSelector=x%3D1')).body.items).toHaveLength(1);
    expect((await call('DELETE', '/api/v1/namespaces/a/services/web')).status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/a/services/web')).status).toBe(404);
  });

  it('serves cluster-scoped kinds and the status subresource', async () => {
    const cls = {
      metadata: { name: 'portcullis' },
      spec: { controller: 'portcullis.dev/ingress-controller' },
    };
    expect((await call('POST', '/apis/networking.k8s.io/v1/ingressclasses', cls)).status).toBe(201);
    expect((await call('GET', '/apis/networking.k8s.io/v1/ingressclasses/portcullis')).body.kind).toBe(
      'IngressClass',
    );

    const app = { metadata: { name: 'billing' }, spec: { clientId: 'x' }, status: { ignored: true } };
    const created = await call('POST', '/apis/portcullis.dev/v1alpha1/namespaces/b/applications', app);
    expect(created.body.status).toEqual({ ignored: true }); // create keeps status, as for CRDs without validation
    const statusPatch = {
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
      spec: { clientId: 'changed' },
    };
    const patched = await call(
      'PATCH',
      '/apis/portcullis.dev/v1alpha1/namespaces/b/applications/billing/status',
      statusPatch,
      'application/merge-patch+json',
    );
    expect(patched.body.status.conditions[0].type).toBe('Ready');
    expect(patched.body.spec.clientId).toBe('x');
    const specPut = await call('PUT', '/apis/portcullis.dev/v1alpha1/namespaces/b/applications/billing', {
      ...patched.body,
      spec: { clientId: 'y' },
      status: {},
    });
    expect(specPut.body.spec.clientId).toBe('y');
    expect(specPut.body.status.conditions).toHaveLength(1);
    expect((await call('GET', '/api/v1/namespaces/b/services/x/status')).status).toBe(404);
  });

  it('watches from a resourceVersion, with bookmarks, and answers 410 after compaction', async () => {
    await call('POST', '/api/v1/namespaces/a/services', svc('one'));
    const rv = server.store.resourceVersion;
    await call('POST', '/api/v1/namespaces/a/services', svc('two'));
    const events = await watchLines(
      `/api/v1/namespaces/a/services?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`,
      4,
      async () => {
        await call('DELETE', '/api/v1/namespaces/a/services/one');
        await call('POST', '/api/v1/namespaces/b/services', svc('elsewhere'));
        server.sendBookmarks();
      },
    );
    expect(events.map((e) => `${e.type}:${e.object.metadata.name ?? ''}`)).toEqual([
      'ADDED:two',
      'BOOKMARK:',
      'DELETED:one',
      'BOOKMARK:',
    ]);

    server.compact();
    const gone = await watchLines(`/api/v1/services?watch=true&resourceVersion=${rv}`, 2);
    expect(gone).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) },
    ]);
    const fresh = await watchLines(
      `/api/v1/services?watch=1&resourceVersion=${server.store.resourceVersion}`,
      1,
      () => call('POST', '/api/v1/namespaces/a/services', svc('three')).then(() => undefined),
    );
    expect(fresh[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'three' } } });
  });

  it('drops watches, and stops and starts on the same port keeping its objects', async () => {
    const dropped = watchLines('/api/v1/services?watch=true', 10, async () => {
      server.dropWatches();
    }).catch((err: unknown) => err);
    expect(await dropped).toBeDefined();
    expect(server.openWatches).toBe(0);

    await call('POST', '/api/v1/namespaces/a/services', svc('kept'));
    const url = server.url;
    await server.stop();
    await expect(fetch(url + '/api/v1/services')).rejects.toThrow();
    await server.start();
    expect(server.url).toBe(url);
    expect((await call('GET', '/api/v1/namespaces/a/services/kept')).status).toBe(200);
  });
});

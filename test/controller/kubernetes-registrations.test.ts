/**
 * Application registration in Kubernetes mode, against the API test server:
 * translate reads what is stored, the status writer writes back, round after
 * round, as the controller's loop does.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatusWriter } from '../../controller/kubernetes/status-writer.js';
import { snapshotFromObjects } from '../../controller/snapshot.js';
import { translate } from '../../controller/translate/index.js';
import { apiVersionOf, findByKind, type ResourceType } from '../k8s-api-server/resources.js';
import { KubeApiTestServer } from '../k8s-api-server/server.js';

const log = pino({ level: 'silent' });
let server: KubeApiTestServer;
beforeEach(async () => {
  server = new KubeApiTestServer();
  await server.start();
});
afterEach(() => server.stop());

const type = (apiVersion: string, kind: string) => findByKind(apiVersion, kind)!;
const CLASS = type('networking.k8s.io/v1', 'IngressClass');
const INGRESS = type('networking.k8s.io/v1', 'Ingress');
const SERVICE = type('v1', 'Service');
const PLUGIN = type('configuration.konghq.com/v1', 'KongPlugin');
const APP = type('portcullis.dev/v1alpha1', 'Application');
const REG = type('portcullis.dev/v1alpha1', 'ApplicationRegistration');
const KINDS: ResourceType[] = [CLASS, INGRESS, SERVICE, PLUGIN, APP, REG];

// Test reads of stored objects: loose on purpose.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Obj = { metadata: { name: string; labels?: Record<string, string> }; spec: Loose; status: Loose };

/** One round of the loop: snapshot of the store, translate, write. */
async function round(writer: StatusWriter) {
  const objects = KINDS.flatMap((k) =>
    server.store.list(k).map((o) => ({ apiVersion: apiVersionOf(k), kind: k.kind, ...o })),
  );
  const { snapshot } = snapshotFromObjects(objects);
  const result = translate(snapshot);
  const summary = await writer.write(result);
  return { ...result, summary };
}

/** A Service `ns/name` routed by an Ingress with an application-registration plugin. */
function service(ns: string, name: string, config: Record<string, unknown> | undefined) {
  const annotations = config ? { 'konghq.com/plugins': `${name}-apps` } : undefined;
  if (config)
    server.store.create(PLUGIN, ns, {
      metadata: { name: `${name}-apps` },
      plugin: 'application-registration',
      config,
    } as never);
  server.store.create(SERVICE, ns, {
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { ports: [{ name: 'http', port: 80 }] },
  });
  server.store.create(INGRESS, ns, {
    metadata: { name },
    spec: {
      ingressClassName: 'portcullis',
      rules: [
        {
          host: 'api.example.com',
          http: {
            paths: [
              {
                path: `/${name}`,
                pathType: 'Prefix',
                backend: { service: { name, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });
}

function app(ns: string, name: string, clientId: string, services: string[]) {
  return server.store.create(APP, ns, {
    metadata: { name },
    spec: {
      clientId,
      registrations: services.map((s) => ({
        service: { namespace: s.split('/')[0], name: s.split('/')[1] },
      })),
    },
  });
}

const reg = (ns: string, name: string) => server.store.get(REG, ns, name) as Obj;
const appStatus = (ns: string, name: string) => (server.store.get(APP, ns, name) as Obj).status;
const ready = (status: Loose | undefined) =>
  status?.conditions.find((c: { type: string }) => c.type === 'Ready');

describe('application registration in Kubernetes mode', () => {
  beforeEach(() => {
    server.store.create(CLASS, undefined, {
      metadata: { name: 'portcullis' },
      spec: { controller: 'portcullis.dev/ingress-controller' },
    });
    service('payments', 'payments', { display_name: 'Payments' });
    service('catalog', 'catalog', { display_name: 'Catalog', auto_approve: true });
    service('plain', 'plain', undefined);
  });

  it('creates Pending (manual) and Approved (auto_approve) registrations once, and never changes a decision', async () => {
    app('billing', 'billing', '0oa5billing', [
      'payments/payments',
      'catalog/catalog',
      'plain/plain',
      'gone/gone',
    ]);
    const writer = new StatusWriter({ kubeConfig: server.kubeConfig(), log });

    const first = await round(writer);
    expect(first.summary).toMatchObject({ created: 2, failed: 0 });
    const pending = reg('payments', 'billing.billing.payments');
    expect(pending.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'portcullis' });
    expect(pending.spec).toEqual({
      application: { namespace: 'billing', name: 'billing' },
      service: 'payments',
      state: 'Pending',
    });
    expect(reg('catalog', 'billing.billing.catalog').spec.state).toBe('Approved');
    // A Service without the plugin, or missing, gets no registration.
    expect(server.store.list(REG, 'plain')).toEqual([]);
    expect(server.store.list(REG, 'gone')).toEqual([]);

    const second = await round(writer);
    expect(second.summary.created).toBe(0);
    const status = appStatus('billing', 'billing');
    expect(status.approvedServices).toBe(1);
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'NotApproved' });
    expect(status.conditions.find((c: { type: string }) => c.type === 'ResolvedRefs')).toMatchObject({
      status: 'False',
      reason: 'ServiceNotFound',
    });
    expect(status.registrations).toContainEqual(
      expect.objectContaining({
        service: 'plain/plain',
        displayState: 'NotApplicable',
        reason: 'NoApplicationRegistration',
      }),
    );
    expect(reg('payments', 'billing.billing.payments').status).toMatchObject({
      application: 'billing/billing',
    });
    expect(second.config.applications[0]!.approvedServices).toEqual(['catalog/catalog']);

    // The Service owners decide: Pending -> Rejected, Approved -> Revoked. The controller leaves both.
    const edit = (ns: string, name: string, state: string) => {
      const current = reg(ns, name);
      server.store.update(REG, ns, name, { ...current, spec: { ...current.spec, state } } as never);
    };
    edit('payments', 'billing.billing.payments', 'Rejected');
    edit('catalog', 'billing.billing.catalog', 'Revoked');
    const third = await round(writer);
    await round(writer);
    expect(third.summary.created).toBe(0);
    expect(reg('payments', 'billing.billing.payments').spec.state).toBe('Rejected');
    expect(reg('catalog', 'billing.billing.catalog').spec.state).toBe('Revoked');
    expect(third.config.applications[0]!.approvedServices).toEqual([]);
    expect(third.config.applications[0]!.refusedServices).toMatchObject({
      'payments/payments': 'Rejected',
      'catalog/catalog': 'Revoked',
    });
    expect(appStatus('billing', 'billing').approvedServices).toBe(0);

    // A fresh writer (a restart, a new leader) does not overwrite either.
    await round(new StatusWriter({ kubeConfig: server.kubeConfig(), log }));
    expect(reg('payments', 'billing.billing.payments').spec.state).toBe('Rejected');
  });

  it('keeps a clientId with the oldest Application; the newer one gets ClientIdConflict and nothing', async () => {
    app('billing', 'billing', 'shared', ['payments/payments']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // creationTimestamp has second precision
    app('evil', 'impostor', 'shared', ['catalog/catalog']);
    const writer = new StatusWriter({ kubeConfig: server.kubeConfig(), log });
    let result = await round(writer);
    expect(result.config.applications.map((a) => a.id)).toEqual(['billing/billing']);
    expect(ready(appStatus('evil', 'impostor'))).toMatchObject({
      status: 'False',
      reason: 'ClientIdConflict',
    });
    expect(appStatus('evil', 'impostor').approvedServices).toBe(0);
    // The newcomer asks for nothing while it conflicts: no registration is created for it.
    expect(server.store.list(REG, 'catalog')).toEqual([]);

    // Editing the older one does not hand the clientId over.
    const older = server.store.get(APP, 'billing', 'billing') as Obj;
    server.store.update(APP, 'billing', 'billing', {
      ...older,
      spec: { ...older.spec, displayName: 'Billing' },
    } as never);
    result = await round(writer);
    expect(result.config.applications.map((a) => a.id)).toEqual(['billing/billing']);

    // Deleting it does.
    server.store.delete(APP, 'billing', 'billing');
    result = await round(writer);
    expect(result.config.applications.map((a) => a.id)).toEqual(['evil/impostor']);
    expect(ready(appStatus('evil', 'impostor'))).toMatchObject({ status: 'True', reason: 'Approved' });
    expect(reg('catalog', 'evil.impostor.catalog').spec.state).toBe('Approved');
  });
});

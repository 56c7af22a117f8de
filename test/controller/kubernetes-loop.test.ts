/**
 * The Kubernetes pieces together, against the test API server: the source
 * feeds a sink, translate runs on what it holds, and the status writer writes
 * back; the registration it creates comes back through the source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createKubernetesSource } from '../../controller/kubernetes/source.js';
import { StatusWriter } from '../../controller/kubernetes/status-writer.js';
import { snapshotFromObjects } from '../../controller/snapshot.js';
import { WATCHED_KINDS, type ObjectSource } from '../../controller/source.js';
import { translate } from '../../controller/translate/index.js';
import { eventually, RecordingSink } from '../k8s-api-server/recording-sink.js';
import { findByKind } from '../k8s-api-server/resources.js';
import { KubeApiTestServer } from '../k8s-api-server/server.js';
import type { Obj } from '../k8s-api-server/store.js';

const log = pino({ level: 'silent' });
const CASE = join(import.meta.dirname, '../golden/translate/applications/in.yaml');
let server: KubeApiTestServer;
let source: ObjectSource;

beforeEach(async () => {
  server = new KubeApiTestServer();
  await server.start();
});
afterEach(async () => {
  await source.stop();
  await server.stop();
});

it('lists a cluster, translates, writes status, and sees the registration it created', async () => {
  for (const doc of parseAllDocuments(readFileSync(CASE, 'utf8'))) {
    const object = doc.toJS() as Obj | null;
    if (!object) continue;
    const type = findByKind(String(object.apiVersion), String(object.kind))!;
    server.store.create(type, object.metadata.namespace as string | undefined, object);
  }
  const sink = new RecordingSink();
  source = createKubernetesSource({ kubeConfig: server.kubeConfig(), log });
  await source.start(sink);
  await eventually(() => sink.syncedKinds.size === WATCHED_KINDS.length, 'synced');

  const build = () => translate(snapshotFromObjects([...sink.objects.values()]).snapshot);
  const writer = new StatusWriter({
    kubeConfig: server.kubeConfig(),
    log,
    publishAddresses: [{ hostname: 'lb.example.com' }],
  });
  const first = build();
  const summary = await writer.write(first);
  expect(summary.failed).toBe(0);
  expect(summary.created).toBeGreaterThanOrEqual(1);

  const REG = findByKind('portcullis.dev/v1alpha1', 'ApplicationRegistration')!;
  // catalog auto-approves: its registration is created Approved (shipping does not exist: none).
  expect(server.store.get(REG, 'catalog', 'billing.billing.catalog').spec).toMatchObject({
    state: 'Approved',
  });
  const APP = findByKind('portcullis.dev/v1alpha1', 'Application')!;
  const app = server.store.get(APP, 'billing', 'billing') as { status?: { conditions?: { type: string }[] } };
  expect(app.status?.conditions?.map((c) => c.type)).toEqual(['Accepted', 'Ready', 'ResolvedRefs']);
  const INGRESS = findByKind('networking.k8s.io/v1', 'Ingress')!;
  expect(server.store.get(INGRESS, 'payments', 'payments').status).toEqual({
    loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] },
  });

  // The created registration comes back through the watch; translate now sees it Approved.
  await eventually(
    () => sink.get('ApplicationRegistration', 'catalog', 'billing.billing.catalog') !== undefined,
    'registration seen',
  );
  const billing = build().statuses.applications.find(
    (a) => a.namespace === 'billing' && a.name === 'billing',
  )!;
  expect(billing.registrations.find((r) => r.service === 'catalog/catalog')?.state).toBe('Approved');
});

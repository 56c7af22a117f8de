import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaderElection } from '../../controller/kubernetes/leader-election.js';
import { StatusWriter } from '../../controller/kubernetes/status-writer.js';
import type { TranslateProblem } from '../../controller/translate/problem-codes.js';
import type { TranslateStatuses } from '../../controller/translate/statuses.js';
import { findByKind } from '../k8s-api-server/resources.js';
import { KubeApiTestServer } from '../k8s-api-server/server.js';
import { eventually } from '../k8s-api-server/recording-sink.js';

const log = pino({ level: 'silent' });
let server: KubeApiTestServer;

beforeEach(async () => {
  server = new KubeApiTestServer();
  await server.start();
});
afterEach(() => server.stop());

const type = (apiVersion: string, kind: string) => findByKind(apiVersion, kind)!;
const INGRESS = type('networking.k8s.io/v1', 'Ingress');
const APP = type('portcullis.dev/v1alpha1', 'Application');
const REG = type('portcullis.dev/v1alpha1', 'ApplicationRegistration');
const EVENT = type('v1', 'Event');
const LEASE = type('coordination.k8s.io/v1', 'Lease');

function statuses(ready: 'True' | 'False'): TranslateStatuses {
  return {
    ingresses: [{ namespace: 'payments', name: 'payments', paths: [], conditions: [] }],
    applications: [
      {
        namespace: 'billing',
        name: 'billing',
        observedGeneration: 1,
        registrations: [
          {
            service: 'payments/payments',
            state: 'Requested',
            registration: 'payments/billing.billing',
            displayState: 'Pending',
            create: 'Pending',
          },
        ],
        approvedServices: 0,
        conditions: [{ type: 'Ready', status: ready, reason: 'Requested', message: 'waiting for approval' }],
      },
    ],
    applicationRegistrations: [],
    plugins: [],
  };
}

const problem: TranslateProblem = {
  code: 'PLUGIN_UNKNOWN',
  message: 'KongPlugin payments/okta names an unknown plugin',
  objects: [{ kind: 'KongPlugin', namespace: 'payments', name: 'okta' }],
};

describe('status writer', () => {
  it('writes load balancer status, conditions, Pending registrations and Events once per change', async () => {
    server.store.create(INGRESS, 'payments', { metadata: { name: 'payments' }, spec: {} });
    server.store.create(APP, 'billing', { metadata: { name: 'billing' }, spec: { clientId: 'x' } });
    const writer = new StatusWriter({
      kubeConfig: server.kubeConfig(),
      log,
      publishAddresses: [{ ip: '203.0.113.7' }],
    });

    const first = await writer.write({ statuses: statuses('False'), problems: [problem] });
    expect(first).toEqual({ patched: 2, created: 1, events: 1, failed: 0 });
    expect(server.store.get(INGRESS, 'payments', 'payments').status).toEqual({
      loadBalancer: { ingress: [{ ip: '203.0.113.7' }] },
    });
    const app = server.store.get(APP, 'billing', 'billing') as {
      status?: { conditions?: { status: string }[] };
    };
    expect(app.status?.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      lastTransitionTime: expect.any(String),
    });
    expect(server.store.get(REG, 'payments', 'billing.billing').spec).toEqual({
      application: { namespace: 'billing', name: 'billing' },
      service: 'payments',
      state: 'Pending',
    });
    const events = server.store.list(EVENT, 'payments');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      reason: problem.code,
      type: 'Warning',
      involvedObject: { kind: 'KongPlugin', name: 'okta' },
    });

    // Same result again: nothing is written.
    const writes = server.requests.length;
    expect(await writer.write({ statuses: statuses('False'), problems: [problem] })).toEqual({
      patched: 0,
      created: 0,
      events: 0,
      failed: 0,
    });
    expect(server.requests.length).toBe(writes);

    // A change is written once; a problem that goes away and comes back is reported again.
    expect((await writer.write({ statuses: statuses('True'), problems: [] })).patched).toBe(1);
    expect((await writer.write({ statuses: statuses('True'), problems: [problem] })).events).toBe(1);
    expect(server.store.list(EVENT, 'payments')).toHaveLength(2);
  });

  it('removes the published address from an Ingress no longer served, and publishes it again when served', async () => {
    server.store.create(INGRESS, 'payments', { metadata: { name: 'payments' }, spec: {} });
    server.store.create(INGRESS, 'payments', { metadata: { name: 'other' }, spec: {} });
    const writer = new StatusWriter({
      kubeConfig: server.kubeConfig(),
      log,
      publishAddresses: [{ ip: '203.0.113.7' }],
    });
    const both = statuses('True');
    both.ingresses.push({ namespace: 'payments', name: 'other', paths: [], conditions: [] });
    await writer.write({ statuses: both, problems: [] });
    const lb = (name: string) =>
      (server.store.get(INGRESS, 'payments', name) as { status?: { loadBalancer?: unknown } }).status
        ?.loadBalancer;
    expect(lb('other')).toEqual({ ingress: [{ ip: '203.0.113.7' }] });

    // `other` moved to another ingress class: it is no longer in the statuses.
    const summary = await writer.write({ statuses: statuses('True'), problems: [] });
    expect(summary.patched).toBe(1);
    expect(lb('other')).toEqual({});
    expect(lb('payments')).toEqual({ ingress: [{ ip: '203.0.113.7' }] });
    // Cleared once, not on every write.
    expect((await writer.write({ statuses: statuses('True'), problems: [] })).patched).toBe(0);

    await writer.write({ statuses: both, problems: [] });
    expect(lb('other')).toEqual({ ingress: [{ ip: '203.0.113.7' }] });
  });

  it('applies the Programmed condition of plugins in use, keeping other conditions, once per change', async () => {
    const KP = type('configuration.konghq.com/v1', 'KongPlugin');
    const KCP = type('configuration.konghq.com/v1', 'KongClusterPlugin');
    server.store.create(KP, 'payments', { metadata: { name: 'okta' }, plugin: 'openid-connect' });
    server.store.create(KCP, undefined, { metadata: { name: 'apps' }, plugin: 'application-registration' });
    server.store.update(
      KP,
      'payments',
      'okta',
      {
        ...server.store.get(KP, 'payments', 'okta'),
        status: { conditions: [{ type: 'Other', status: 'True', reason: 'X', message: 'not ours' }] },
      },
      true,
    );
    const writer = new StatusWriter({
      kubeConfig: server.kubeConfig(),
      log,
      fieldManager: 'portcullis-test',
    });
    const programmed = (status: 'True' | 'False', reason: string) => ({
      ...statuses('True'),
      plugins: [
        {
          kind: 'KongPlugin' as const,
          namespace: 'payments',
          name: 'okta',
          conditions: [
            {
              type: 'Programmed' as const,
              status,
              reason,
              message: 'set by the test',
              observedGeneration: 1,
            },
          ],
        },
        {
          kind: 'KongClusterPlugin' as const,
          name: 'apps',
          conditions: [
            { type: 'Programmed' as const, status: 'True' as const, reason: 'Programmed', message: 'ok' },
          ],
        },
      ],
    });
    const conditions = (obj: unknown) =>
      (obj as { status?: { conditions?: { type: string }[] } }).status?.conditions;

    await writer.write({ statuses: programmed('False', 'Invalid'), problems: [] });
    expect(conditions(server.store.get(KP, 'payments', 'okta'))).toEqual([
      { type: 'Other', status: 'True', reason: 'X', message: 'not ours' },
      {
        type: 'Programmed',
        status: 'False',
        reason: 'Invalid',
        message: 'set by the test',
        observedGeneration: 1,
        lastTransitionTime: expect.any(String),
      },
    ]);
    expect(conditions(server.store.get(KCP, undefined, 'apps'))).toMatchObject([
      { type: 'Programmed', status: 'True' },
    ]);
    const applies = () =>
      server.requests.filter(
        (r) => r.path.includes('/kongplugins/') || r.path.includes('/kongclusterplugins/'),
      );
    expect(applies().map((r) => [r.method, r.path])).toEqual([
      [
        'PATCH',
        '/apis/configuration.konghq.com/v1/namespaces/payments/kongplugins/okta/status?fieldManager=portcullis-test',
      ],
      [
        'PATCH',
        '/apis/configuration.konghq.com/v1/kongclusterplugins/apps/status?fieldManager=portcullis-test',
      ],
    ]);

    // Unchanged: nothing written. Fixed: written once, the other condition kept.
    await writer.write({ statuses: programmed('False', 'Invalid'), problems: [] });
    expect(applies()).toHaveLength(2);
    expect((await writer.write({ statuses: programmed('True', 'Programmed'), problems: [] })).patched).toBe(
      1,
    );
    expect(conditions(server.store.get(KP, 'payments', 'okta'))).toMatchObject([
      { type: 'Other' },
      { type: 'Programmed', status: 'True', reason: 'Programmed' },
    ]);

    // No longer used: our condition is withdrawn once (an apply without status), and applied again when used again.
    const unused = { ...statuses('True'), plugins: [] };
    expect((await writer.write({ statuses: unused, problems: [] })).patched).toBe(2);
    expect(applies()).toHaveLength(5);
    expect((await writer.write({ statuses: unused, problems: [] })).patched).toBe(0);
    expect((await writer.write({ statuses: programmed('True', 'Programmed'), problems: [] })).patched).toBe(
      2,
    );
  });

  it('writes nothing unless leader, and skips objects that are gone', async () => {
    let leader = false;
    const writer = new StatusWriter({ kubeConfig: server.kubeConfig(), log, isLeader: () => leader });
    expect(await writer.write({ statuses: statuses('True'), problems: [problem] })).toMatchObject({
      patched: 0,
      events: 0,
    });
    expect(server.requests).toHaveLength(0);
    leader = true;
    const summary = await writer.write({ statuses: statuses('True'), problems: [] });
    expect(summary).toMatchObject({ patched: 0, created: 1, failed: 0 }); // the Application does not exist: no status
  });
});

describe('leader election', () => {
  const options = {
    log,
    namespace: 'portcullis',
    leaseDurationMs: 300,
    renewDeadlineMs: 200,
    retryPeriodMs: 30,
  };

  it('elects one leader, renews, and hands over on release and on expiry', async () => {
    const changes: string[] = [];
    const a = new LeaderElection({
      ...options,
      kubeConfig: server.kubeConfig(),
      identity: 'a',
      onChange: (l) => changes.push(`a:${l}`),
    });
    const b = new LeaderElection({
      ...options,
      kubeConfig: server.kubeConfig(),
      identity: 'b',
      onChange: (l) => changes.push(`b:${l}`),
    });
    a.start();
    await eventually(() => a.isLeader(), 'a leads');
    b.start();
    await new Promise((resolve) => setTimeout(resolve, 400)); // longer than the lease: a keeps renewing it
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    const lease = server.store.get(LEASE, 'portcullis', 'portcullis-controller') as {
      spec?: { holderIdentity?: string };
    };
    expect(lease.spec?.holderIdentity).toBe('a');

    await a.stop(); // releases
    await eventually(() => b.isLeader(), 'b takes over after release');
    expect(changes).toEqual(['a:true', 'a:false', 'b:true']);

    // b's API server goes away: b steps down after the renew deadline.
    await server.stop();
    await eventually(() => !b.isLeader(), 'b steps down');
    await server.start();
    const c = new LeaderElection({ ...options, kubeConfig: server.kubeConfig(), identity: 'c' });
    c.start();
    await eventually(() => b.isLeader(), 'b, still the holder, leads again', 3000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(c.isLeader()).toBe(false);
    await b.stop();
    await c.stop();
  });
});

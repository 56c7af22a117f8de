import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../controller/object-store.js';
import { WATCHED_KINDS, type WatchedKind } from '../../controller/source.js';
import type { KubeObject } from '../../controller/translate/k8s-types.js';
import { ingress, ingressClass, kongClusterPlugin, service } from '../fixtures/k8s.js';

type Step =
  { upsert: KubeObject } | { remove: [WatchedKind, string | undefined, string] } | { synced: WatchedKind };

function apply(store: ObjectStore, steps: Step[]): void {
  for (const step of steps) {
    if ('upsert' in step) store.upsert(step.upsert);
    else if ('remove' in step) store.remove(...step.remove);
    else store.synced(step.synced);
  }
}

function names(store: ObjectStore): string[] {
  const snapshot = store.snapshot();
  return Object.values(snapshot)
    .flat()
    .map((o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    .sort();
}

const relabelled = {
  ...service('shop', 'web'),
  metadata: { name: 'web', namespace: 'shop', labels: { a: 'b' } },
};

describe('ObjectStore', () => {
  const cases: { name: string; steps: Step[]; objects: string[]; changes: number }[] = [
    { name: 'empty', steps: [], objects: [], changes: 0 },
    {
      name: 'adds objects by kind, namespace and name',
      steps: [
        { upsert: service('shop', 'web') },
        { upsert: service('blog', 'web') },
        { upsert: ingressClass() },
      ],
      objects: ['IngressClass//portcullis', 'Service/blog/web', 'Service/shop/web'],
      changes: 3,
    },
    {
      name: 'an identical upsert (a resync) is not a change',
      steps: [{ upsert: service('shop', 'web') }, { upsert: service('shop', 'web') }],
      objects: ['Service/shop/web'],
      changes: 1,
    },
    {
      name: 'a changed object replaces the old one',
      steps: [{ upsert: service('shop', 'web') }, { upsert: relabelled }],
      objects: ['Service/shop/web'],
      changes: 2,
    },
    {
      name: 'removes; removing what is not there is not a change',
      steps: [
        { upsert: service('shop', 'web') },
        { remove: ['Service', 'shop', 'web'] },
        { remove: ['Service', 'shop', 'web'] },
      ],
      objects: [],
      changes: 2,
    },
    {
      name: 'cluster-scoped kinds ignore a namespace',
      steps: [
        { upsert: kongClusterPlugin('corp', 'cors') },
        { remove: ['KongClusterPlugin', 'stray', 'corp'] },
      ],
      objects: [],
      changes: 2,
    },
    {
      name: 'kinds it does not watch are ignored',
      steps: [
        { upsert: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'y' } } },
      ],
      objects: [],
      changes: 0,
    },
    {
      name: 'same name, different kinds are different objects',
      steps: [{ upsert: service('shop', 'web') }, { upsert: ingress('shop', 'web') }],
      objects: ['Ingress/shop/web', 'Service/shop/web'],
      changes: 2,
    },
    {
      name: 'a kind syncing is a change once',
      steps: [{ synced: 'Service' }, { synced: 'Service' }],
      objects: [],
      changes: 1,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const store = new ObjectStore();
      let changes = 0;
      store.onChange(() => changes++);
      apply(store, c.steps);
      expect(names(store)).toEqual(c.objects);
      expect(changes).toBe(c.changes);
      expect(store.size).toBe(c.objects.length);
    });
  }

  it('puts objects in the snapshot list of their kind', () => {
    const store = new ObjectStore();
    apply(store, [
      { upsert: service('shop', 'web') },
      { upsert: ingress('shop', 'a') },
      { upsert: ingressClass() },
    ]);
    const snapshot = store.snapshot();
    expect(snapshot.services.map((s) => s.metadata.name)).toEqual(['web']);
    expect(snapshot.ingresses.map((s) => s.metadata.name)).toEqual(['a']);
    expect(snapshot.ingressClasses.map((s) => s.metadata.name)).toEqual(['portcullis']);
    // A kind's list is shared until the kind changes (translate reuses its work per list),
    // and frozen: a caller cannot change the store through it.
    expect(() => {
      snapshot.services.length = 0;
    }).toThrow(TypeError);
    expect(store.snapshot().services).toBe(snapshot.services);
    expect(store.snapshot().ingresses).toBe(snapshot.ingresses);
    store.upsert(service('shop', 'api'));
    const next = store.snapshot();
    expect(next.services.map((s) => s.metadata.name)).toEqual(['web', 'api']);
    expect(next.ingresses).toBe(snapshot.ingresses);
    store.remove('Ingress', 'shop', 'a');
    expect(store.snapshot().ingresses).toEqual([]);
    expect(store.snapshot().services).toBe(next.services);
  });

  it('is synced only when every watched kind is', () => {
    const store = new ObjectStore();
    const kinds = WATCHED_KINDS.map((k) => k.kind);
    for (const kind of kinds.slice(0, -1)) {
      store.synced(kind);
      expect(store.isSynced()).toBe(false);
    }
    expect(store.unsyncedKinds()).toEqual([kinds.at(-1)]);
    store.synced(kinds.at(-1)!);
    expect(store.isSynced()).toBe(true);
    expect(store.unsyncedKinds()).toEqual([]);
  });

  it('stops notifying after unsubscribe', () => {
    const store = new ObjectStore();
    let changes = 0;
    const unsubscribe = store.onChange(() => changes++);
    store.upsert(service('shop', 'a'));
    unsubscribe();
    store.upsert(service('shop', 'b'));
    expect(changes).toBe(1);
  });
});

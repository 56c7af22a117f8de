import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../../controller/snapshot.js';
import { ingress, kongClusterPlugin, service } from '../fixtures/k8s.js';

describe('snapshotFromObjects', () => {
  it('buckets objects by kind and expands Lists', () => {
    const { snapshot, rejected } = snapshotFromObjects([
      service('shop', 'web'),
      { apiVersion: 'v1', kind: 'List', items: [ingress('shop', 'a'), ingress('shop', 'b')] },
      kongClusterPlugin('corp', 'openid-connect'),
      null,
    ]);
    expect(rejected).toEqual([]);
    expect(snapshot.services.map((s) => s.metadata.name)).toEqual(['web']);
    expect(snapshot.ingresses.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(snapshot.kongClusterPlugins).toHaveLength(1);
  });

  it('defaults the namespace of namespaced objects and drops it from cluster-scoped ones', () => {
    const { snapshot } = snapshotFromObjects(
      [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'IngressClass',
          metadata: { name: 'portcullis', namespace: 'x' },
        },
      ],
      { defaultNamespace: 'dev' },
    );
    expect(snapshot.services[0]!.metadata).toEqual({ name: 'web', namespace: 'dev' });
    expect(snapshot.ingressClasses[0]!.metadata).toEqual({ name: 'portcullis' });
  });

  it('rejects, with a reason, what translate does not read', () => {
    const { snapshot, rejected } = snapshotFromObjects([
      'text',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } },
      { apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress', metadata: { name: 'old' } },
      { apiVersion: 'v1', kind: 'Service', metadata: {} },
      { metadata: { name: 'kindless' } },
    ]);
    expect(Object.values(snapshot).every((list) => list.length === 0)).toBe(true);
    expect(rejected).toEqual([
      { index: 0, reason: 'not an object' },
      { index: 1, kind: 'Deployment', name: 'd', reason: 'kind Deployment is not read by translate' },
      { index: 2, kind: 'Ingress', name: 'old', reason: 'Ingress must have apiVersion networking.k8s.io/v1' },
      { index: 3, kind: 'Service', reason: 'no metadata.name' },
      { index: 4, name: 'kindless', reason: 'no kind' },
    ]);
  });

  it('keeps the later of two objects with one name, as kubectl apply would', () => {
    const first = service('shop', 'web', { ports: [{ port: 1 }] });
    const second = service('shop', 'web', { ports: [{ port: 2 }] });
    const { snapshot, rejected } = snapshotFromObjects([first, second]);
    expect(snapshot.services).toHaveLength(1);
    expect(snapshot.services[0]!.spec?.ports?.[0]?.port).toBe(2);
    expect(rejected).toEqual([
      {
        index: 0,
        kind: 'Service',
        namespace: 'shop',
        name: 'web',
        reason: 'replaced by a later Service of the same name (input 1)',
      },
    ]);
  });

  it('does not modify its input', () => {
    const object = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } };
    snapshotFromObjects([object]);
    expect(object.metadata).toEqual({ name: 'web' });
  });
});

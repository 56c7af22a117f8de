/**
 * Builds a translate Snapshot from plain Kubernetes objects, as read from
 * manifests (parsed YAML) or from informer stores. Pure: no I/O, input is
 * not modified.
 *
 * - `List` objects (kind ending in List, with `items`) are expanded.
 * - Namespaced objects without a namespace get `defaultNamespace`, as
 *   `kubectl apply` would; cluster-scoped ones lose any namespace.
 * - Anything else (other kinds or versions, no name, not an object) is
 *   returned in `rejected` with the reason, never silently dropped.
 * - The same kind/namespace/name twice: the later one wins, as with
 *   `kubectl apply`; the earlier is rejected.
 */
import { emptySnapshot, type KubeObject, type Snapshot } from './translate/k8s-types.js';

interface KindInfo {
  apiVersion: string;
  bucket: keyof Snapshot;
  namespaced: boolean;
}

const KINDS: Readonly<Record<string, KindInfo>> = {
  IngressClass: { apiVersion: 'networking.k8s.io/v1', bucket: 'ingressClasses', namespaced: false },
  Ingress: { apiVersion: 'networking.k8s.io/v1', bucket: 'ingresses', namespaced: true },
  Service: { apiVersion: 'v1', bucket: 'services', namespaced: true },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', bucket: 'endpointSlices', namespaced: true },
  Secret: { apiVersion: 'v1', bucket: 'secrets', namespaced: true },
  KongPlugin: { apiVersion: 'configuration.konghq.com/v1', bucket: 'kongPlugins', namespaced: true },
  KongClusterPlugin: {
    apiVersion: 'configuration.konghq.com/v1',
    bucket: 'kongClusterPlugins',
    namespaced: false,
  },
  Application: { apiVersion: 'portcullis.dev/v1alpha1', bucket: 'applications', namespaced: true },
  ApplicationRegistration: {
    apiVersion: 'portcullis.dev/v1alpha1',
    bucket: 'applicationRegistrations',
    namespaced: true,
  },
};

export interface RejectedObject {
  /** Position in the input (items of a List share their List's index). */
  index: number;
  kind?: string;
  namespace?: string;
  name?: string;
  reason: string;
}

export interface SnapshotFromObjects {
  snapshot: Snapshot;
  rejected: RejectedObject[];
}

export interface SnapshotOptions {
  /** Namespace for namespaced objects that have none. Default `default`. */
  defaultNamespace?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function snapshotFromObjects(
  objects: readonly unknown[],
  options: SnapshotOptions = {},
): SnapshotFromObjects {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const snapshot = emptySnapshot();
  const rejected: RejectedObject[] = [];
  const placed = new Map<string, { index: number; bucket: keyof Snapshot; object: KubeObject }>();

  const take = (value: unknown, index: number): void => {
    if (value === null || value === undefined) return; // an empty YAML document
    if (!isObject(value)) {
      rejected.push({ index, reason: 'not an object' });
      return;
    }
    const kind = typeof value.kind === 'string' ? value.kind : undefined;
    if (kind?.endsWith('List') && Array.isArray(value.items)) {
      for (const item of value.items) take(item, index);
      return;
    }
    const metadata = isObject(value.metadata) ? value.metadata : undefined;
    const name = typeof metadata?.name === 'string' && metadata.name ? metadata.name : undefined;
    const info = kind === undefined ? undefined : KINDS[kind];
    const described = { index, ...(kind ? { kind } : {}), ...(name ? { name } : {}) };
    if (!info) {
      rejected.push({ ...described, reason: kind ? `kind ${kind} is not read by translate` : 'no kind' });
      return;
    }
    if (value.apiVersion !== info.apiVersion) {
      rejected.push({ ...described, reason: `${kind} must have apiVersion ${info.apiVersion}` });
      return;
    }
    if (!metadata || !name) {
      rejected.push({ ...described, reason: 'no metadata.name' });
      return;
    }
    const ownNamespace =
      typeof metadata.namespace === 'string' && metadata.namespace ? metadata.namespace : undefined;
    const namespace = info.namespaced ? (ownNamespace ?? defaultNamespace) : undefined;
    const { namespace: _dropped, ...rest } = metadata;
    const object = {
      ...value,
      metadata: namespace === undefined ? rest : { ...rest, namespace },
    } as unknown as KubeObject;

    const key = `${kind}/${namespace ?? ''}/${name}`;
    const earlier = placed.get(key);
    if (earlier) {
      const list = snapshot[earlier.bucket] as KubeObject[];
      list.splice(list.indexOf(earlier.object), 1);
      rejected.push({
        index: earlier.index,
        kind,
        ...(namespace ? { namespace } : {}),
        name,
        reason: `replaced by a later ${kind} of the same name (input ${index})`,
      });
    }
    (snapshot[info.bucket] as KubeObject[]).push(object);
    placed.set(key, { index, bucket: info.bucket, object });
  };

  objects.forEach((value, index) => take(value, index));
  return { snapshot, rejected };
}

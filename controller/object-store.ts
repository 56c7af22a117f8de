/**
 * The controller's memory of the cluster: every watched object by kind,
 * namespace and name. Sources write into it (it is their ObjectSink); the
 * sync loop reads whole snapshots from it. It never builds anything itself;
 * it only says "something changed" so the loop can batch rebuilds.
 */
import { canonicalJson } from '../contract/hash.js';
import { WATCHED_KINDS, type ObjectSink, type WatchedKind } from './source.js';
import { emptySnapshot, type KubeObject, type Snapshot } from './translate/k8s-types.js';

/** Which Snapshot list each kind goes to. */
const BUCKETS: Readonly<Record<WatchedKind, keyof Snapshot>> = {
  IngressClass: 'ingressClasses',
  Ingress: 'ingresses',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  KongPlugin: 'kongPlugins',
  KongClusterPlugin: 'kongClusterPlugins',
  Application: 'applications',
  ApplicationRegistration: 'applicationRegistrations',
};

const NAMESPACED = new Map<string, boolean>(WATCHED_KINDS.map((k) => [k.kind, k.namespaced]));

export function isWatchedKind(kind: unknown): kind is WatchedKind {
  return typeof kind === 'string' && NAMESPACED.has(kind);
}

export type ChangeListener = () => void;

export class ObjectStore implements ObjectSink {
  readonly #objects = new Map<WatchedKind, Map<string, { object: KubeObject; json: string }>>();
  readonly #synced = new Set<WatchedKind>();
  readonly #listeners = new Set<ChangeListener>();

  /** Adds or replaces an object; unchanged content (a resync, a status-only echo) notifies nobody. */
  upsert(object: KubeObject): void {
    const kind = object.kind;
    if (!isWatchedKind(kind)) return;
    const key = this.#key(kind, object.metadata.namespace, object.metadata.name);
    let byKey = this.#objects.get(kind);
    if (!byKey) this.#objects.set(kind, (byKey = new Map()));
    const json = canonicalJson(object);
    if (byKey.get(key)?.json === json) return;
    byKey.set(key, { object, json });
    this.#notify();
  }

  remove(kind: WatchedKind, namespace: string | undefined, name: string): void {
    if (this.#objects.get(kind)?.delete(this.#key(kind, namespace, name))) this.#notify();
  }

  synced(kind: WatchedKind): void {
    if (this.#synced.has(kind)) return;
    this.#synced.add(kind);
    // The last kind to sync is what finally allows the first build.
    this.#notify();
  }

  /** True once every source has listed every watched kind. Before that, a build would drop routes. */
  isSynced(): boolean {
    return WATCHED_KINDS.every((k) => this.#synced.has(k.kind));
  }

  /** Kinds not listed yet, for logs and readiness messages. */
  unsyncedKinds(): WatchedKind[] {
    return WATCHED_KINDS.map((k) => k.kind).filter((kind) => !this.#synced.has(kind));
  }

  get size(): number {
    let n = 0;
    for (const byKey of this.#objects.values()) n += byKey.size;
    return n;
  }

  /** The objects as translate's input. Lists are fresh; objects are shared (translate does not modify them). */
  snapshot(): Snapshot {
    const snapshot = emptySnapshot();
    for (const [kind, byKey] of this.#objects) {
      const list = snapshot[BUCKETS[kind]] as KubeObject[];
      for (const { object } of byKey.values()) list.push(object);
    }
    return snapshot;
  }

  /** Calls `listener` after every change; returns a function that unsubscribes. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #key(kind: WatchedKind, namespace: string | undefined, name: string): string {
    // Cluster-scoped kinds ignore any namespace a source may have left on them.
    return NAMESPACED.get(kind) ? `${namespace ?? ''}/${name}` : `/${name}`;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

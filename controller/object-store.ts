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
  /** `json`: the object's canonical text, made only once the object is compared (a second upsert of its key). */
  readonly #objects = new Map<WatchedKind, Map<string, { object: KubeObject; json?: string }>>();
  readonly #synced = new Set<WatchedKind>();
  readonly #listeners = new Set<ChangeListener>();
  /** Each kind's list as last handed out, until that kind changes: translate reuses its work per list. */
  readonly #lists = new Map<WatchedKind, KubeObject[]>();

  /** Adds or replaces an object; unchanged content (a resync, a status-only echo) notifies nobody. */
  upsert(object: KubeObject): void {
    const kind = object.kind;
    if (!isWatchedKind(kind)) return;
    const key = this.#key(kind, object.metadata.namespace, object.metadata.name);
    let byKey = this.#objects.get(kind);
    if (!byKey) this.#objects.set(kind, (byKey = new Map()));
    const previous = byKey.get(key);
    if (previous) {
      // Sources hand over objects they no longer change, so the text can wait until it is compared.
      previous.json ??= canonicalJson(previous.object);
      const json = canonicalJson(object);
      if (previous.json === json) return;
      byKey.set(key, { object, json });
    } else byKey.set(key, { object });
    this.#lists.delete(kind);
    this.#notify();
  }

  remove(kind: WatchedKind, namespace: string | undefined, name: string): void {
    if (this.#objects.get(kind)?.delete(this.#key(kind, namespace, name))) {
      this.#lists.delete(kind);
      this.#notify();
    }
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

  /**
   * The objects as translate's input. Objects and the lists of kinds that
   * did not change are the same as last time (translate modifies neither),
   * so a Translator reuses what it built from them.
   */
  snapshot(): Snapshot {
    const snapshot = emptySnapshot();
    for (const { kind } of WATCHED_KINDS) {
      let list = this.#lists.get(kind);
      if (!list) {
        list = [];
        for (const { object } of this.#objects.get(kind)?.values() ?? []) list.push(object);
        Object.freeze(list);
        this.#lists.set(kind, list);
      }
      (snapshot as unknown as Record<string, KubeObject[]>)[BUCKETS[kind]] = list;
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

/**
 * The test API server's memory: objects by resource type, namespace and name,
 * one global monotonically increasing resourceVersion, and a history of
 * changes that watches replay from. Compacting the history makes older
 * resourceVersions "too old" (410 Gone), as etcd compaction does.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceType } from './resources.js';

export type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  type: EventType;
  resource: ResourceType;
  object: Obj;
}

export class StoreError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener = (change: Change) => void;

function keyOf(resource: ResourceType, namespace: string | undefined, name: string): string {
  return `${resource.plural}.${resource.group}/${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  #rv = 1;
  readonly #objects = new Map<string, { resource: ResourceType; object: Obj }>();
  #history: Change[] = [];
  /** Watches from a resourceVersion below this one get 410 Gone. */
  #oldestRv = 1;
  readonly #listeners = new Set<Listener>();

  get resourceVersion(): number {
    return this.#rv;
  }

  get oldestResourceVersion(): number {
    return this.#oldestRv;
  }

  list(resource: ResourceType, namespace?: string): Obj[] {
    const out: Obj[] = [];
    for (const entry of this.#objects.values()) {
      if (entry.resource !== resource) continue;
      if (namespace !== undefined && entry.object.metadata.namespace !== namespace) continue;
      out.push(entry.object);
    }
    return out.sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): Obj {
    const entry = this.#objects.get(keyOf(resource, namespace, name));
    if (!entry) throw new StoreError(404, 'NotFound', `${resource.plural} "${name}" not found`);
    return entry.object;
  }

  create(resource: ResourceType, namespace: string | undefined, object: Obj): Obj {
    validate(resource, object);
    const name = object.metadata.name;
    if (typeof name !== 'string' || !name) throw new StoreError(422, 'Invalid', 'metadata.name is required');
    const key = keyOf(resource, namespace, name);
    if (this.#objects.has(key)) {
      throw new StoreError(409, 'AlreadyExists', `${resource.plural} "${name}" already exists`);
    }
    const stored = this.#stamp(resource, namespace, object, {
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      generation: 1,
    });
    this.#objects.set(key, { resource, object: stored });
    this.#record('ADDED', resource, stored);
    return stored;
  }

  /** Replaces an object; with `onlyStatus`, keeps everything but `status`. Checks resourceVersion when given. */
  update(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
    object: Obj,
    onlyStatus = false,
  ): Obj {
    const current = this.get(resource, namespace, name);
    if (!onlyStatus) validate(resource, object);
    const expected = object.metadata?.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) {
      throw new StoreError(
        409,
        'Conflict',
        `the object has been modified; please apply your changes to the latest version`,
      );
    }
    const next: Obj = onlyStatus
      ? { ...current, status: object.status }
      : { ...object, ...(resource.status ? { status: current.status } : {}) };
    if (next.status === undefined) delete next.status;
    const specChanged = JSON.stringify(current.spec) !== JSON.stringify(next.spec);
    const generation = Number(current.metadata.generation ?? 1) + (specChanged && !onlyStatus ? 1 : 0);
    const stored = this.#stamp(resource, namespace, next, {
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation,
    });
    this.#objects.set(keyOf(resource, namespace, name), { resource, object: stored });
    this.#record('MODIFIED', resource, stored);
    return stored;
  }

  delete(resource: ResourceType, namespace: string | undefined, name: string): Obj {
    const current = this.get(resource, namespace, name);
    this.#objects.delete(keyOf(resource, namespace, name));
    const gone: Obj = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.#rv) } };
    this.#record('DELETED', resource, gone);
    return gone;
  }

  /** Changes after `rv` for a resource type (and namespace), or undefined when `rv` is too old. */
  changesSince(rv: number, resource: ResourceType, namespace?: string): Change[] | undefined {
    if (rv < this.#oldestRv - 1) return undefined;
    return this.#history.filter(
      (c) =>
        c.rv > rv &&
        c.resource === resource &&
        (namespace === undefined || c.object.metadata.namespace === namespace),
    );
  }

  /** Forgets all history: any watch from a resourceVersion before now gets 410 Gone. */
  compact(): void {
    this.#history = [];
    this.#oldestRv = this.#rv + 1;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #stamp(
    resource: ResourceType,
    namespace: string | undefined,
    object: Obj,
    keep: Record<string, unknown>,
  ): Obj {
    const metadata: Record<string, unknown> = {
      ...object.metadata,
      ...keep,
      resourceVersion: String(++this.#rv),
    };
    if (namespace !== undefined) metadata.namespace = namespace;
    else delete metadata.namespace;
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    return {
      ...structuredClone(object),
      apiVersion,
      kind: resource.kind,
      metadata: structuredClone(metadata),
    };
  }

  #record(type: EventType, resource: ResourceType, object: Obj): void {
    const change = { rv: Number(object.metadata.resourceVersion), type, resource, object };
    this.#history.push(change);
    for (const listener of this.#listeners) listener(change);
  }
}

/** 127.0.0.0/8, ::1, 169.254.0.0/16, fe80::/10, 224.0.0.0/24, ff02::/16. */
const REFUSED_ENDPOINT = /^(127\.|169\.254\.|224\.0\.0\.|::1$|fe[89ab][0-9a-f]:|ff02:)/i;

/**
 * The real server's validation where the controller's inputs depend on it:
 * EndpointSlice addresses in the ranges it refuses (so a test cannot route
 * to a loopback upstream here and not on a cluster).
 */
function validate(resource: ResourceType, object: Obj): void {
  if (resource.kind !== 'EndpointSlice') return;
  for (const endpoint of (object.endpoints as { addresses?: string[] }[] | undefined) ?? []) {
    for (const address of endpoint.addresses ?? []) {
      if (REFUSED_ENDPOINT.test(address))
        throw new StoreError(
          422,
          'Invalid',
          `endpoints.addresses: Invalid value: "${address}": may not be in the loopback, link-local or link-local multicast range`,
        );
    }
  }
}

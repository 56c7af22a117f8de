/**
 * Defensive readers for untrusted Kubernetes objects, and small helpers every
 * processor shares. Manifests read from a folder are not validated by an API
 * server, so a field may have any type: readers return `undefined` or `[]`
 * instead of throwing.
 */
import type { ObjectRef } from './problem-codes.js';
import type { KubeObject, Secret } from './k8s-types.js';

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function arr<T>(value: T[] | undefined | unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function annotation(obj: KubeObject, key: string): string | undefined {
  return str(record(obj.metadata.annotations)?.[key]);
}

export function label(obj: KubeObject, key: string): string | undefined {
  return str(record(obj.metadata.labels)?.[key]);
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function nsName(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

export function refOf(kind: string, obj: KubeObject): ObjectRef {
  return ref(kind, obj.metadata.namespace, obj.metadata.name);
}

export function ref(kind: string, namespace: string | undefined, name: string): ObjectRef {
  return namespace === undefined ? { kind, name } : { kind, namespace, name };
}

export function creationTime(obj: KubeObject): number {
  const parsed = Date.parse(str(obj.metadata.creationTimestamp) ?? '');
  // Objects without a timestamp (manifests) count as oldest; ties fall to namespace/name.
  return Number.isNaN(parsed) ? Number.NEGATIVE_INFINITY : parsed;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Oldest first (creationTimestamp), then namespace, then name: who wins a conflict. */
export function byAge(a: KubeObject, b: KubeObject): number {
  const ta = creationTime(a);
  const tb = creationTime(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return byName(a, b);
}

/** namespace, then name. */
export function byName(a: KubeObject, b: KubeObject): number {
  return (
    compareStrings(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    compareStrings(a.metadata.name, b.metadata.name)
  );
}

/**
 * A Secret's value as text: `stringData` wins over base64 `data`, as it does
 * when the API server stores a Secret. Undefined when the key is absent.
 */
export function secretValue(secret: Secret, key: string): string | undefined {
  const plain = str(record(secret.stringData)?.[key]);
  if (plain !== undefined) return plain;
  const encoded = str(record(secret.data)?.[key]);
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** Comma-separated annotation lists: trimmed, empty items dropped. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const HOST_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^(\\*\\.)?${HOST_LABEL}(\\.${HOST_LABEL})*$`);

/** A lower-cased host name (or `*.` wildcard), or undefined when it is not one. */
export function normalizeHost(value: string): string | undefined {
  const host = value.trim().toLowerCase();
  return host.length <= 253 && HOST_NAME.test(host) ? host : undefined;
}

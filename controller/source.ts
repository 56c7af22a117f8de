import type { KubeObject } from './translate/k8s-types.js';
import type { TranslateProblem } from './translate/problem-codes.js';

/** The kinds the controller reads, by apiVersion and kind. */
export const WATCHED_KINDS = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', namespaced: false },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', namespaced: true },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true },
  { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', namespaced: true },
  { apiVersion: 'configuration.konghq.com/v1', kind: 'KongClusterPlugin', namespaced: false },
  { apiVersion: 'portcullis.dev/v1alpha1', kind: 'Application', namespaced: true },
  { apiVersion: 'portcullis.dev/v1alpha1', kind: 'ApplicationRegistration', namespaced: true },
] as const;

export type WatchedKind = (typeof WATCHED_KINDS)[number]['kind'];

/**
 * Where objects go: the object store implements it, and every source (a
 * manifest folder, the Kubernetes API) feeds it. Sources only report what
 * they see; they never build configs themselves.
 */
export interface ObjectSink {
  /** An object was added or changed. */
  upsert(object: KubeObject): void;
  /** An object is gone. */
  remove(kind: WatchedKind, namespace: string | undefined, name: string): void;
  /** The source has listed every object of this kind once; until all kinds are synced, nothing is built. */
  synced(kind: WatchedKind): void;
}

/**
 * Input the source could not use, such as a manifest file that does not
 * parse. A translate problem in shape (its `objects` is empty), plus where it
 * is; the source keeps serving what it last read there.
 */
export interface SourceProblem extends TranslateProblem {
  /** Path of the file or folder, relative to the manifest folder (`.` is the folder itself). */
  file: string;
  line?: number;
  column?: number;
}

/** A source of Kubernetes objects: a manifest folder or the Kubernetes API. */
export interface ObjectSource {
  start(sink: ObjectSink): Promise<void>;
  stop(): Promise<void>;
  /** What the source could not read, now; for metrics, `/readyz` and the portal. */
  problems?(): readonly SourceProblem[];
  /** Called whenever `problems()` changes; returns a function that unsubscribes. */
  onProblems?(listener: () => void): () => void;
}

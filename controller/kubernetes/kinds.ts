/** REST paths of the kinds the controller reads and writes. */
import { WATCHED_KINDS, type WatchedKind } from '../source.js';

export interface KindPath {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const PLURALS: Readonly<Record<WatchedKind, string>> = {
  IngressClass: 'ingressclasses',
  Ingress: 'ingresses',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  Secret: 'secrets',
  KongPlugin: 'kongplugins',
  KongClusterPlugin: 'kongclusterplugins',
  Application: 'applications',
  ApplicationRegistration: 'applicationregistrations',
};

export const WATCHED_PATHS: readonly (KindPath & { kind: WatchedKind })[] = WATCHED_KINDS.map((k) => ({
  ...k,
  plural: PLURALS[k.kind],
}));

export const EVENT_PATH: KindPath = { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true };
export const LEASE_PATH: KindPath = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

export function watchedPath(kind: WatchedKind): KindPath {
  return WATCHED_PATHS.find((k) => k.kind === kind)!;
}

/**
 * `/api/v1/...` for the core group, `/apis/GROUP/VERSION/...` otherwise;
 * with a namespace for namespaced kinds (without one: all namespaces).
 */
export function resourcePath(
  kind: KindPath,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  const ns = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const named = name !== undefined ? `/${encodeURIComponent(name)}` : '';
  const sub = subresource !== undefined ? `/${subresource}` : '';
  return `${base}${ns}/${kind.plural}${named}${sub}`;
}

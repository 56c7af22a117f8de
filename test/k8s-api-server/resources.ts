/**
 * The resources the test API server serves: the kinds the controller watches,
 * plus Events and Leases. Paths follow the Kubernetes REST layout.
 */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Serves `/status` (a PUT or PATCH there changes only `status`). */
  status: boolean;
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, status: false },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true, status: false },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, status: false },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
    status: false,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    status: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingressclasses',
    kind: 'IngressClass',
    namespaced: false,
    status: false,
  },
  {
    group: 'configuration.konghq.com',
    version: 'v1',
    plural: 'kongplugins',
    kind: 'KongPlugin',
    namespaced: true,
    status: true,
  },
  {
    group: 'configuration.konghq.com',
    version: 'v1',
    plural: 'kongclusterplugins',
    kind: 'KongClusterPlugin',
    namespaced: false,
    status: true,
  },
  {
    group: 'portcullis.dev',
    version: 'v1alpha1',
    plural: 'applications',
    kind: 'Application',
    namespaced: true,
    status: true,
  },
  {
    group: 'portcullis.dev',
    version: 'v1alpha1',
    plural: 'applicationregistrations',
    kind: 'ApplicationRegistration',
    namespaced: true,
    status: true,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    kind: 'Lease',
    namespaced: true,
    status: false,
  },
];

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind && apiVersionOf(t) === apiVersion);
}

/** What a request path names: a resource type, maybe a namespace, name and subresource. */
export interface ParsedPath {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * `/api/v1[/namespaces/NS]/PLURAL[/NAME[/status]]` or
 * `/apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/status]]`.
 */
export function parsePath(pathname: string): ParsedPath | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(1);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const [version, ...tail] = rest;
  let namespace: string | undefined;
  // `namespaces/NS/PLURAL...`; `namespaces` alone (or with a name) would be the Namespace kind, not served.
  if (tail[0] === 'namespaces' && tail.length >= 3) {
    namespace = tail[1];
    tail.splice(0, 2);
  }
  const [plural, name, subresource, ...extra] = tail;
  if (extra.length > 0) return undefined;
  const type = RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
  if (!type) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  if (name !== undefined && type.namespaced && namespace === undefined) return undefined;
  return {
    type,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

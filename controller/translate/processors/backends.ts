/** Helpers for walking an Ingress's backends; shared by several processors. */
import type { Ingress, IngressBackend } from '../k8s-types.js';
import { arr, record, str } from '../read.js';

export interface BackendUse {
  backend: IngressBackend | undefined;
  /** Rule and path index, or undefined for spec.defaultBackend. */
  rule?: number;
  path?: number;
}

/** Every backend an Ingress uses: rule paths in order, then spec.defaultBackend. */
export function ingressBackends(ingress: Ingress): BackendUse[] {
  const uses: BackendUse[] = [];
  arr(record(ingress.spec)?.rules).forEach((rule, r) => {
    arr(record(record(rule)?.http)?.paths).forEach((path, p) => {
      uses.push({ backend: record(record(path)?.backend) as IngressBackend | undefined, rule: r, path: p });
    });
  });
  const fallback = record(record(ingress.spec)?.defaultBackend);
  if (fallback) uses.push({ backend: fallback as IngressBackend });
  return uses;
}

/** The Service's port as written: a number, a name, or undefined when neither is set. */
export function backendPort(backend: IngressBackend | undefined): number | string | undefined {
  const port = record(record(backend?.service)?.port);
  const number = port?.number;
  if (typeof number === 'number' && Number.isInteger(number)) return number;
  return str(port?.name) || undefined;
}

/** `namespace/service` for a service backend, else undefined. */
export function serviceKeyOf(ingress: Ingress, backend: IngressBackend | undefined): string | undefined {
  const name = str(record(backend?.service)?.name);
  return name ? `${ingress.metadata.namespace}/${name}` : undefined;
}

/** Identifies a backend reference: `namespace/service:port`, or undefined when it names no Service and port. */
export function backendKey(ingress: Ingress, backend: IngressBackend | undefined): string | undefined {
  const service = serviceKeyOf(ingress, backend);
  const port = backendPort(backend);
  return service === undefined || port === undefined ? undefined : `${service}:${port}`;
}

/**
 * Minimal Kubernetes object types: only the fields translate reads.
 *
 * These describe what the API server (or a manifest folder) hands us, so they
 * are deliberately loose: every field is optional, and translate never trusts
 * a value's runtime type (see `read.ts`). They do not depend on
 * @kubernetes/client-node, so translate stays a pure module.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

// networking.k8s.io/v1

export interface IngressClass extends KubeObject {
  spec?: { controller?: string; parameters?: unknown };
}

export interface IngressServiceBackend {
  name?: string;
  port?: { number?: number; name?: string };
}

export interface IngressBackend {
  service?: IngressServiceBackend;
  resource?: { apiGroup?: string; kind?: string; name?: string };
}

export interface HTTPIngressPath {
  path?: string;
  pathType?: string;
  backend?: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths?: HTTPIngressPath[] };
}

export interface IngressTLS {
  hosts?: string[];
  secretName?: string;
}

export interface Ingress extends KubeObject {
  spec?: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    rules?: IngressRule[];
    tls?: IngressTLS[];
  };
}

// v1

export interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec?: { type?: string; ports?: ServicePort[]; externalName?: string; clusterIP?: string };
}

export interface Secret extends KubeObject {
  type?: string;
  /** Base64-encoded values, as the API server returns them. */
  data?: Record<string, string>;
  /** Plain values, as manifests may write them; they win over `data`, as on the API server. */
  stringData?: Record<string, string>;
}

// discovery.k8s.io/v1

export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

// configuration.konghq.com/v1

export interface SecretKeyRef {
  name?: string;
  key?: string;
  /** Only on KongClusterPlugin references, which must name the namespace. */
  namespace?: string;
}

export interface ConfigPatch {
  path?: string;
  valueFrom?: { secretKeyRef?: SecretKeyRef };
}

export interface KongPlugin extends KubeObject {
  plugin?: string;
  config?: unknown;
  configFrom?: { secretKeyRef?: SecretKeyRef };
  configPatches?: ConfigPatch[];
  disabled?: boolean;
  consumerRef?: string;
  protocols?: string[];
  ordering?: unknown;
  run_on?: string;
  instance_name?: string;
}

/** Same shape; cluster-scoped, secret references carry a namespace. */
export type KongClusterPlugin = KongPlugin;

// portcullis.dev/v1alpha1

export interface Application extends KubeObject {
  spec?: {
    displayName?: string;
    clientId?: string;
    registrations?: { service?: { namespace?: string; name?: string } }[];
  };
}

export const REGISTRATION_STATES = ['Pending', 'Approved', 'Rejected', 'Revoked'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

export interface ApplicationRegistration extends KubeObject {
  spec?: {
    application?: { namespace?: string; name?: string };
    service?: string;
    state?: string;
  };
}

/**
 * Everything translate looks at, bucketed by kind. Order does not matter:
 * translate sorts what it reads, so equal sets give byte-identical output.
 */
export interface Snapshot {
  ingressClasses: IngressClass[];
  ingresses: Ingress[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  kongPlugins: KongPlugin[];
  kongClusterPlugins: KongClusterPlugin[];
  applications: Application[];
  applicationRegistrations: ApplicationRegistration[];
}

export function emptySnapshot(): Snapshot {
  return {
    ingressClasses: [],
    ingresses: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    kongPlugins: [],
    kongClusterPlugins: [],
    applications: [],
    applicationRegistrations: [],
  };
}

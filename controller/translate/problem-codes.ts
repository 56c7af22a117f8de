/**
 * The one catalog of translate problems. A problem is something wrong with
 * the user's objects; translate never throws for one, it leaves the broken
 * part out (or makes the affected routes answer 503) and says so here.
 *
 * `effect` says what translate did about it, in words an operator can act on:
 * - `ignored`: the object or value is left out; nothing else changes.
 * - `unavailable`: the routes it touches stay in the config and answer 503,
 *   so a request never falls through to a less specific route unprotected.
 * - `dropped`: the route or element is left out of the config.
 * - `applied`: the value is used as meant; the warning says how to write it now.
 */
export const PROBLEM_CODES = {
  // Ingress class
  INGRESS_CLASS_AMBIGUOUS: {
    summary: 'spec.ingressClassName and the kubernetes.io/ingress.class annotation name different classes',
    effect: 'ignored',
  },
  INGRESS_CLASS_MULTIPLE_DEFAULTS: {
    summary: 'more than one IngressClass is marked as the default class',
    effect: 'ignored',
  },
  INGRESS_CLASS_CONTROLLER_MISMATCH: {
    summary: 'the configured ingress class exists but names another controller',
    effect: 'ignored',
  },

  // Ingress rules and backends
  INGRESS_HOST_INVALID: { summary: 'a rule or TLS host is not a valid host name', effect: 'dropped' },
  INGRESS_PATH_INVALID: {
    summary: 'a path is malformed (not absolute, unknown pathType, bad regular expression)',
    effect: 'dropped',
  },
  INGRESS_RULE_WITHOUT_PATHS: {
    summary: 'a rule has no http paths, so it routes nothing',
    effect: 'ignored',
  },
  INGRESS_BACKEND_INVALID: {
    summary: 'a backend names no Service (resource backends are not supported)',
    effect: 'unavailable',
  },
  SERVICE_NOT_FOUND: { summary: 'a backend names a Service that does not exist', effect: 'unavailable' },
  SERVICE_PORT_NOT_FOUND: {
    summary: 'a backend names a port the Service does not have',
    effect: 'unavailable',
  },
  UPSTREAM_CA_NOT_FOUND: {
    summary:
      'konghq.com/ca-certificates-secrets names a Secret that does not exist or lacks the konghq.com/ca-cert: "true" label',
    effect: 'unavailable',
  },
  UPSTREAM_CA_INVALID: {
    summary: 'a CA certificate Secret has no cert/ca.crt key, or it is not one PEM CA certificate',
    effect: 'unavailable',
  },

  // TLS
  TLS_SECRET_NOT_FOUND: { summary: 'a spec.tls entry names a Secret that does not exist', effect: 'ignored' },
  TLS_SECRET_INVALID: {
    summary: 'a TLS Secret lacks tls.crt/tls.key, or they do not parse, or do not match',
    effect: 'ignored',
  },
  CERTIFICATE_HOST_CONFLICT: {
    summary: 'two Secrets claim the same TLS host; the oldest Ingress wins',
    effect: 'ignored',
  },
  DEFAULT_CERTIFICATE_CONFLICT: {
    summary: 'two host-less spec.tls entries claim the default certificate; the oldest Ingress wins',
    effect: 'ignored',
  },

  // Annotations
  ANNOTATION_INVALID: {
    summary: 'an annotation value is not one translate understands',
    effect: 'unavailable',
  },
  ANNOTATION_UNSUPPORTED: {
    summary: 'a konghq.com annotation that Portcullis does not implement or does not know',
    effect: 'unavailable',
  },
  ANNOTATION_MISPLACED: {
    summary: 'a Service-only konghq.com annotation on an Ingress',
    effect: 'ignored',
  },

  // Plugins
  PLUGIN_NOT_FOUND: {
    summary: 'konghq.com/plugins names no KongPlugin in the namespace and no KongClusterPlugin',
    effect: 'unavailable',
  },
  PLUGIN_UNKNOWN: { summary: 'the plugin name is not in the plugin catalog', effect: 'unavailable' },
  PLUGIN_CONFIG_INVALID: { summary: "the plugin's config fails the plugin's schema", effect: 'unavailable' },
  PLUGIN_CONFIG_SOURCE_INVALID: {
    summary:
      'config, configFrom and configPatches are combined in a way that is not allowed, or a secretKeyRef lacks name or key (or namespace, on a KongClusterPlugin)',
    effect: 'unavailable',
  },
  PLUGIN_SECRET_NOT_FOUND: {
    summary: 'configFrom or configPatches names a Secret that does not exist',
    effect: 'unavailable',
  },
  PLUGIN_SECRET_KEY_NOT_FOUND: {
    summary: 'configFrom or configPatches names a key the Secret does not have',
    effect: 'unavailable',
  },
  PLUGIN_SECRET_VALUE_INVALID: {
    summary:
      'a Secret value does not parse (configFrom: not a YAML or JSON object; configPatches: starts with ", [ or { but is not JSON)',
    effect: 'unavailable',
  },
  PLUGIN_CONFIG_PATCH_INVALID: {
    summary: 'a configPatches entry has a bad JSON pointer, or its value cannot be added there',
    effect: 'unavailable',
  },
  PLUGIN_DUPLICATE_NAME: {
    summary: 'one object references two instances of the same plugin; Kong runs one per name',
    effect: 'unavailable',
  },
  PLUGIN_FIELD_UNSUPPORTED: {
    summary: 'a KongPlugin field Portcullis does not implement (consumerRef, ordering, protocols, run_on)',
    effect: 'unavailable',
  },
  PLUGIN_FIELD_DEPRECATED: {
    summary: "an openid-connect field uses Kong 2.8's name; it is read under its current name",
    effect: 'applied',
  },
  PLUGIN_ANONYMOUS_NOT_FOUND: {
    summary:
      "an openid-connect plugin's anonymous names an Application that does not exist; requests that fail authentication answer 503",
    effect: 'unavailable',
  },
  PLUGIN_GLOBAL_NAMESPACED: {
    summary: 'a namespaced KongPlugin has the global label; only KongClusterPlugins can be global',
    effect: 'ignored',
  },

  // Conflicts
  ROUTE_CONFLICT: {
    summary: 'Ingresses in different namespaces claim the same host and path; the oldest wins',
    effect: 'dropped',
  },
  ROUTE_DUPLICATE: {
    summary: 'a route repeats the host, path, pathType and methods of an older one in the namespace',
    effect: 'dropped',
  },
  DEFAULT_BACKEND_CONFLICT: {
    summary: 'more than one Ingress sets spec.defaultBackend; the oldest wins',
    effect: 'dropped',
  },

  // Applications
  APPLICATION_INVALID: { summary: 'an Application has no clientId or a malformed spec', effect: 'ignored' },
  APPLICATION_CLIENT_ID_CONFLICT: {
    summary: 'two Applications share a clientId; the oldest wins',
    effect: 'ignored',
  },
  APPLICATION_REGISTRATION_INVALID: {
    summary: 'an ApplicationRegistration has a malformed spec or an unknown state',
    effect: 'ignored',
  },
  APPLICATION_REGISTRATION_APPLICATION_NOT_FOUND: {
    summary: 'an ApplicationRegistration names an Application that does not exist',
    effect: 'ignored',
  },
  APPLICATION_REGISTRATION_NOT_REQUESTED: {
    summary: 'an ApplicationRegistration approves a Service its Application did not ask for',
    effect: 'ignored',
  },
  APPLICATION_REGISTRATION_DISAGREEMENT: {
    summary:
      'the routes to one Service do not all have the same application-registration plugin (or some have none)',
    effect: 'unavailable',
  },
  APPLICATION_REGISTRATION_DUPLICATE: {
    summary:
      'several ApplicationRegistrations cover one Application and Service; the most restrictive state wins',
    effect: 'ignored',
  },

  // Manifest folder (standalone mode and `portcullis translate`): about a file, not an object.
  // A file's last good objects stay in service; other files keep updating.
  MANIFEST_INVALID: {
    summary: 'a manifest file does not parse as YAML or JSON, or the parser refused it (alias limit)',
    effect: 'ignored',
  },
  MANIFEST_TOO_LARGE: {
    summary: 'a manifest file is larger than the file size limit or holds more documents than allowed',
    effect: 'ignored',
  },
  MANIFEST_UNREADABLE: {
    summary: 'a manifest file or folder could not be read (permissions, I/O error)',
    effect: 'ignored',
  },
  MANIFEST_FOLDER_LIMIT: {
    summary: 'the manifest folder has more files or deeper folders than the scan reads',
    effect: 'ignored',
  },

  // Anything else
  OBJECT_MALFORMED: {
    summary: 'an object could not be read at all (a field has the wrong type)',
    effect: 'ignored',
  },
} as const satisfies Record<
  string,
  { summary: string; effect: 'ignored' | 'unavailable' | 'dropped' | 'applied' }
>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** A Kubernetes object a problem is about. Cluster-scoped objects have no namespace. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export interface TranslateProblem {
  code: ProblemCode;
  /** Names objects, fields and values from specs; never a Secret's value. */
  message: string;
  /** The object that is wrong first, then the others involved. */
  objects: ObjectRef[];
}

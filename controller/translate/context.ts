/**
 * The working state that translate's processors share. Each processor reads
 * what earlier ones left here and adds its own part; the last one assembles
 * the CompiledConfig. Only `memo` outlives one translate() call.
 */
import type {
  Application as ConfigApplication,
  Certificate,
  HeaderMatch,
  Route,
  Upstream,
} from '../../contract/compiled-config.js';
import type {
  Application,
  ApplicationRegistration,
  EndpointSlice,
  Ingress,
  IngressClass,
  KongClusterPlugin,
  KongPlugin,
  KubeObject,
  Secret,
  Service,
  Snapshot,
} from './k8s-types.js';
import { TranslateMemo } from './memo.js';
import type { ResolvedOptions } from './options.js';
import type { ObjectRef, ProblemCode, TranslateProblem } from './problem-codes.js';
import type { ApplicationRegistrationStatus, ApplicationStatus, IngressStatus } from './statuses.js';

/** Why a route answers 503 instead of being served. */
export interface Unavailable {
  code: ProblemCode;
  message: string;
}

/** The route-shaping settings read from an Ingress's or a Service's annotations. */
export interface RouteSettings {
  /** Names from konghq.com/plugins, in order, without repeats. */
  plugins: string[];
  stripPath?: boolean;
  preserveHost?: boolean;
  methods?: string[];
  protocols?: ('http' | 'https')[];
  httpsRedirectStatusCode?: 301 | 302 | 307 | 308 | 426;
  forceSslRedirect?: boolean;
  hostAliases?: string[];
  /** Bytes, from portcullis.dev/max-request-body-size; 0 is no limit. */
  maxRequestBodySize?: number;
  // Ingress only: conditions that narrow its routes.
  /** From konghq.com/headers.<name>, sorted by name. */
  headers?: HeaderMatch[];
  /** From konghq.com/snis, sorted. */
  snis?: string[];
  // Service only
  upstreamPath?: string;
  connectMs?: number;
  readMs?: number;
  writeMs?: number;
  retries?: number;
  upstreamProtocol?: 'http' | 'https';
  /** konghq.com/tls-verify: verify the upstream's certificate (Kong's default: false). */
  tlsVerify?: boolean;
  /** konghq.com/tls-verify-depth: most intermediate CA certificates allowed. */
  tlsVerifyDepth?: number;
  /** konghq.com/ca-certificates-secrets: Secrets in the Service's namespace holding the trust anchors. */
  caSecrets?: string[];
  /** Set when an annotation value is invalid: the object's routes answer 503. */
  invalid?: Unavailable;
}

/** Where a backend reference leads. */
export interface BackendResult {
  /** The upstream's name; it exists in `upstreams` (empty for a missing Service). */
  upstream: string;
  /** The Service as `namespace/name`, when the backend names one. */
  service?: string;
  /** That Service, when it exists (its settings and plugins are looked up by object). */
  found?: Service;
  /** Set when the backend cannot be reached as written: its routes answer 503. */
  unavailable?: Unavailable;
}

/** A KongPlugin or KongClusterPlugin, resolved once. */
export interface ResolvedPlugin {
  /** Instance id in the config: `namespace/name` (KongPlugin) or `name` (KongClusterPlugin). */
  id: string;
  ref: ObjectRef;
  /** Kong's plugin name (`plugin:`). */
  name: string;
  /** Kong's static priority; 0 for an unknown plugin (it is broken anyway). */
  priority: number;
  config: Record<string, unknown>;
  disabled: boolean;
  /** Set when the plugin cannot run: every route that uses it answers 503. */
  broken?: Unavailable;
}

/** The plugins one Ingress or Service contributes to its routes. */
export interface ObjectPlugins {
  /** One instance per Kong plugin name; broken ones included (they make routes 503). */
  byName: Map<string, ResolvedPlugin>;
  /** A reference that failed (not found, two of one name): the object's routes answer 503. */
  unavailable?: Unavailable;
}

/** The plugins a route runs, in order, and whether it must answer 503 instead. */
export interface PluginChain {
  /** Instance ids in execution order. */
  ids: string[];
  unavailable?: Unavailable;
}

/** A route before conflicts are settled, with what conflict resolution needs. */
export interface CandidateRoute {
  route: Route;
  /** The virtual host it belongs to (`*` for host-less rules). */
  host: string;
  /** `host path`: routes with the same claim conflict. */
  claim: string;
  /** Its Ingress; candidates come oldest Ingress first, and the first claim wins. */
  ingress: Ingress;
  /** The index of this route's entry in the paths of its Ingress's status. */
  pathIndex: number;
}

export interface SnapshotIndex {
  /** Every Ingress in scope, oldest first; the ingress-class processor picks ours. */
  ingresses: Ingress[];
  /** The same Ingresses in namespace/name order. */
  ingressesByName: Ingress[];
  ingressClasses: Map<string, IngressClass>;
  /** Keyed `namespace/name`. */
  services: Map<string, Service>;
  /** Keyed `namespace/serviceName` (the kubernetes.io/service-name label). */
  endpointSlices: Map<string, EndpointSlice[]>;
  secrets: Map<string, Secret>;
  kongPlugins: Map<string, KongPlugin>;
  kongClusterPlugins: Map<string, KongClusterPlugin>;
  applications: Map<string, Application>;
  /** Sorted by namespace/name. */
  applicationRegistrations: ApplicationRegistration[];
}

export interface TranslateContext {
  readonly snapshot: Snapshot;
  readonly options: ResolvedOptions;
  /** Results of per-object steps kept between calls (see memo.ts); fresh for a one-off translate. */
  readonly memo: TranslateMemo;
  /** Filled by the scope processor: the snapshot, filtered to watched namespaces, indexed. */
  index: SnapshotIndex;
  readonly problems: TranslateProblem[];

  /** Ingresses of our class, oldest first. */
  ingresses: Ingress[];
  /** Whether our IngressClass is the cluster default (class-less objects are ours). */
  classIsDefault: boolean;

  /** Every upstream a route may use, by name; only referenced ones reach the config. */
  upstreams: Map<string, Upstream>;
  /** Backend references of our Ingresses, by backendKey (see backends.ts). */
  backends: Map<string, BackendResult>;
  certificates: Certificate[];
  defaultCertificate?: string;

  /** Resolved plugins by instance id; filled on first reference. */
  plugins: Map<string, ResolvedPlugin>;
  /** Global KongClusterPlugins that apply to every route, by priority. */
  globalPlugins: ResolvedPlugin[];
  /** Set when the global plugins cannot be applied as written: every route answers 503. */
  globalUnavailable?: Unavailable;
  /** The plugins each Ingress or Service brings. */
  objectPlugins: Map<KubeObject, ObjectPlugins>;
  /**
   * Memo of plugin chains by Ingress, then Service. An Ingress that brings no
   * plugins is memoised as `undefined`, so its routes share the Service's chain.
   */
  chains: Map<Ingress | undefined, Map<Service | undefined, PluginChain>>;

  /** Annotation settings of our Ingresses and of the Services they route to. */
  settings: Map<KubeObject, RouteSettings>;
  /** The Services in `settings`, in namespace/name order. */
  settingsServices: Service[];

  routes: CandidateRoute[];
  defaultBackends: CandidateRoute[];
  defaultBackend?: CandidateRoute;
  /** By Ingress; shared with the memo, so replaced (never modified) when conflicts change one. */
  ingressStatuses: Map<Ingress, IngressStatus>;

  applications: ConfigApplication[];
  applicationStatuses: ApplicationStatus[];
  registrationStatuses: ApplicationRegistrationStatus[];
}

export function emptyIndex(): SnapshotIndex {
  return {
    ingresses: [],
    ingressesByName: [],
    ingressClasses: new Map(),
    services: new Map(),
    endpointSlices: new Map(),
    secrets: new Map(),
    kongPlugins: new Map(),
    kongClusterPlugins: new Map(),
    applications: new Map(),
    applicationRegistrations: [],
  };
}

export function createContext(
  snapshot: Snapshot,
  options: ResolvedOptions,
  memo: TranslateMemo = new TranslateMemo(),
): TranslateContext {
  return {
    snapshot,
    options,
    memo,
    index: emptyIndex(),
    problems: [],
    ingresses: [],
    classIsDefault: false,
    upstreams: new Map(),
    backends: new Map(),
    certificates: [],
    plugins: new Map(),
    globalPlugins: [],
    objectPlugins: new Map(),
    chains: new Map(),
    settings: new Map(),
    settingsServices: [],
    routes: [],
    defaultBackends: [],
    ingressStatuses: new Map(),
    applications: [],
    applicationStatuses: [],
    registrationStatuses: [],
  };
}

export function addProblem(
  ctx: TranslateContext,
  code: ProblemCode,
  message: string,
  objects: ObjectRef[],
): void {
  ctx.problems.push({ code, message, objects });
}

export function key(obj: KubeObject): string {
  return obj.metadata.namespace === undefined
    ? obj.metadata.name
    : `${obj.metadata.namespace}/${obj.metadata.name}`;
}

/** A translate step. Processors run in a fixed order; see processors.ts. */
export interface Processor {
  name: string;
  run(ctx: TranslateContext): void;
}

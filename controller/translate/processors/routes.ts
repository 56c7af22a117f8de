/**
 * Ingress rules and defaultBackend to routes. Each rule path becomes one
 * route per host (the rule's host, then each konghq.com/host-aliases alias),
 * with id `namespace.ingress.rule.path` (aliases add `@alias`);
 * `spec.defaultBackend` becomes a candidate for the config's default backend
 * with id `namespace.ingress.default`.
 *
 * Paths: Exact and Prefix must be absolute; a Prefix loses its trailing
 * slash ("/foo/" matches as "/foo"). ImplementationSpecific is Kong's prefix
 * match, or a regular expression when it starts with `/~` (Kong's regex
 * prefix), written into the route as `~regex`.
 *
 * Settings come from the Ingress's annotations, else the Service's, else
 * Kong's defaults (header and SNI conditions: the Ingress's only). A route whose settings, backend or plugins are broken is
 * still emitted, with `unavailable` set: it answers 503.
 */
import { routePathKey } from '../../../common/normalize-path.js';
import type { PathType, Route } from '../../../contract/compiled-config.js';
import {
  addProblem,
  type BackendResult,
  type CandidateRoute,
  type Processor,
  type RouteSettings,
  type TranslateContext,
  type Unavailable,
} from '../context.js';
import type { HTTPIngressPath, Ingress, IngressBackend } from '../k8s-types.js';
import { arr, normalizeHost, record, refOf, str } from '../read.js';
import { ingressConditions, type IngressPathStatus, type IngressStatus } from '../statuses.js';
import { pluginChain } from './plugins.js';
import { backendSlot, backendSlots } from './upstreams.js';

const PATH_TYPES: readonly string[] = ['Exact', 'Prefix', 'ImplementationSpecific'];
const REGEX_PREFIX = '/~';
const DEFAULTS = { connectMs: 60_000, readMs: 60_000, writeMs: 60_000, retries: 5 } as const;

/** Setting by setting, the Ingress's value wins over the Service's. */
function merge(
  ingress: RouteSettings | undefined,
  service: RouteSettings | undefined,
): Omit<RouteSettings, 'plugins' | 'invalid'> {
  const pick = <K extends keyof RouteSettings>(k: K) => ingress?.[k] ?? service?.[k];
  return {
    stripPath: pick('stripPath'),
    preserveHost: pick('preserveHost'),
    methods: pick('methods'),
    // Read on the Ingress only (annotations.ts refuses them on a Service).
    headers: ingress?.headers,
    snis: ingress?.snis,
    protocols: pick('protocols'),
    httpsRedirectStatusCode: pick('httpsRedirectStatusCode'),
    forceSslRedirect: pick('forceSslRedirect'),
    hostAliases: pick('hostAliases'),
    maxRequestBodySize: pick('maxRequestBodySize'),
    upstreamPath: service?.upstreamPath,
    connectMs: service?.connectMs,
    readMs: service?.readMs,
    writeMs: service?.writeMs,
    retries: service?.retries,
  };
}

function hasSpaceOrControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** The route's path and pathType, or why the path cannot be routed. */
function readPath(
  entry: HTTPIngressPath | undefined,
): { path: string; pathType: PathType; key: string } | string {
  const pathType = str(entry?.pathType);
  if (pathType === undefined || !PATH_TYPES.includes(pathType)) {
    return `pathType "${pathType ?? ''}" is not Exact, Prefix or ImplementationSpecific`;
  }
  if (entry?.path !== undefined && typeof entry.path !== 'string')
    return `path ${JSON.stringify(entry.path)} must be a string`;
  const raw = entry?.path ?? (pathType === 'ImplementationSpecific' ? '/' : undefined);
  if (raw === undefined || !raw.startsWith('/')) return `path "${raw ?? ''}" must start with "/"`;
  if (raw.length > 4096 || hasSpaceOrControl(raw))
    return `path "${raw.slice(0, 64)}" is too long or has spaces or control characters`;
  if (pathType === 'ImplementationSpecific' && raw.startsWith(REGEX_PREFIX)) {
    const regex = raw.slice(REGEX_PREFIX.length);
    try {
      new RegExp(regex);
    } catch {
      return `path "${raw}" is not a valid regular expression`;
    }
    return { path: `~${regex}`, pathType, key: `~${regex}` };
  }
  const trailing = pathType === 'Prefix' && raw.length > 1 && raw.endsWith('/');
  const path = trailing ? raw.replace(/\/+$/, '') || '/' : raw;
  // The path as the proxy indexes it: conflicts compare this, or `/pay%6Dents`
  // from another namespace would take `/payments` unseen.
  const key = routePathKey(path, pathType !== 'Exact');
  if (key === undefined)
    return `path "${raw.slice(0, 64)}" can never match a request: it has an encoded slash or backslash, a malformed escape or a dot segment with parameters`;
  return { path, pathType: pathType as PathType, key };
}

interface Built {
  route: Route;
  unavailable?: Unavailable;
}

/** A route's fields after id, path and pathType, in the contract's key order. */
type RouteTail = Omit<Route, 'id' | 'path' | 'pathType'>;

/**
 * Everything a backend use shares across the routes it makes (one per path
 * and host). Those routes share the tail's arrays and objects too: they are
 * read-only, and 20,000 routes would otherwise mean 100,000 more objects to
 * allocate and keep.
 */
interface PathTarget {
  tail: RouteTail;
  hostAliases?: string[];
  unavailable?: Unavailable;
}

function resolveTarget(ctx: TranslateContext, ingress: Ingress, slot: string): PathTarget {
  const ingressSettings = ctx.settings.get(ingress);
  const target = ctx.backends.get(slot)!;
  const serviceSettings = target.found === undefined ? undefined : ctx.settings.get(target.found);
  const chain = pluginChain(ctx, ingress, target.found);
  const unavailable =
    ingressSettings?.invalid ?? serviceSettings?.invalid ?? target.unavailable ?? chain.unavailable;
  const settings = merge(ingressSettings, serviceSettings);
  const resolved: PathTarget = { tail: routeTail(ingress, settings, target, chain.ids, unavailable) };
  if (settings.hostAliases) resolved.hostAliases = settings.hostAliases;
  if (unavailable) resolved.unavailable = unavailable;
  return resolved;
}

/** The tail with keys in the contract's order; optional keys only when set. */
function routeTail(
  ingress: Ingress,
  s: ReturnType<typeof merge>,
  backend: BackendResult,
  plugins: string[],
  unavailable: Unavailable | undefined,
): RouteTail {
  const tail = {} as RouteTail;
  if (s.methods) tail.methods = [...s.methods];
  if (s.headers) tail.headers = s.headers.map((h) => ({ name: h.name, values: [...h.values] }));
  if (s.snis) tail.snis = [...s.snis];
  tail.protocols = s.forceSslRedirect ? ['https'] : s.protocols ? [...s.protocols] : ['http', 'https'];
  tail.httpsRedirectStatusCode = s.httpsRedirectStatusCode ?? (s.forceSslRedirect ? 302 : 426);
  tail.stripPath = s.stripPath ?? false;
  tail.preserveHost = s.preserveHost ?? true;
  if (s.upstreamPath) tail.upstreamPath = s.upstreamPath;
  tail.timeouts = {
    connectMs: s.connectMs ?? DEFAULTS.connectMs,
    readMs: s.readMs ?? DEFAULTS.readMs,
    writeMs: s.writeMs ?? DEFAULTS.writeMs,
  };
  tail.retries = s.retries ?? DEFAULTS.retries;
  // Absent unless annotated: the proxy's own default then applies.
  if (s.maxRequestBodySize !== undefined) tail.maxRequestBodySize = s.maxRequestBodySize;
  tail.upstream = backend.upstream;
  if (backend.service) tail.service = backend.service;
  tail.plugins = [...plugins];
  if (unavailable) tail.unavailable = { code: unavailable.code, message: unavailable.message };
  tail.source = refOf('Ingress', ingress);
  return tail;
}

function buildRoute(id: string, path: string, pathType: PathType, target: PathTarget): Built {
  const route: Route = { id, path, pathType, ...target.tail };
  return target.unavailable ? { route, unavailable: target.unavailable } : { route };
}

function pathStatus(host: string, path: string, pathType: string, built?: Built): IngressPathStatus {
  if (!built) return { host, path, pathType, state: 'Invalid' };
  const status: IngressPathStatus = { host, path, pathType, routeId: built.route.id, state: 'Accepted' };
  if (built.unavailable) {
    status.state = 'Unavailable';
    status.reason = built.unavailable.code;
    status.message = built.unavailable.message;
  }
  return status;
}

/** An Ingress's candidate routes and status, as reused while nothing they depend on changed. */
interface IngressRoutes {
  routes: CandidateRoute[];
  defaults: CandidateRoute[];
  status: IngressStatus;
}

function translateIngress(ctx: TranslateContext, ingress: Ingress): IngressRoutes {
  const status: IngressStatus = {
    namespace: ingress.metadata.namespace!,
    name: ingress.metadata.name,
    ...(typeof ingress.metadata.generation === 'number'
      ? { observedGeneration: ingress.metadata.generation }
      : {}),
    paths: [],
    conditions: [],
  };
  const out: IngressRoutes = { routes: [], defaults: [], status };
  const statusPaths = status.paths;
  const ingressRef = refOf('Ingress', ingress);
  const base = `${ingress.metadata.namespace}.${ingress.metadata.name}`;
  // Paths of one Ingress usually share a backend: resolve each backend once.
  const targets = new Map<string, PathTarget>();
  const targetOf = (backend: IngressBackend | undefined): PathTarget => {
    const slot = backendSlot(ingress, backend);
    let target = targets.get(slot);
    if (!target) targets.set(slot, (target = resolveTarget(ctx, ingress, slot)));
    return target;
  };

  arr(record(ingress.spec)?.rules).forEach((rule, r) => {
    const rawHost = str(record(rule)?.host) || undefined;
    const host = rawHost === undefined ? '*' : normalizeHost(rawHost);
    const paths = arr<HTTPIngressPath>(record(record(rule)?.http)?.paths);
    if (host === undefined) {
      addProblem(ctx, 'INGRESS_HOST_INVALID', `rule ${r}: host "${rawHost}" is not a valid host name`, [
        ingressRef,
      ]);
      for (const entry of paths) {
        const invalid = pathStatus(
          rawHost!,
          str(record(entry)?.path) ?? '',
          str(record(entry)?.pathType) ?? '',
        );
        statusPaths.push({
          ...invalid,
          reason: 'INGRESS_HOST_INVALID',
          message: `host "${rawHost}" is not a valid host name`,
        });
      }
      return;
    }
    if (paths.length === 0) {
      addProblem(ctx, 'INGRESS_RULE_WITHOUT_PATHS', `rule ${r} (host ${host}) has no http paths`, [
        ingressRef,
      ]);
    }
    paths.forEach((entry, p) => {
      const parsed = readPath(record(entry) as HTTPIngressPath | undefined);
      if (typeof parsed === 'string') {
        addProblem(ctx, 'INGRESS_PATH_INVALID', `rule ${r} path ${p}: ${parsed}`, [ingressRef]);
        const invalid = pathStatus(
          host,
          String(record(entry)?.path ?? ''),
          str(record(entry)?.pathType) ?? '',
        );
        statusPaths.push({ ...invalid, reason: 'INGRESS_PATH_INVALID', message: parsed });
        return;
      }
      const target = targetOf(record(record(entry)?.backend) as IngressBackend | undefined);
      const add = (h: string, id: string) => {
        const built = buildRoute(id, parsed.path, parsed.pathType, target);
        out.routes.push({
          route: built.route,
          host: h,
          claim: `${h} ${parsed.key}`,
          ingress,
          pathIndex: statusPaths.length,
        });
        statusPaths.push(pathStatus(h, parsed.path, parsed.pathType, built));
      };
      const id = `${base}.${r}.${p}`;
      add(host, id);
      // Aliases only widen a rule that has a host; a host-less rule already matches every host.
      if (host !== '*' && target.hostAliases) {
        for (const alias of target.hostAliases) if (alias !== host) add(alias, `${id}@${alias}`);
      }
    });
  });

  const fallback = record(record(ingress.spec)?.defaultBackend) as IngressBackend | undefined;
  if (fallback) {
    const built = buildRoute(`${base}.default`, '/', 'Prefix', targetOf(fallback));
    out.defaults.push({
      route: built.route,
      host: '*',
      claim: '* /',
      ingress,
      pathIndex: statusPaths.length,
    });
    statusPaths.push(pathStatus('*', '/', 'Prefix', built));
  }
  status.conditions = ingressConditions(status);
  return out;
}

/**
 * What an Ingress's routes are made of besides the Ingress itself: its
 * settings, and for each backend the backend's result, the Service's
 * settings and the plugin chain (exactly what resolveTarget reads).
 */
function ingressDeps(ctx: TranslateContext, ingress: Ingress): unknown[] {
  const deps: unknown[] = [ingress, ctx.settings.get(ingress)];
  for (const slot of backendSlots(ctx, ingress).slots) {
    const target = ctx.backends.get(slot)!;
    deps.push(
      target,
      target.found && ctx.settings.get(target.found),
      pluginChain(ctx, ingress, target.found),
    );
  }
  return deps;
}

export const routesProcessor: Processor = {
  name: 'routes',
  run(ctx) {
    for (const ingress of ctx.ingresses) {
      const built = ctx.memo.use(
        'ingress-routes',
        ingress,
        () => ingressDeps(ctx, ingress),
        ctx.problems,
        () => translateIngress(ctx, ingress),
      );
      ctx.ingressStatuses.set(ingress, built.status);
      for (const candidate of built.routes) ctx.routes.push(candidate);
      for (const candidate of built.defaults) ctx.defaultBackends.push(candidate);
    }
  },
};

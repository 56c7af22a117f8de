/**
 * Assembly: turns the processors' results into the CompiledConfig, the
 * statuses and the problem list, everything sorted so that equal input gives
 * byte-identical output. Only upstreams and plugins that a route uses are
 * emitted.
 */
import {
  SCHEMA_VERSION,
  type CompiledConfig,
  type PluginInstance,
  type Route,
  type Upstream,
  type VirtualHost,
} from '../../contract/compiled-config.js';
import { regexOfPath } from '../../contract/validate.js';
import type { TranslateContext } from './context.js';
import { pluginStatuses } from './plugin-statuses.js';
import type { ObjectRef, TranslateProblem } from './problem-codes.js';
import { compareStrings } from './read.js';
import type { IngressStatus, TranslateStatuses } from './statuses.js';

/**
 * Exact and Prefix routes by path; regex routes after them, as they came
 * (oldest Ingress first, in rule order; the sort is stable). The proxy tries
 * regexes in config order, so sorting them by their text would let a newer
 * namespace's `~/pay(ments)/.*` outrank an older one's `~/payments/.*`.
 */
function byRouteOrder(a: Route, b: Route): number {
  const regexA = regexOfPath(a) !== undefined;
  const regexB = regexOfPath(b) !== undefined;
  if (regexA || regexB) return regexA === regexB ? 0 : regexA ? 1 : -1;
  return (
    compareStrings(a.path, b.path) || compareStrings(a.pathType, b.pathType) || compareStrings(a.id, b.id)
  );
}

export function assembleConfig(ctx: TranslateContext): CompiledConfig {
  const hosts = new Map<string, Route[]>();
  for (const { host, route } of ctx.routes) {
    const list = hosts.get(host);
    if (list) list.push(route);
    else hosts.set(host, [route]);
  }
  // A host whose routes are all unchanged keeps its VirtualHost object, and so its cached JSON.
  // sort() without a comparator orders strings by UTF-16 code units, as compareStrings does, and faster.
  const virtualHosts: VirtualHost[] = [...hosts.keys()].sort().map((host) => {
    const routes = hosts.get(host)!;
    return ctx.memo.use('virtual-host', host, routes, ctx.problems, () => ({
      host,
      routes: [...routes].sort(byRouteOrder),
    }));
  });

  const defaultBackend = ctx.defaultBackend?.route;
  // One pass, no intermediate arrays: there are tens of thousands of routes.
  const upstreamNames = new Set<string>();
  const pluginIds = new Set<string>();
  const use = (route: Route) => {
    upstreamNames.add(route.upstream);
    for (const id of route.plugins) pluginIds.add(id);
  };
  for (const { route } of ctx.routes) use(route);
  if (defaultBackend) use(defaultBackend);
  const upstreams: Upstream[] = [...upstreamNames]
    .sort(compareStrings)
    .map((name) => ctx.upstreams.get(name)!);
  const plugins: PluginInstance[] = [...pluginIds].sort(compareStrings).map((id) => {
    const p = ctx.plugins.get(id)!;
    return { id: p.id, name: p.name, config: p.config, source: p.ref };
  });

  return {
    schemaVersion: SCHEMA_VERSION,
    certificates: ctx.certificates,
    ...(ctx.defaultCertificate ? { defaultCertificate: ctx.defaultCertificate } : {}),
    virtualHosts,
    ...(defaultBackend ? { defaultBackend } : {}),
    upstreams,
    plugins,
    applications: [...ctx.applications].sort((a, b) => compareStrings(a.id, b.id)),
  };
}

const byNamespacedName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
  compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name);

export function assembleStatuses(ctx: TranslateContext): TranslateStatuses {
  // In namespace/name order without sorting: scope keeps the Ingresses in that order too.
  const ingresses: IngressStatus[] = [];
  for (const ingress of ctx.index.ingressesByName) {
    const status = ctx.ingressStatuses.get(ingress);
    if (status) ingresses.push(status);
  }
  return {
    ingresses,
    applications: [...ctx.applicationStatuses].sort(byNamespacedName),
    applicationRegistrations: [...ctx.registrationStatuses].sort(byNamespacedName),
    plugins: pluginStatuses(ctx),
  };
}

function refKey(ref: ObjectRef | undefined): string {
  return ref ? `${ref.namespace ?? ''}\u0000${ref.kind}\u0000${ref.name}` : '';
}

/** Sorted by the first object named, then code and message; exact repeats removed. */
export function assembleProblems(ctx: TranslateContext): TranslateProblem[] {
  const seen = new Set<string>();
  const unique = ctx.problems.filter((p) => {
    const k = JSON.stringify(p);
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return unique.sort(
    (a, b) =>
      compareStrings(refKey(a.objects[0]), refKey(b.objects[0])) ||
      compareStrings(a.code, b.code) ||
      compareStrings(a.message, b.message),
  );
}

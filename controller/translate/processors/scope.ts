/**
 * Scope: keeps the objects translate may look at (well-formed metadata, in a
 * watched namespace) and indexes them. Later processors never read the raw
 * snapshot, so nothing outside the watched namespaces can leak in, and input
 * order cannot change the output.
 */
import { addProblem, key, type Processor, type TranslateContext } from '../context.js';
import type { EndpointSlice, Ingress, KubeObject } from '../k8s-types.js';
import { arr, creationTime, label, record, str } from '../read.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The well-formed objects of one kind, in scope, sorted by namespace/name. */
function inScope<T extends KubeObject>(
  ctx: TranslateContext,
  kind: string,
  items: unknown,
  namespaced: boolean,
): T[] {
  // Sort keys are read once into one shape of record, and cached per object
  // (objects are never modified): a comparator that reads the objects' own
  // metadata (of many shapes) is several times slower.
  const kept: { key: string; item: T }[] = [];
  for (const item of arr<unknown>(items)) {
    const meta = record(record(item)?.metadata);
    const name = str(meta?.name);
    const namespace = str(meta?.namespace);
    if (!name || (namespaced && !namespace)) {
      addProblem(
        ctx,
        'OBJECT_MALFORMED',
        `a ${kind} has no metadata.name${namespaced ? ' or namespace' : ''}`,
        [{ kind, name: name ?? '(unnamed)' }],
      );
      continue;
    }
    if (namespaced && ctx.options.watchNamespaces && !ctx.options.watchNamespaces.has(namespace!)) continue;
    let key = SORT_KEYS.get(item as object);
    // NUL sorts before every character names can hold: namespace, then name.
    if (key === undefined) SORT_KEYS.set(item as object, (key = `${namespace ?? ''}\u0000${name}`));
    kept.push({ key, item: item as T });
  }
  kept.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return kept.map((k) => k.item);
}

/** `namespace NUL name` by object. */
const SORT_KEYS = new WeakMap<object, string>();

/** Parsed timestamps by object: objects are never modified, and most are the same from one call to the next. */
const CREATION_TIMES = new WeakMap<KubeObject, number>();

/** Sorted by creationTimestamp, then namespace/name (the input is already in name order; sort is stable). */
function oldestFirst<T extends KubeObject>(items: T[]): T[] {
  const timed = items.map((item) => {
    let time = CREATION_TIMES.get(item);
    if (time === undefined) CREATION_TIMES.set(item, (time = creationTime(item)));
    return { time, item };
  });
  // Equal times (manifests have none) keep the name order. `||` makes -Inf - -Inf (NaN) a tie.
  timed.sort((a, b) => a.time - b.time || 0);
  return timed.map((t) => t.item);
}

function byKey<T extends KubeObject>(items: T[]): Map<string, T> {
  return new Map(items.map((item) => [key(item), item]));
}

/** One kind's objects in scope, sorted; recomputed only when the store's list for the kind changed. */
function scoped<T extends KubeObject, V>(
  ctx: TranslateContext,
  kind: string,
  items: unknown,
  namespaced: boolean,
  shape: (kept: T[]) => V,
): V {
  return ctx.memo.use(`scope:${kind}`, kind, [items], ctx.problems, () =>
    shape(inScope<T>(ctx, kind, items, namespaced)),
  );
}

function slicesByService(slices: EndpointSlice[]): Map<string, EndpointSlice[]> {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const service = label(slice, SERVICE_NAME_LABEL);
    if (!service) continue; // not managed for a Service: nothing routes to it
    const sliceKey = `${slice.metadata.namespace}/${service}`;
    const list = byService.get(sliceKey);
    if (list) list.push(slice);
    else byService.set(sliceKey, [slice]);
  }
  return byService;
}

const same = <T>(items: T[]): T[] => items;

export const scopeProcessor: Processor = {
  name: 'scope',
  run(ctx) {
    const s = ctx.snapshot;
    const index = ctx.index;
    const ingresses = scoped(ctx, 'Ingress', s.ingresses, true, (byName: Ingress[]) => ({
      byName,
      byAge: oldestFirst(byName),
    }));
    index.ingresses = ingresses.byAge;
    index.ingressesByName = ingresses.byName;
    index.ingressClasses = scoped(ctx, 'IngressClass', s.ingressClasses, false, byKey);
    index.services = scoped(ctx, 'Service', s.services, true, byKey);
    index.secrets = scoped(ctx, 'Secret', s.secrets, true, byKey);
    index.kongPlugins = scoped(ctx, 'KongPlugin', s.kongPlugins, true, byKey);
    index.kongClusterPlugins = scoped(ctx, 'KongClusterPlugin', s.kongClusterPlugins, false, byKey);
    index.applications = scoped(ctx, 'Application', s.applications, true, byKey);
    index.applicationRegistrations = scoped(
      ctx,
      'ApplicationRegistration',
      s.applicationRegistrations,
      true,
      same,
    );
    index.endpointSlices = scoped(ctx, 'EndpointSlice', s.endpointSlices, true, slicesByService);
  },
};

/**
 * The `Programmed` condition of each KongPlugin and KongClusterPlugin that
 * this controller uses, as Kong's controller (KIC 2.11 and later) writes it:
 *
 * - True, reason `Programmed`: the plugin is in the config as written (a
 *   disabled one too: Kong's controller sends it with `enabled: false`).
 * - False, reason `Invalid`: translate reported a problem that leaves it, or
 *   the routes using it, out of service; the message lists the problems.
 * - False, reason `Pending`: valid, but no route in the config uses it (KIC
 *   reports a plugin that is not in the config it sent as Pending).
 *
 * Only plugins our Ingresses or their Services reference, and global ones of
 * our class, get a condition: a plugin no route of ours names may belong to
 * another controller, so it is left alone.
 */
import type { TranslateContext } from './context.js';
import { PROBLEM_CODES, type ObjectRef, type TranslateProblem } from './problem-codes.js';
import { compareStrings } from './read.js';
import type { PluginStatus, StatusCondition } from './statuses.js';

export interface ProgrammedInput {
  ingressClass: string;
  disabled: boolean;
  /** Messages of the problems that name the plugin and take something out of service. */
  failures: readonly string[];
  /** Routes in the config that run it. */
  routes: number;
  generation?: number;
}

/** Room for several problems, well under the 32768 characters a condition message may hold. */
const MAX_MESSAGE = 4096;

export function programmedCondition(input: ProgrammedInput): StatusCondition {
  const gen = input.generation === undefined ? {} : { observedGeneration: input.generation };
  const of = `ingress class ${input.ingressClass}`;
  if (input.failures.length > 0) {
    const message = `${of}: ${input.failures.join('; ')}`;
    return {
      type: 'Programmed',
      status: 'False',
      reason: 'Invalid',
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
      ...gen,
    };
  }
  if (input.disabled) {
    return {
      type: 'Programmed',
      status: 'True',
      reason: 'Programmed',
      message: `${of}: disabled, runs on no route`,
      ...gen,
    };
  }
  if (input.routes === 0) {
    return {
      type: 'Programmed',
      status: 'False',
      reason: 'Pending',
      message: `${of}: valid, but no route in the config uses it`,
      ...gen,
    };
  }
  return {
    type: 'Programmed',
    status: 'True',
    reason: 'Programmed',
    message: `${of}: in the config, used by ${input.routes} route${input.routes === 1 ? '' : 's'}`,
    ...gen,
  };
}

/** A problem counts against a plugin when it takes something out of service (not a warning, not an ignored label). */
function isFailure(problem: TranslateProblem): boolean {
  const effect = PROBLEM_CODES[problem.code].effect;
  return effect === 'unavailable' || effect === 'dropped';
}

const refKey = (r: ObjectRef) => `${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}`;

export function pluginStatuses(ctx: TranslateContext): PluginStatus[] {
  if (ctx.plugins.size === 0) return [];
  const routes = new Map<string, number>();
  const count = (ids: readonly string[]) => {
    for (const id of ids) routes.set(id, (routes.get(id) ?? 0) + 1);
  };
  for (const { route } of ctx.routes) count(route.plugins);
  if (ctx.defaultBackend) count(ctx.defaultBackend.route.plugins);

  const failures = new Map<string, string[]>();
  for (const problem of ctx.problems) {
    if (!isFailure(problem)) continue;
    for (const object of problem.objects) {
      if (object.kind !== 'KongPlugin' && object.kind !== 'KongClusterPlugin') continue;
      const list = failures.get(refKey(object)) ?? [];
      if (!list.includes(problem.message)) list.push(problem.message);
      failures.set(refKey(object), list);
    }
  }

  const statuses: PluginStatus[] = [];
  for (const plugin of ctx.plugins.values()) {
    const kind = plugin.ref.kind as PluginStatus['kind'];
    const object =
      kind === 'KongPlugin'
        ? ctx.index.kongPlugins.get(plugin.id)
        : ctx.index.kongClusterPlugins.get(plugin.id);
    const generation = object?.metadata.generation;
    const condition = programmedCondition({
      ingressClass: ctx.options.ingressClass,
      disabled: plugin.disabled,
      failures: failures.get(refKey(plugin.ref)) ?? [],
      routes: routes.get(plugin.id) ?? 0,
      ...(typeof generation === 'number' ? { generation } : {}),
    });
    statuses.push({
      kind,
      ...(plugin.ref.namespace !== undefined ? { namespace: plugin.ref.namespace } : {}),
      name: plugin.ref.name,
      conditions: [condition],
    });
  }
  return statuses.sort(
    (a, b) =>
      compareStrings(a.kind, b.kind) ||
      compareStrings(a.namespace ?? '', b.namespace ?? '') ||
      compareStrings(a.name, b.name),
  );
}

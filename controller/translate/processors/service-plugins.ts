/**
 * Service-scoped plugins: Kong attaches application-registration to a
 * Service, so the Service's ACL is the same whichever route reaches it. Here
 * it is attached to routes (Ingress or Service annotations, global
 * plugins), so every route to one Service must carry the same
 * application-registration config, or none of them may. When they disagree
 * nobody can tell which route is right: each of them answers 503 until
 * they agree (a route without the ACL would otherwise be a way around it).
 */
import { stringify } from 'safe-stable-stringify';
import type { Route } from '../../../contract/compiled-config.js';
import { pluginConfigWithDefaults } from '../../../contract/plugins.js';
import { addProblem, type CandidateRoute, type Processor, type TranslateContext } from '../context.js';
import { compareStrings, refOf } from '../read.js';
import { ingressConditions, type IngressStatus } from '../statuses.js';

const PLUGIN = 'application-registration';
const CODE = 'APPLICATION_REGISTRATION_DISAGREEMENT';

export const servicePluginsProcessor: Processor = {
  name: 'service-plugins',
  run(ctx) {
    const signatures = new Map<string, string>();
    const signatureOf = (route: Route): string => {
      const parts: string[] = [];
      for (const id of route.plugins) {
        const plugin = ctx.plugins.get(id);
        if (plugin?.name !== PLUGIN) continue;
        let signature = signatures.get(id);
        // With Kong's defaults filled in: `{display_name: X}` and `{display_name: X, auto_approve: false}` agree.
        if (signature === undefined)
          signatures.set(id, (signature = stringify(pluginConfigWithDefaults(PLUGIN, plugin.config)) ?? ''));
        parts.push(signature);
      }
      return parts.join('\n');
    };
    // By Service: the candidates that serve it, and each distinct signature with a route carrying it.
    const byService = new Map<string, { candidates: CandidateRoute[]; signatures: Map<string, Route> }>();
    const all = ctx.defaultBackend ? [...ctx.routes, ctx.defaultBackend] : ctx.routes;
    for (const candidate of all) {
      const { route } = candidate;
      // A route already answering 503 is no way around anything.
      if (!route.service || route.unavailable) continue;
      let entry = byService.get(route.service);
      if (!entry) byService.set(route.service, (entry = { candidates: [], signatures: new Map() }));
      entry.candidates.push(candidate);
      const signature = signatureOf(route);
      if (!entry.signatures.has(signature)) entry.signatures.set(signature, route);
    }
    for (const [service, entry] of byService) {
      if (entry.signatures.size > 1) disagree(ctx, service, entry.candidates);
    }
  },
};

function disagree(ctx: TranslateContext, service: string, candidates: CandidateRoute[]): void {
  const described = candidates.map(({ route }) => {
    const ids = route.plugins.filter((id) => ctx.plugins.get(id)?.name === PLUGIN);
    return `${route.id} (${ids.length > 0 ? ids.join(', ') : 'none'})`;
  });
  const message = `the routes to Service ${service} do not agree on its application-registration plugin: ${described.join('; ')}`;
  const ingresses = [...new Set(candidates.map((c) => c.ingress))];
  const plugins = [
    ...new Set(
      candidates.flatMap((c) => c.route.plugins.filter((id) => ctx.plugins.get(id)?.name === PLUGIN)),
    ),
  ].sort(compareStrings);
  addProblem(ctx, CODE, message, [
    ...ingresses.map((i) => refOf('Ingress', i)),
    ...plugins.map((id) => ctx.plugins.get(id)!.ref),
  ]);
  const unavailable = { code: CODE, message };
  const replaced = new Map<CandidateRoute, CandidateRoute>();
  const copied = new Set<IngressStatus>();
  for (const candidate of candidates) {
    // New objects: the candidates and statuses are shared with the next translate.
    // Memoised: while the route and the disagreement are the same, so is the replacement
    // (what comes after reuses its work by identity).
    const replacement = ctx.memo.use(
      'service-plugins',
      candidate.route.id,
      [candidate.route, message],
      [],
      () => ({
        ...candidate,
        route: { ...candidate.route, plugins: [], unavailable } satisfies Route,
      }),
    );
    replaced.set(candidate, replacement);
    let status = ctx.ingressStatuses.get(candidate.ingress)!;
    if (!copied.has(status)) {
      status = { ...status, paths: [...status.paths] };
      copied.add(status);
      ctx.ingressStatuses.set(candidate.ingress, status);
    }
    const path = status.paths[candidate.pathIndex];
    if (path) status.paths[candidate.pathIndex] = { ...path, state: 'Unavailable', reason: CODE, message };
    status.conditions = ingressConditions(status);
  }
  ctx.routes = ctx.routes.map((c) => replaced.get(c) ?? c);
  if (ctx.defaultBackend) ctx.defaultBackend = replaced.get(ctx.defaultBackend) ?? ctx.defaultBackend;
}

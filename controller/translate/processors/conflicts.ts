/**
 * Conflicts: settles routes that claim the same place, oldest Ingress first
 * (creationTimestamp, then namespace/name; within one Ingress, rule order).
 *
 * - Across namespaces, a host and path string belong to the namespace of the
 *   oldest Ingress that claims them; later claims from other namespaces are
 *   left out (ROUTE_CONFLICT), whatever their pathType, methods or header and
 *   SNI conditions, so no namespace can take over another's path with a more
 *   specific match.
 * - Within a namespace, several routes may share a host and path when their
 *   pathType, methods, or header and SNI conditions differ (the proxy tries
 *   the ones with conditions first); exact repeats are left out
 *   (ROUTE_DUPLICATE).
 * - Only one Ingress's spec.defaultBackend can be the default backend.
 */
import { addProblem, type CandidateRoute, type Processor } from '../context.js';
import type { ProblemCode } from '../problem-codes.js';
import { refOf } from '../read.js';
import { ingressConditions, type IngressStatus } from '../statuses.js';

function describe(candidate: CandidateRoute): string {
  return `Ingress ${candidate.ingress.metadata.namespace}/${candidate.ingress.metadata.name}`;
}

export const conflictsProcessor: Processor = {
  name: 'conflicts',
  run(ctx) {
    // By `host path`: the first claim (the owner) and every kept route of that claim.
    const claims = new Map<string, { owner: CandidateRoute; kept: CandidateRoute[] }>();
    const kept: CandidateRoute[] = [];
    const copied = new Set<IngressStatus>();
    // What besides the path tells two routes apart (the settings are sorted, so equal ones look equal).
    const matchOf = (c: CandidateRoute) =>
      JSON.stringify([c.route.pathType, c.route.methods ?? [], c.route.headers ?? [], c.route.snis ?? []]);
    const reject = (loser: CandidateRoute, winner: CandidateRoute, code: ProblemCode, what: string) => {
      const same = loser.ingress === winner.ingress;
      const by = same ? 'an earlier path of the same Ingress' : `older ${describe(winner)}`;
      const message = `${what} is already claimed by ${by} (route ${winner.route.id})`;
      const objects = [refOf('Ingress', loser.ingress), ...(same ? [] : [refOf('Ingress', winner.ingress)])];
      addProblem(ctx, code, `route ${loser.route.id}: ${message}`, objects);
      // A copy: the status is shared with the next translate, where this conflict may be gone.
      let status = ctx.ingressStatuses.get(loser.ingress)!;
      if (!copied.has(status)) {
        status = { ...status, paths: [...status.paths] };
        copied.add(status);
        ctx.ingressStatuses.set(loser.ingress, status);
      }
      const { routeId: _, ...path } = status.paths[loser.pathIndex]!;
      status.paths[loser.pathIndex] = { ...path, state: 'Conflicted', reason: code, message };
      status.conditions = ingressConditions(status);
    };

    // ctx.routes is already oldest first, in rule order.
    for (const candidate of ctx.routes) {
      const { route, host } = candidate;
      const claim = claims.get(candidate.claim);
      if (!claim) {
        claims.set(candidate.claim, { owner: candidate, kept: [candidate] });
        kept.push(candidate);
        continue;
      }
      if (claim.owner.ingress.metadata.namespace !== candidate.ingress.metadata.namespace) {
        reject(candidate, claim.owner, 'ROUTE_CONFLICT', `host ${host} path ${route.path}`);
        continue;
      }
      // An exact repeat: same pathType, methods and conditions as a route already kept for this claim.
      const match = matchOf(candidate);
      const first = claim.kept.find((k) => matchOf(k) === match);
      if (first) {
        reject(candidate, first, 'ROUTE_DUPLICATE', `host ${host} path ${route.path} (${route.pathType})`);
        continue;
      }
      claim.kept.push(candidate);
      kept.push(candidate);
    }
    ctx.routes = kept;

    const [winner, ...losers] = ctx.defaultBackends;
    ctx.defaultBackend = winner;
    for (const loser of losers) reject(loser, winner!, 'DEFAULT_BACKEND_CONFLICT', 'the default backend');
  },
};

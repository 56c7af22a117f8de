/**
 * The route table: built once per CompiledConfig, then shared read-only by
 * every request that started while that config was current.
 *
 * Hosts follow the networking.k8s.io/v1 Ingress spec: an exact name, a
 * `*.` wildcard standing for exactly one leftmost label, or `*` for every
 * host. A request tries its exact host, then the wildcard for its parent
 * domain, then `*`, then the default backend; a level whose paths do not
 * match falls through to the next (once a narrowed route turned the request
 * away, only to routes of that route's namespace). Each level is one hash
 * lookup, so the number of hosts never changes the cost of a match.
 */
import type { CompiledConfig, Route } from '../../contract/compiled-config.js';
import { allowsMethod, namespaceOf, PathTable, type RouteMatch, type TurnedAway } from './path-table.js';
import { conditionsOf, meetsConditions, type Conditions, type RequestHeaders } from './route-conditions.js';

export type { RouteMatch } from './path-table.js';
export type { RequestHeaders } from './route-conditions.js';

const CATCH_ALL = '*';
const WILDCARD_PREFIX = '*.';

export class RouteTable {
  readonly #exactHosts: ReadonlyMap<string, PathTable>;
  /** Keyed by the parent domain: `*.example.com` is stored as `example.com`. */
  readonly #wildcardHosts: ReadonlyMap<string, PathTable>;
  readonly #catchAll: PathTable | undefined;
  readonly #defaultBackend: Route | undefined;
  readonly #defaultConditions: Conditions | undefined;

  private constructor(
    exactHosts: ReadonlyMap<string, PathTable>,
    wildcardHosts: ReadonlyMap<string, PathTable>,
    catchAll: PathTable | undefined,
    defaultBackend: Route | undefined,
  ) {
    this.#exactHosts = exactHosts;
    this.#wildcardHosts = wildcardHosts;
    this.#catchAll = catchAll;
    this.#defaultBackend = defaultBackend;
    this.#defaultConditions = defaultBackend && conditionsOf(defaultBackend);
  }

  /**
   * Indexes a validated config. Throws PCS_CONFIG_INVALID for a regex path
   * that does not compile, so that a bad push leaves the current table alone.
   */
  static build(config: CompiledConfig): RouteTable {
    // Validation forbids duplicate hosts; merging them anyway keeps config order.
    const routesByHost = new Map<string, Route[]>();
    for (const vhost of config.virtualHosts) {
      const host = vhost.host.toLowerCase();
      const routes = routesByHost.get(host);
      if (routes === undefined) routesByHost.set(host, [...vhost.routes]);
      else routes.push(...vhost.routes);
    }
    const exactHosts = new Map<string, PathTable>();
    const wildcardHosts = new Map<string, PathTable>();
    let catchAll: PathTable | undefined;
    for (const [host, routes] of routesByHost) {
      const table = new PathTable(host, routes);
      if (host === CATCH_ALL) catchAll = table;
      else if (host.startsWith(WILDCARD_PREFIX)) wildcardHosts.set(host.slice(WILDCARD_PREFIX.length), table);
      else exactHosts.set(host, table);
    }
    return new RouteTable(exactHosts, wildcardHosts, catchAll, config.defaultBackend);
  }

  /**
   * The route for a request, or undefined (404). `host` must come from
   * normalizeHost and `path` from normalizeRequestTarget; `method` is
   * compared case-sensitively, as HTTP methods are. `headers` and `sni` (the
   * TLS server name; undefined on plain http) are read only for routes with
   * header or SNI conditions.
   */
  match(
    host: string,
    path: string,
    method: string,
    headers?: RequestHeaders,
    sni?: string,
  ): RouteMatch | undefined {
    // A string: a narrowed route of that namespace turned the request away, so
    // the next levels may answer only with that namespace's routes.
    let owner: TurnedAway | undefined;
    const exact = this.#exactHosts.get(host)?.match(path, method, headers, sni);
    if (typeof exact === 'object') return exact;
    owner = exact;
    if (this.#wildcardHosts.size > 0) {
      // The wildcard covers exactly one label, so only the parent domain is looked up.
      const dot = host.indexOf('.');
      if (dot > 0) {
        const wildcard = this.#wildcardHosts
          .get(host.slice(dot + 1))
          ?.match(path, method, headers, sni, owner);
        if (typeof wildcard === 'object') return wildcard;
        owner ??= wildcard;
      }
    }
    const any = this.#catchAll?.match(path, method, headers, sni, owner);
    if (typeof any === 'object') return any;
    owner ??= any;
    const fallback = this.#defaultBackend;
    if (fallback === undefined || !allowsMethod(fallback.methods, method)) return undefined;
    if (owner !== undefined && namespaceOf(fallback) !== owner) return undefined;
    const conditions = this.#defaultConditions;
    return conditions === undefined || meetsConditions(conditions, headers, sni)
      ? { route: fallback, vhost: '', matchedPrefix: '' }
      : undefined;
  }
}

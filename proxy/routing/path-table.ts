/**
 * The routes of one virtual host, indexed for matching a normalised path.
 *
 * Precedence follows the networking.k8s.io/v1 Ingress spec, with Kong's
 * regex paths slotted in: Exact, then `~` regex, then Prefix (longest first).
 * Exact and Prefix lookups are hash lookups, so their cost grows with the
 * number of segments in the request path, never with the number of routes.
 *
 * Routes for the same path are tried most specific first (route-conditions.ts):
 * one with header or SNI conditions before one without of the same
 * namespace, then in config order (oldest Ingress first). A request that
 * meets no route's conditions there goes on to the next regex or shorter
 * prefix of the same namespace only (TurnedAway), stricter than Kong, which
 * falls through to any route.
 */
import { PortcullisError } from '../../common/errors.js';
import type { Route } from '../../contract/compiled-config.js';
import { regexOfPath } from '../../contract/validate.js';
import { routePathKey } from '../../common/normalize-path.js';
import { conditionsOf, meetsConditions, type Conditions, type RequestHeaders } from './route-conditions.js';

/** The route a request matched, where it was found, and what part of the path it matched. */
export interface RouteMatch {
  route: Route;
  /** The virtual host's name as configured (`api.example.com`, `*.example.com`, `*`); '' for the default backend. */
  vhost: string;
  /**
   * The leading part of the path the route matched, for strip-path: the whole
   * path for Exact, the regex match for regex routes, and for Prefix the
   * path's leading elements equal to the prefix without its trailing slash
   * (`/` for the root prefix).
   */
  matchedPrefix: string;
}

/**
 * What match() gives when a route of this namespace had the request's path
 * and method but not its headers or SNI: the request may then fall through
 * only to routes of the same namespace (on this host, or the next host
 * level), never to another namespace's, which would receive a request (and
 * its Authorization header and cookies) meant for a narrowed route. No
 * route then answers 404.
 */
export type TurnedAway = string;

interface Candidate {
  route: Route;
  /** Undefined when the route takes every method. */
  methods: readonly string[] | undefined;
  /** Undefined when the route has no header or SNI condition. */
  conditions: Conditions | undefined;
}

interface RegexCandidate extends Candidate {
  regex: RegExp;
}

const SLASH = 0x2f;

/** Whether a route with these methods (undefined or empty: any) takes `method`. */
export function allowsMethod(methods: readonly string[] | undefined, method: string): boolean {
  return methods === undefined || methods.length === 0 || methods.includes(method);
}

/** The routes indexed under one key, by how they use it. */
interface Entry {
  /** Exact routes whose path is the key. */
  exact: Candidate[] | undefined;
  /** Prefix routes whose prefix, without its trailing slash, is the key (`/` for the root). */
  prefix: Candidate[] | undefined;
}

export class PathTable {
  readonly #vhost: string;
  // One map for both kinds: a request path without a trailing slash is both
  // the Exact key and the longest Prefix key, so one probe serves both.
  readonly #paths = new Map<string, Entry>();
  readonly #regexes: RegexCandidate[] = [];

  /** Indexes `routes` (in config order) for the virtual host named `vhost`; throws on an invalid regex. */
  constructor(vhost: string, routes: Iterable<Route>) {
    this.#vhost = vhost;
    for (const route of routes) this.#add(route);
  }

  /**
   * The first route matching `path` (already normalised), `method`, and the
   * request's headers and TLS server name (undefined: none or plain http), by
   * Ingress precedence.
   */
  match(
    path: string,
    method: string,
    headers?: RequestHeaders,
    sni?: string,
    owner?: string,
  ): RouteMatch | TurnedAway | undefined {
    const entry = this.#paths.get(path);
    if (entry?.exact !== undefined) {
      const route = firstAllowing(entry.exact, method, headers, sni, owner);
      if (route !== undefined) return this.#result(route, path);
      owner ??= turnedAwayBy(entry.exact, method);
    }
    // Kong orders regex routes by an explicit priority that the CompiledConfig
    // does not carry; the order translate emits them in (oldest Ingress
    // first) stands in for it, so the first regex that matches wins.
    for (const candidate of this.#regexes) {
      if (!allowsMethod(candidate.methods, method)) continue;
      if (owner !== undefined && namespaceOf(candidate.route) !== owner) continue;
      if (candidate.conditions !== undefined && !meetsConditions(candidate.conditions, headers, sni)) {
        if (owner === undefined && candidate.regex.test(path)) owner = namespaceOf(candidate.route);
        continue;
      }
      const found = candidate.regex.exec(path);
      if (found !== null) return this.#result(candidate.route, found[0]);
    }
    return this.#matchPrefix(path, method, headers, sni, entry, owner);
  }

  /**
   * Tries the path's own element prefixes, longest first (`/a/b/` → `/a/b`,
   * `/a`, `/`), so the cost follows the number of segments, not of routes.
   * `entry` is what the whole path already found.
   */
  #matchPrefix(
    path: string,
    method: string,
    headers: RequestHeaders | undefined,
    sni: string | undefined,
    entry: Entry | undefined,
    owner: string | undefined,
  ): RouteMatch | TurnedAway | undefined {
    let end = path.length > 1 && path.charCodeAt(path.length - 1) === SLASH ? path.length - 1 : path.length;
    for (;;) {
      const whole = end === path.length;
      const key = whole ? path : end === 0 ? '/' : path.slice(0, end);
      const candidates = (whole ? entry : this.#paths.get(key))?.prefix;
      if (candidates !== undefined) {
        const route = firstAllowing(candidates, method, headers, sni, owner);
        if (route !== undefined) return this.#result(route, key);
        owner ??= turnedAwayBy(candidates, method);
      }
      if (end <= 1) return owner;
      end = lastSlashBefore(path, end);
    }
  }

  #result(route: Route, matchedPrefix: string): RouteMatch {
    return { route, vhost: this.#vhost, matchedPrefix };
  }

  #add(route: Route): void {
    const candidate: Candidate = {
      route,
      methods: route.methods?.length ? route.methods : undefined,
      conditions: conditionsOf(route),
    };
    const source = regexOfPath(route);
    if (source !== undefined) {
      insertBySpecificity(this.#regexes, { ...candidate, regex: compileAnchored(route, source) });
      return;
    }
    const exact = route.pathType === 'Exact';
    const key = routePathKey(route.path, !exact);
    // A path that normalisation refuses (an encoded slash, say) can never
    // equal a normalised request path, so indexing it would be dead weight.
    if (key === undefined) return;
    const entry = this.#entry(key);
    if (exact) insertBySpecificity((entry.exact ??= []), candidate);
    else insertBySpecificity((entry.prefix ??= []), candidate);
  }

  #entry(key: string): Entry {
    let entry = this.#paths.get(key);
    if (entry === undefined) {
      entry = { exact: undefined, prefix: undefined };
      this.#paths.set(key, entry);
    }
    return entry;
  }
}

/** Kong anchors regex paths at the start of the path; the group keeps `a|b` anchored as a whole. */
function compileAnchored(route: Route, source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})`);
  } catch (error) {
    // Validation rejects these first; failing the build keeps the last good table.
    throw new PortcullisError('PCS_CONFIG_INVALID', `route ${route.id}: invalid regular expression`, {
      cause: error,
    });
  }
}

/** The index of the last `/` before `end`; a plain loop, as `lastIndexOf` with a position is not inlined. */
function lastSlashBefore(path: string, end: number): number {
  let i = end - 1;
  while (i > 0 && path.charCodeAt(i) !== SLASH) i--;
  return i;
}

/** The namespace a route belongs to ('' for none), which fall-through never leaves once turned away. */
export function namespaceOf(route: Route): string {
  return route.source.namespace ?? '';
}

/** The first candidate that takes the request; with `owner`, only among that namespace's routes. */
function firstAllowing(
  candidates: readonly Candidate[],
  method: string,
  headers: RequestHeaders | undefined,
  sni: string | undefined,
  owner: string | undefined,
): Route | undefined {
  for (const candidate of candidates) {
    if (!allowsMethod(candidate.methods, method)) continue;
    if (owner !== undefined && namespaceOf(candidate.route) !== owner) continue;
    if (candidate.conditions === undefined || meetsConditions(candidate.conditions, headers, sni))
      return candidate.route;
  }
  return undefined;
}

/**
 * After firstAllowing found nothing: the namespace of a route that would
 * have taken the method but whose conditions the request failed, else
 * undefined. Run on misses only, so matching costs nothing more.
 */
function turnedAwayBy(candidates: readonly Candidate[], method: string): TurnedAway | undefined {
  for (const candidate of candidates) {
    if (candidate.conditions !== undefined && allowsMethod(candidate.methods, method))
      return namespaceOf(candidate.route);
  }
  return undefined;
}

const specificityOf = (candidate: Candidate) => candidate.conditions?.specificity ?? 0;

/**
 * Adds `candidate` after every candidate at least as specific, and never
 * before one of another namespace: config order is oldest Ingress first, and
 * specificity reorders only a namespace's own routes, so conditions cannot
 * let a newer namespace outrank an older one's route (a regex, say).
 */
function insertBySpecificity<C extends Candidate>(candidates: C[], candidate: C): void {
  const specificity = specificityOf(candidate);
  const namespace = candidate.route.source.namespace;
  let at = candidates.length;
  while (at > 0) {
    const before = candidates[at - 1]!;
    if (specificityOf(before) >= specificity || before.route.source.namespace !== namespace) break;
    at--;
  }
  candidates.splice(at, 0, candidate);
}

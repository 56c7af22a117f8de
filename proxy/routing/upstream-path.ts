/**
 * The path sent upstream for a matched route, with Kong's `strip_path` and
 * service `path` semantics.
 */
import type { Route } from '../../contract/compiled-config.js';

const SLASH = 0x2f;

/**
 * The upstream path (without query) for a request `path` that matched `route`
 * with `matchedPrefix` (see RouteMatch).
 *
 * 1. With `route.stripPath`, `matchedPrefix` is removed from the front of the
 *    path; what is left always starts with `/` and is at least `/`
 *    (`/foo` matched on `/foo/bar` → `/bar`; Exact `/foo` on `/foo` → `/`).
 *    A regex match may end inside a segment: `/foo/ba` on `/foo/bar` leaves
 *    `/r`, as in Kong.
 * 2. With `route.upstreamPath`, that path is joined in front with one slash
 *    between: `/api` + `/bar` → `/api/bar`, `/api/` + `/bar` → `/api/bar`.
 *    A bare `/` adds nothing, so the upstream path keeps its own trailing
 *    slash or lack of one: `/api` + `/` → `/api`, `/api/` + `/` → `/api/`.
 *
 * The caller appends the query untouched.
 */
export function upstreamPath(route: Route, path: string, matchedPrefix: string): string {
  let rest = path;
  if (route.stripPath && matchedPrefix !== '' && path.startsWith(matchedPrefix)) {
    rest = path.slice(matchedPrefix.length);
    if (rest.charCodeAt(0) !== SLASH) rest = '/' + rest;
  }
  const base = route.upstreamPath;
  if (base === undefined || base === '') return rest;
  if (rest === '/') return base;
  return base.charCodeAt(base.length - 1) === SLASH ? base + rest.slice(1) : base + rest;
}

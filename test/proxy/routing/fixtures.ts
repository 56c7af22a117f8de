/** Builders for the small CompiledConfigs the routing tests need. */
import {
  emptyConfig,
  type CompiledConfig,
  type PathType,
  type Route,
  type VirtualHost,
} from '../../../contract/compiled-config.js';
import { route as baseRoute } from '../../support/config-builder.js';

export const UPSTREAM = 'svc';

let nextId = 0;

/** A Route with schema-default timeouts and retries; `overrides` wins. */
export function route(path: string, pathType: PathType = 'Prefix', overrides: Partial<Route> = {}): Route {
  nextId += 1;
  return baseRoute(`route-${nextId}`, path, UPSTREAM, {
    pathType,
    timeouts: { connectMs: 60_000, readMs: 60_000, writeMs: 60_000 },
    retries: 5,
    source: { kind: 'Ingress', namespace: 'default', name: 'test' },
    ...overrides,
  });
}

export const exact = (path: string, overrides?: Partial<Route>): Route => route(path, 'Exact', overrides);
export const prefix = (path: string, overrides?: Partial<Route>): Route => route(path, 'Prefix', overrides);
/** A Kong-style regex route: ImplementationSpecific with a `~` path. */
export const regex = (source: string, overrides?: Partial<Route>): Route =>
  route(`~${source}`, 'ImplementationSpecific', overrides);

export const vhost = (host: string, routes: Route[]): VirtualHost => ({ host, routes });

/** A config with the given virtual hosts (and default backend), and the one upstream routes name. */
export function config(virtualHosts: VirtualHost[], defaultBackend?: Route): CompiledConfig {
  return {
    ...emptyConfig(),
    virtualHosts,
    ...(defaultBackend ? { defaultBackend } : {}),
    upstreams: [
      { name: UPSTREAM, protocol: 'http', targets: [], source: { kind: 'Service', name: UPSTREAM } },
    ],
  };
}

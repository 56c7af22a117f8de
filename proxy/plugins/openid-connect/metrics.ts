import { Counter, Histogram, register, type Registry } from 'prom-client';

export type IdpEndpoint = 'discovery' | 'jwks' | 'token' | 'introspection';
export type CacheName = 'token' | 'introspection' | 'grant';

/**
 * The plugin's metrics. Workers register them on prom-client's default
 * registry, which the primary aggregates across workers. Labels are
 * bounded: routes and plugin ids come from the config, methods and
 * outcomes from fixed lists.
 */
export class OidcMetrics {
  readonly #decisions: Counter<'route' | 'plugin' | 'method' | 'outcome'>;
  readonly #idpRequests: Counter<'issuer' | 'endpoint' | 'outcome'>;
  readonly #idpDuration: Histogram<'issuer' | 'endpoint'>;
  readonly #cache: Counter<'cache' | 'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#decisions = new Counter({
      name: 'portcullis_oidc_auth_decisions_total',
      help: 'openid-connect decisions by route, plugin instance, auth method and outcome (allowed or the reason refused).',
      labelNames: ['route', 'plugin', 'method', 'outcome'],
      registers,
    });
    this.#idpRequests = new Counter({
      name: 'portcullis_oidc_idp_requests_total',
      help: 'Requests to identity providers by issuer, endpoint and outcome (ok, error, timeout, unreachable).',
      labelNames: ['issuer', 'endpoint', 'outcome'],
      registers,
    });
    this.#idpDuration = new Histogram({
      name: 'portcullis_oidc_idp_request_duration_seconds',
      help: 'Time identity providers took to answer, by issuer and endpoint.',
      labelNames: ['issuer', 'endpoint'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#cache = new Counter({
      name: 'portcullis_oidc_cache_lookups_total',
      help: 'Cache lookups by cache (token, introspection, grant) and result (hit, miss).',
      labelNames: ['cache', 'result'],
      registers,
    });
  }

  /** Labelled children, bound once: prom-client's label lookup costs more than the increment on the request path. */
  readonly #bound = new Map<string, { inc(): void }>();

  decision(route: string, plugin: string, method: string, outcome: string): void {
    const key = `d\u0000${route}\u0000${plugin}\u0000${method}\u0000${outcome}`;
    let child = this.#bound.get(key);
    if (!child) {
      child = this.#decisions.labels({ route, plugin, method, outcome });
      this.#bound.set(key, child);
    }
    child.inc();
  }

  idpRequest(issuer: string, endpoint: IdpEndpoint, outcome: string, seconds: number): void {
    this.#idpRequests.inc({ issuer, endpoint, outcome });
    this.#idpDuration.observe({ issuer, endpoint }, seconds);
  }

  cache(cache: CacheName, hit: boolean): void {
    const key = `c\u0000${cache}\u0000${hit}`;
    let child = this.#bound.get(key);
    if (!child) {
      child = this.#cache.labels({ cache, result: hit ? 'hit' : 'miss' });
      this.#bound.set(key, child);
    }
    child.inc();
  }
}

let shared: OidcMetrics | undefined;

/** The worker's metrics, on prom-client's default registry. */
export function sharedOidcMetrics(): OidcMetrics {
  shared ??= new OidcMetrics(register);
  return shared;
}

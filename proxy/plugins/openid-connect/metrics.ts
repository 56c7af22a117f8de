import { Counter, Histogram, register, type Registry } from 'prom-client';
import { Tally } from '../metric-tally.js';

export type IdpEndpoint = 'discovery' | 'jwks' | 'token' | 'introspection' | 'userinfo';
export type CacheName = 'token' | 'introspection' | 'grant' | 'userinfo';

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
  readonly #decisionTally = new Tally<'route' | 'plugin' | 'method' | 'outcome'>();
  readonly #cacheTally = new Tally<'cache' | 'result'>();
  readonly #idpRefused: Counter<'route' | 'plugin' | 'reason'>;
  readonly #idpRefusedTally = new Tally<'route' | 'plugin' | 'reason'>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#decisions = new Counter({
      name: 'portcullis_oidc_auth_decisions_total',
      help: 'openid-connect decisions by route, plugin instance, auth method and outcome (allowed or the reason refused).',
      labelNames: ['route', 'plugin', 'method', 'outcome'],
      registers,
      collect: () => this.#decisionTally.flushInto(this.#decisions),
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
      collect: () => this.#cacheTally.flushInto(this.#cache),
    });
    this.#idpRefused = new Counter({
      name: 'portcullis_oidc_idp_calls_refused_total',
      help: 'Identity provider calls not made because a limit of the plugin instance was reached (reason: concurrency, rate); each answered 503.',
      labelNames: ['route', 'plugin', 'reason'],
      registers,
      collect: () => this.#idpRefusedTally.flushInto(this.#idpRefused),
    });
  }

  decision(route: string, plugin: string, method: string, outcome: string): void {
    this.#decisionTally.add(`${route}\u0000${plugin}\u0000${method}\u0000${outcome}`, () => ({
      route,
      plugin,
      method,
      outcome,
    }));
  }

  idpRequest(issuer: string, endpoint: IdpEndpoint, outcome: string, seconds: number): void {
    this.#idpRequests.inc({ issuer, endpoint, outcome });
    this.#idpDuration.observe({ issuer, endpoint }, seconds);
  }

  /** Counted as a tally: under a flood this runs for every refused request. */
  idpCallRefused(route: string, plugin: string, reason: 'concurrency' | 'rate'): void {
    this.#idpRefusedTally.add(`${route}\u0000${plugin}\u0000${reason}`, () => ({ route, plugin, reason }));
  }

  cache(cache: CacheName, hit: boolean): void {
    this.#cacheTally.add(hit ? `${cache} hit` : `${cache} miss`, () => ({
      cache,
      result: hit ? 'hit' : 'miss',
    }));
  }
}

let shared: OidcMetrics | undefined;

/** The worker's metrics, on prom-client's default registry. */
export function sharedOidcMetrics(): OidcMetrics {
  shared ??= new OidcMetrics(register);
  return shared;
}

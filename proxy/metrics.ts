import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; upstream answers on loopback take well under a millisecond, so the buckets start low. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

/**
 * Metrics each worker keeps about the traffic it serves. The primary sums
 * them across workers (prom-client's cluster aggregation) for /metrics.
 * Label values are bounded: route ids come from the config, unknown methods
 * collapse to OTHER.
 */
export class TrafficMetrics {
  readonly registry: Registry;
  readonly #requests: Counter<'route' | 'method' | 'status'>;
  readonly #duration: Histogram<'route'>;
  readonly #upstream: Histogram<'route'>;

  constructor(registry: Registry) {
    this.registry = registry;
    this.#requests = new Counter({
      name: 'portcullis_http_requests_total',
      help: 'Requests answered, by route id, method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'portcullis_http_request_duration_seconds',
      help: 'Time from request to the end of the response, by route id.',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.#upstream = new Histogram({
      name: 'portcullis_upstream_duration_seconds',
      help: 'Time from sending to the upstream to its response headers, by route id.',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.#requests.inc({ route, method: KNOWN_METHODS.has(method) ? method : 'OTHER', status });
    this.#duration.observe({ route }, seconds);
  }

  upstream(route: string, seconds: number): void {
    this.#upstream.observe({ route }, seconds);
  }
}

/** Metrics about config loading, kept by the primary process only. */
export class ConfigMetrics {
  readonly registry: Registry;
  readonly #generation: Gauge;
  readonly #info: Gauge<'hash'>;
  readonly #loaded: Gauge;
  readonly #rejected: Counter;

  /** `workerCount` is read at each scrape, so the gauge is never stale. */
  constructor(registry: Registry, workerCount: () => number) {
    this.registry = registry;
    this.#generation = new Gauge({
      name: 'portcullis_config_generation',
      help: 'Generation of the config in service; increases with every applied change.',
      registers: [registry],
    });
    this.#info = new Gauge({
      name: 'portcullis_config_info',
      help: 'Always 1; the hash label identifies the config in service.',
      labelNames: ['hash'],
      registers: [registry],
    });
    this.#loaded = new Gauge({
      name: 'portcullis_config_last_load_timestamp_seconds',
      help: 'Unix time of the last successful config load.',
      registers: [registry],
    });
    this.#rejected = new Counter({
      name: 'portcullis_config_rejected_pushes_total',
      help: 'Config pushes rejected as invalid.',
      registers: [registry],
    });
    new Gauge({
      name: 'portcullis_workers',
      help: 'Worker processes serving traffic.',
      registers: [registry],
      collect() {
        this.set(workerCount());
      },
    });
  }

  loaded(generation: number, hash: string): void {
    this.#generation.set(generation);
    this.#info.reset();
    this.#info.set({ hash }, 1);
    this.#loaded.set(Date.now() / 1000);
  }

  rejected(): void {
    this.#rejected.inc();
  }
}

/**
 * Concise builders for valid CompiledConfigs in integration tests.
 *
 *   const config = new ConfigBuilder()
 *     .upstream('echo', [echo.port])
 *     .route('root', '/', 'echo')
 *     .route('api', '/api', 'echo', { host: 'a.example.test', stripPath: true })
 *     .build();
 *
 * `build()` runs the proxy's own validation and throws on a mistake, so a
 * broken fixture fails loudly instead of testing a 400.
 */
import {
  SCHEMA_VERSION,
  type Application,
  type Certificate,
  type CompiledConfig,
  type PluginInstance,
  type Route,
  type Source,
  type Target,
  type Upstream,
} from '../../contract/compiled-config.js';
import { validateConfig } from '../../contract/validate.js';

export const LOOPBACK = '127.0.0.1';

export function source(kind: string, name: string, namespace = 'test'): Source {
  return { kind, namespace, name };
}

/** A target on loopback; a bare number is a port with weight 100. */
export function target(port: number, weight = 100, host = LOOPBACK): Target {
  return { host, port, weight };
}

export function upstream(
  name: string,
  targets: (number | Target)[],
  protocol: 'http' | 'https' = 'http',
): Upstream {
  return {
    name,
    protocol,
    targets: targets.map((t) => (typeof t === 'number' ? target(t) : t)),
    source: source('Service', name),
  };
}

/** A route with every required field set to a test-friendly default (short timeouts, 2 retries). */
export function route(id: string, path: string, upstreamName: string, overrides: Partial<Route> = {}): Route {
  return {
    id,
    path,
    pathType: 'Prefix',
    protocols: ['http', 'https'],
    httpsRedirectStatusCode: 426,
    stripPath: false,
    preserveHost: true,
    timeouts: { connectMs: 2_000, readMs: 5_000, writeMs: 5_000 },
    retries: 2,
    upstream: upstreamName,
    plugins: [],
    source: source('Ingress', id),
    ...overrides,
  };
}

export function certificate(id: string, hosts: string[], pem: { cert: string; key: string }): Certificate {
  return { id, hosts, cert: pem.cert, key: pem.key, source: source('Secret', id) };
}

/**
 * A plugin instance as the controller compiles it: `namespace/name` is a
 * KongPlugin of that namespace, a bare name a KongClusterPlugin (the session
 * key without `session_secret` depends on which).
 */
export function plugin(id: string, name: string, config: Record<string, unknown> = {}): PluginInstance {
  const slash = id.indexOf('/');
  const from =
    slash < 0
      ? { kind: 'KongClusterPlugin', name: id }
      : source('KongPlugin', id.slice(slash + 1), id.slice(0, slash));
  return { id, name, config, source: from };
}

export type RouteOptions = Partial<Route> & {
  /** Virtual host the route belongs to; `*` (every host) when absent. */
  host?: string;
};

export class ConfigBuilder {
  readonly #hosts = new Map<string, Route[]>();
  readonly #upstreams: Upstream[] = [];
  readonly #certificates: Certificate[] = [];
  readonly #plugins: PluginInstance[] = [];
  readonly #applications: Application[] = [];
  #defaultCertificate: string | undefined;
  #defaultBackend: Route | undefined;

  upstream(
    name: string,
    targets: (number | Target)[],
    protocol: 'http' | 'https' = 'http',
    extra: Pick<Upstream, 'tlsVerify'> = {},
  ): this {
    this.#upstreams.push({ ...upstream(name, targets, protocol), ...extra });
    return this;
  }

  route(id: string, path: string, upstreamName: string, options: RouteOptions = {}): this {
    const { host = '*', ...overrides } = options;
    const routes = this.#hosts.get(host) ?? [];
    routes.push(route(id, path, upstreamName, overrides));
    this.#hosts.set(host, routes);
    return this;
  }

  defaultBackend(id: string, upstreamName: string, overrides: Partial<Route> = {}): this {
    this.#defaultBackend = route(id, '/', upstreamName, overrides);
    return this;
  }

  certificate(id: string, hosts: string[], pem: { cert: string; key: string }, isDefault = false): this {
    this.#certificates.push(certificate(id, hosts, pem));
    if (isDefault) this.#defaultCertificate = id;
    return this;
  }

  plugin(id: string, name: string, config: Record<string, unknown> = {}): this {
    this.#plugins.push(plugin(id, name, config));
    return this;
  }

  /** An Application: `id` is `namespace/name`, `clientId` the IdP client id (Kong's custom_id). */
  application(
    id: string,
    clientId: string,
    approvedServices: string[] = [],
    refusedServices?: Application['refusedServices'],
  ): this {
    const [namespace = 'test', name = id] = id.split('/');
    this.#applications.push({
      id,
      clientId,
      approvedServices,
      ...(refusedServices && { refusedServices }),
      source: source('Application', name, namespace),
    });
    return this;
  }

  /** The config as is, without validation (for tests of rejected pushes). */
  buildUnchecked(): CompiledConfig {
    return {
      schemaVersion: SCHEMA_VERSION,
      certificates: [...this.#certificates],
      ...(this.#defaultCertificate !== undefined ? { defaultCertificate: this.#defaultCertificate } : {}),
      virtualHosts: [...this.#hosts].map(([host, routes]) => ({ host, routes: [...routes] })),
      ...(this.#defaultBackend ? { defaultBackend: this.#defaultBackend } : {}),
      upstreams: [...this.#upstreams],
      plugins: [...this.#plugins],
      applications: [...this.#applications],
    };
  }

  build(): CompiledConfig {
    const config = this.buildUnchecked();
    const result = validateConfig(config);
    if (!result.ok) throw new Error(`test config is invalid: ${JSON.stringify(result.problems)}`);
    return config;
  }
}

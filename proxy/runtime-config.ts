import type { CompiledConfig, Route } from '../contract/index.js';
import { pluginPriority, validatePluginConfig } from '../contract/plugins.js';
import './plugins/builtin.js';
import { pluginFactory, type PluginRuntime } from './plugins/registry.js';
import { RouteTable } from './routing/route-table.js';
import { CertificateStore, type PemPair } from './tls/certificate-store.js';
import { Balancer } from './traffic/balancer.js';

/** What one route needs at request time, resolved once per config. */
export interface RouteRuntime {
  balancer: Balancer;
  /** Plugin instances in execution order (Kong priority, highest first). */
  plugins: PluginRuntime[];
  /** Set when the route must not be served; it answers 503. */
  unavailable?: { code: string; message: string };
}

/**
 * Everything a worker derives from one CompiledConfig. Built off the request
 * path and swapped in with one reference assignment; a request captures it
 * once, so requests in flight finish on the config they started with.
 */
export class RuntimeConfig {
  readonly generation: number;
  readonly hash: string;
  readonly config: CompiledConfig;
  readonly routes: RouteTable;
  readonly certificates: CertificateStore;
  readonly #routes = new Map<Route, RouteRuntime>();
  /** Every upstream origin in this config, so connection pools of removed ones can close. */
  readonly origins = new Set<string>();

  constructor(config: CompiledConfig, hash: string, generation: number, fallbackPem: PemPair) {
    this.config = config;
    this.hash = hash;
    this.generation = generation;
    this.routes = RouteTable.build(config);
    this.certificates = CertificateStore.build(config, fallbackPem);

    const balancers = new Map(config.upstreams.map((u) => [u.name, new Balancer(u)]));
    for (const balancer of balancers.values())
      for (const origin of balancer.origins) this.origins.add(origin);
    const plugins = new Map(config.plugins.map((p) => [p.id, p]));
    const all = config.virtualHosts.flatMap((v) => v.routes);
    if (config.defaultBackend) all.push(config.defaultBackend);
    for (const route of all) {
      this.#routes.set(route, resolveRoute(route, balancers, plugins));
    }
  }

  runtimeOf(route: Route): RouteRuntime {
    const runtime = this.#routes.get(route);
    if (!runtime) throw new Error(`route ${route.id} is not part of generation ${this.generation}`);
    return runtime;
  }
}

function resolveRoute(
  route: Route,
  balancers: Map<string, Balancer>,
  instances: Map<string, CompiledConfig['plugins'][number]>,
): RouteRuntime {
  const balancer = balancers.get(route.upstream);
  // Validation guarantees the upstream exists; guard anyway rather than crash a worker.
  if (!balancer) throw new Error(`route ${route.id} names unknown upstream ${route.upstream}`);
  if (route.unavailable) return { balancer, plugins: [], unavailable: route.unavailable };

  const resolved: { priority: number; index: number; runtime: PluginRuntime }[] = [];
  for (const [index, id] of route.plugins.entries()) {
    const instance = instances.get(id);
    // The contract's check first: the controller applies the same one, so a config it let through is one the proxy accepts.
    const invalid = instance ? validatePluginConfig(instance.name, instance.config) : [];
    if (instance && invalid.length > 0 && pluginPriority(instance.name) !== undefined) {
      return {
        balancer,
        plugins: [],
        unavailable: { code: 'PLUGIN_CONFIG_INVALID', message: `plugin "${id}": ${invalid.join('; ')}` },
      };
    }
    const factory = instance && pluginFactory(instance.name);
    if (!instance || !factory) {
      return {
        balancer,
        plugins: [],
        unavailable: {
          code: 'PLUGIN_UNSUPPORTED',
          message: `plugin "${instance?.name ?? id}" is not supported by this proxy`,
        },
      };
    }
    const problems = factory.validate(instance.config);
    if (problems.length > 0) {
      return {
        balancer,
        plugins: [],
        unavailable: { code: 'PLUGIN_CONFIG_INVALID', message: `plugin "${id}": ${problems.join('; ')}` },
      };
    }
    resolved.push({
      priority: pluginPriority(instance.name) ?? factory.priority,
      index,
      runtime: factory.create(instance),
    });
  }
  resolved.sort((a, b) => b.priority - a.priority || a.index - b.index);
  return { balancer, plugins: resolved.map((r) => r.runtime) };
}

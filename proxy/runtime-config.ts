import type { CompiledConfig, PluginInstance, Route } from '../contract/index.js';
import { pluginPriority, validatePluginConfig } from '../contract/plugins.js';
import './plugins/builtin.js';
import {
  DEFAULT_PLUGIN_ENVIRONMENT,
  pluginFactory,
  type PluginEnvironment,
  type PluginRuntime,
} from './plugins/registry.js';
import { RouteTable } from './routing/route-table.js';
import { CertificateStore, type PemPair } from './tls/certificate-store.js';
import { Balancer } from './traffic/balancer.js';
import { OwnedNames, type PluginNames } from './traffic/owned-names.js';
import { UNVERIFIED, upstreamTls, type UpstreamTls } from './traffic/upstream-tls.js';

/** What one route needs at request time, resolved once per config. */
export interface RouteRuntime {
  balancer: Balancer;
  /** How to connect to the upstream's targets over TLS (unverified unless the upstream asks). */
  tls: UpstreamTls;
  /** Plugin instances in execution order (Kong priority, highest first). */
  plugins: PluginRuntime[];
  /** Header and cookie names the proxy owns on this route (never taken from a client). */
  owned: OwnedNames;
  /** Set when the route must not be served; it answers 503. */
  unavailable?: { code: string; message: string };
}

/**
 * Everything a worker derives from one CompiledConfig. Built off the request
 * path and swapped in with one reference assignment; a request captures it
 * once, so requests in flight finish on the config they started with.
 */
export class RuntimeConfig {
  /** 0 until `serveAs`: a config can be built (prepared) before the primary numbers it. */
  #generation = 0;
  readonly hash: string;
  readonly config: CompiledConfig;
  readonly routes: RouteTable;
  readonly certificates: CertificateStore;
  readonly #routes = new Map<Route, RouteRuntime>();
  /**
   * Every upstream origin in this config with its TLS settings (`origin|tls key`),
   * so connection pools of removed ones, or made with old trust settings, can close.
   */
  readonly origins = new Set<string>();

  constructor(
    config: CompiledConfig,
    hash: string,
    fallbackPem: PemPair,
    environment: PluginEnvironment = DEFAULT_PLUGIN_ENVIRONMENT,
  ) {
    this.config = config;
    this.hash = hash;
    this.routes = RouteTable.build(config);
    this.certificates = CertificateStore.build(config, fallbackPem);

    const balancers = new Map(
      config.upstreams.map((u) => [
        u.name,
        { balancer: new Balancer(u), tls: u.protocol === 'https' ? upstreamTls(u.tlsVerify) : UNVERIFIED },
      ]),
    );
    for (const { balancer, tls } of balancers.values())
      for (const origin of balancer.origins) this.origins.add(`${origin}|${tls.key}`);
    const instances = new Map(config.plugins.map((p) => [p.id, p]));
    const names = new Map(config.plugins.map((p) => [p.id, pluginNames(p)]));
    const owned = OwnedNames.forConfig(names.values());
    const routeOwned = (route: Route) =>
      route.plugins.length === 0 ? owned : owned.forRoute(route.plugins.flatMap((id) => names.get(id) ?? []));
    const resolvedPlugins = new Map<string, ResolvedPlugin>();
    const plugins = (id: string) => {
      let plugin = resolvedPlugins.get(id);
      if (!plugin) {
        plugin = resolvePlugin(instances.get(id), id, environment);
        resolvedPlugins.set(id, plugin);
      }
      return plugin;
    };
    // Routes with the same upstream and plugins share one (read-only) runtime:
    // tens of thousands of routes usually name a few thousand combinations.
    const shared = new Map<string, RouteRuntime>();
    const add = (route: Route) => {
      if (route.unavailable) {
        this.#routes.set(route, resolveRoute(route, balancers, plugins, owned));
        return;
      }
      const key =
        route.plugins.length === 0 ? route.upstream : `${route.upstream}\n${route.plugins.join('\n')}`;
      let runtime = shared.get(key);
      if (!runtime) shared.set(key, (runtime = resolveRoute(route, balancers, plugins, routeOwned(route))));
      this.#routes.set(route, runtime);
    };
    for (const host of config.virtualHosts) for (const route of host.routes) add(route);
    if (config.defaultBackend) add(config.defaultBackend);
  }

  get generation(): number {
    return this.#generation;
  }

  /** Numbers the config just before it is swapped in. */
  serveAs(generation: number): this {
    this.#generation = generation;
    return this;
  }

  runtimeOf(route: Route): RouteRuntime {
    const runtime = this.#routes.get(route);
    if (!runtime) throw new Error(`route ${route.id} is not part of generation ${this.generation}`);
    return runtime;
  }
}

type ResolvedPlugin =
  { runtime: PluginRuntime; priority: number } | { unavailable: { code: string; message: string } };

/**
 * Each plugin instance once per config, however many routes name it: its
 * config is checked with the contract's rules (the controller applies the
 * same ones) and its runtime built. A broken or unsupported one makes every
 * route naming it unavailable (fail closed).
 */
function resolvePlugin(
  instance: PluginInstance | undefined,
  id: string,
  environment: PluginEnvironment,
): ResolvedPlugin {
  // The contract's check first, for every plugin it knows: the controller applies the same one.
  const problems =
    instance && pluginPriority(instance.name) !== undefined
      ? validatePluginConfig(instance.name, instance.config)
      : [];
  if (problems.length > 0) {
    return {
      unavailable: { code: 'PLUGIN_CONFIG_INVALID', message: `plugin "${id}": ${problems.join('; ')}` },
    };
  }
  const factory = instance && pluginFactory(instance.name);
  if (!instance || !factory) {
    return {
      unavailable: {
        code: 'PLUGIN_UNSUPPORTED',
        message: `plugin "${instance?.name ?? id}" is not supported by this proxy`,
      },
    };
  }
  return {
    runtime: factory.create(instance, environment),
    priority: pluginPriority(instance.name) ?? factory.priority,
  };
}

function resolveRoute(
  route: Route,
  balancers: Map<string, { balancer: Balancer; tls: UpstreamTls }>,
  plugins: (id: string) => ResolvedPlugin,
  owned: OwnedNames,
): RouteRuntime {
  const upstream = balancers.get(route.upstream);
  // Validation guarantees the upstream exists; guard anyway rather than crash a worker.
  if (!upstream) throw new Error(`route ${route.id} names unknown upstream ${route.upstream}`);
  const { balancer, tls } = upstream;
  if (route.unavailable) return { balancer, tls, plugins: [], owned, unavailable: route.unavailable };

  const resolved: { priority: number; index: number; runtime: PluginRuntime }[] = [];
  for (const [index, id] of route.plugins.entries()) {
    const plugin = plugins(id);
    if ('unavailable' in plugin)
      return { balancer, tls, plugins: [], owned, unavailable: plugin.unavailable };
    resolved.push({ priority: plugin.priority, index, runtime: plugin.runtime });
  }
  resolved.sort((a, b) => b.priority - a.priority || a.index - b.index);
  return { balancer, tls, plugins: resolved.map((r) => r.runtime), owned };
}

/**
 * What an instance claims (see OwnedNames), valid or not: a broken
 * instance's routes are not served, but an upstream behind other routes may
 * still trust the headers it names.
 */
function pluginNames(instance: PluginInstance): PluginNames {
  try {
    return pluginFactory(instance.name)?.names?.(instance) ?? { headers: [], cookies: [] };
  } catch {
    return { headers: [], cookies: [] };
  }
}

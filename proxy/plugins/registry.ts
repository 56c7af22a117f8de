import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Application, CompiledConfig, PluginInstance, Route } from '../../contract/index.js';
import type { PluginNames } from '../traffic/owned-names.js';

/** What a plugin sees of the request it runs for, and the changes it asks for upstream. */
export interface PluginContext {
  route: Route;
  config: CompiledConfig;
  /** The normalised path: what routing and the upstream see. */
  path: string;
  /** The query string, with its leading `?`, or empty. */
  query: string;
  proto: 'http' | 'https';
  upstream: UpstreamChanges;
  /** Set by the authenticating plugin that let the request through: who it is. */
  principal?: Principal;
  /** Set by an authenticating plugin that let a CORS preflight through unchecked (`run_on_preflight: false`). */
  preflightSkipped?: boolean;
}

/** A caller an authenticating plugin verified, and the Application it maps to, if any. */
export interface Principal {
  /** The plugin instance that verified it. */
  plugin: string;
  /** From the config in service for this request, so its approvals are current. */
  application?: Application;
  /** Authentication failed and the plugin's `anonymous` Application stands in (Kong's anonymous consumer). */
  anonymous?: true;
}

/** Changes plugins make to the request sent upstream and to the response the client gets. */
export interface UpstreamChanges {
  /** Set on the upstream request after the proxy's own header rules ran (lower-case names). */
  setHeaders: Record<string, string>;
  removeHeaders: Set<string>;
  /** Cookies left out of the upstream Cookie header (a bearer token that came in one). */
  removeCookies?: string[];
  /** Replaces the query string sent upstream (with its `?`, or empty). */
  query?: string;
  /** Replaces the request body: a plugin read it (a form with credentials). */
  body?: Buffer;
  /** Added to the client's response, next to the upstream's own. */
  setCookies: string[];
  /**
   * Set on the client's response (lower-case names), replacing an upstream
   * header of the same name: the client must not see two values, or the
   * upstream's in place of ours. Not applied to WebSocket upgrade answers.
   */
  setResponseHeaders?: Record<string, string>;
}

export function emptyUpstreamChanges(): UpstreamChanges {
  return { setHeaders: {}, removeHeaders: new Set(), setCookies: [] };
}

/**
 * A plugin instance bound to one config. `access` runs before forwarding, in
 * Kong's priority order; it either lets the request continue (returns
 * `true`) or has answered it (returns `false`). A thrown error fails closed.
 */
export interface PluginRuntime {
  readonly name: string;
  access(request: FastifyRequest, reply: FastifyReply, context: PluginContext): Promise<boolean> | boolean;
}

export interface PluginFactory {
  readonly name: string;
  /** Kong's priority: higher runs first. */
  readonly priority: number;
  /** A runtime for an instance whose config passed the contract's `validatePluginConfig`. */
  create(instance: PluginInstance, environment: PluginEnvironment): PluginRuntime;
  /**
   * The header names an instance may set upstream and the cookies it keeps
   * in the browser: the proxy then removes them from every client request
   * on every route. Called for every instance in a config, valid or not, so
   * it must read the config defensively.
   */
  names?(instance: PluginInstance): PluginNames;
}

/**
 * The plugins this proxy can run. A route that names any other plugin is
 * never served: it answers 503 (fail closed), because serving it without
 * the plugin could skip authentication.
 */
const factories = new Map<string, PluginFactory>();

export function registerPlugin(factory: PluginFactory): void {
  factories.set(factory.name, factory);
}

export function pluginFactory(name: string): PluginFactory | undefined {
  return factories.get(name);
}

/** Bounds on the identity provider calls that unauthenticated clients can cause. */
export interface IdpCallLimits {
  /** Calls in flight at once. */
  concurrency: number;
  /** Sustained new calls per second (token bucket refill). */
  ratePerSecond: number;
  /** Calls allowed at once after a quiet period (token bucket size). */
  burst: number;
}

/**
 * What the proxy process tells every plugin it creates: settings from its
 * flags, passed down explicitly rather than kept in module globals.
 */
export interface PluginEnvironment {
  /** Per plugin instance per worker process. */
  idpCalls: IdpCallLimits;
  /** The process's logger, at its `--log-level`; plugins log through it, never a logger of their own. */
  log?: Logger;
}

/** The `portcullis proxy` defaults; see its `--oidc-idp-*` flags. */
export const DEFAULT_PLUGIN_ENVIRONMENT: PluginEnvironment = {
  idpCalls: { concurrency: 32, ratePerSecond: 50, burst: 100 },
};

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Application, PluginInstance } from '../../../contract/index.js';
import type { ApplicationRegistrationConfig } from '../../../contract/plugins/application-registration.js';
import type { PluginContext, PluginRuntime } from '../registry.js';
import { decide } from './decision.js';
import type { ApplicationRegistrationMetrics } from './metrics.js';

/** Kong's answers, word for word: clients written for Kong match on them. */
const UNAUTHORIZED = JSON.stringify({ message: 'Unauthorized' });
const FORBIDDEN = JSON.stringify({ message: 'You cannot consume this service' });

/** Each Application's approved Services as a set, built once per config (Applications are per config). */
const approvals = new WeakMap<Application, ReadonlySet<string>>();

function isApproved(application: Application, service: string): boolean {
  let services = approvals.get(application);
  if (!services) approvals.set(application, (services = new Set(application.approvedServices)));
  return services.has(service);
}

/**
 * One `application-registration` instance: after the authenticating plugin
 * (openid-connect runs first, by Kong's priority) has mapped the caller to
 * an Application, only an Application approved for the route's Service is
 * let through. It sets no header of its own: the X-Consumer-* headers the
 * authenticating plugin set name the Application. The reason for a refusal
 * goes to the log and the metric, never to the client.
 */
export class ApplicationRegistrationPlugin implements PluginRuntime {
  readonly name = 'application-registration';
  readonly #id: string;
  readonly #config: ApplicationRegistrationConfig;
  readonly #metrics: ApplicationRegistrationMetrics;
  readonly #log: Logger;

  constructor(
    instance: PluginInstance,
    config: ApplicationRegistrationConfig,
    metrics: ApplicationRegistrationMetrics,
    log: Logger,
  ) {
    this.#id = instance.id;
    this.#config = config;
    this.#metrics = metrics;
    this.#log = log;
  }

  access(_request: FastifyRequest, reply: FastifyReply, context: PluginContext): boolean {
    const service = context.route.service;
    const principal = context.principal;
    // The authenticating plugin was told to let CORS preflights through unchecked; so is this one.
    if (!principal && context.preflightSkipped) return true;
    const decision = decide(principal, service, this.#config, isApproved);
    const application = principal?.application?.id ?? '';
    const outcome = decision.allowed ? decision.outcome : decision.reason;
    this.#metrics.decision(context.route.id, service ?? '', application, outcome);
    if (decision.allowed) return true;
    // An audit event: an identity was refused a Service. Names only, never a credential.
    this.#log.info(
      {
        route: context.route.id,
        service,
        application: application || undefined,
        plugin: this.#id,
        reason: outcome,
      },
      'application refused',
    );
    reply.code(decision.status).header('content-type', 'application/json; charset=utf-8');
    reply.header('cache-control', 'no-store');
    // RFC 9110 §15.5.2: a 401 carries a challenge. No error code: no credential was judged here.
    if (decision.status === 401) reply.header('www-authenticate', 'Bearer realm="portcullis"');
    reply.send(decision.status === 401 ? UNAUTHORIZED : FORBIDDEN);
    return false;
  }
}

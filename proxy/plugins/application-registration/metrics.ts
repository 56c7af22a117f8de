import { Counter, register, type Registry } from 'prom-client';
import { Tally } from '../metric-tally.js';

type Label = 'route' | 'service' | 'application' | 'outcome';

/**
 * application-registration decisions. Labels are bounded by the config:
 * routes, Services and Applications come from it, outcomes from a fixed list.
 */
export class ApplicationRegistrationMetrics {
  readonly #decisions: Counter<Label>;
  readonly #tally = new Tally<Label>();

  constructor(registry: Registry) {
    this.#decisions = new Counter({
      name: 'portcullis_application_registration_decisions_total',
      help: 'application-registration decisions by route, Service, Application and outcome (allowed, consumer_credential or the reason refused).',
      labelNames: ['route', 'service', 'application', 'outcome'],
      registers: [registry],
      collect: () => this.#tally.flushInto(this.#decisions),
    });
  }

  decision(route: string, service: string, application: string, outcome: string): void {
    this.#tally.add(`${route}\u0000${service}\u0000${application}\u0000${outcome}`, () => ({
      route,
      service,
      application,
      outcome,
    }));
  }
}

let shared: ApplicationRegistrationMetrics | undefined;

/** One per worker process, on the default registry the primary aggregates. */
export function sharedApplicationRegistrationMetrics(): ApplicationRegistrationMetrics {
  shared ??= new ApplicationRegistrationMetrics(register);
  return shared;
}

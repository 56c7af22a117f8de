/**
 * What translate says about each object it serves, shaped for the status
 * writer. Translate decides; the writer only copies these into
 * `status.conditions` (Application, ApplicationRegistration) or into Events
 * and `status.loadBalancer` (Ingress, which has no conditions of its own).
 *
 * Conditions, for every object:
 * - `Accepted`: the object is understood and in the config (False: it, or
 *   part of it, was left out; the reason is the problem code).
 * - `Ready`: what it asks for is in effect (Ingress: every route is served,
 *   none answers 503; Application: every requested Service is approved;
 *   ApplicationRegistration: it grants access).
 * - `Programmed` (KongPlugin, KongClusterPlugin only, as Kong's controller
 *   writes it): the plugin is in the config as written; see plugin-statuses.ts.
 */
export interface StatusCondition {
  /** `ResolvedRefs` (Applications only): every listed Service exists and uses application registration. */
  type: 'Accepted' | 'Ready' | 'ResolvedRefs' | 'Programmed';
  status: 'True' | 'False';
  /** A CamelCase reason; for failures, the problem code. */
  reason: string;
  message: string;
  observedGeneration?: number;
}

/**
 * - Accepted: in the config and served.
 * - Unavailable: in the config, answers 503 (see reason).
 * - Conflicted: claimed by an older Ingress, left out.
 * - Invalid: malformed, left out.
 */
export type PathState = 'Accepted' | 'Unavailable' | 'Conflicted' | 'Invalid';

export interface IngressPathStatus {
  /** The virtual host (`*` for rules without a host); host aliases have entries of their own. */
  host: string;
  path: string;
  pathType: string;
  /** The route id, when the path became a route. */
  routeId?: string;
  state: PathState;
  /** Problem code, unless Accepted. */
  reason?: string;
  message?: string;
}

export interface IngressStatus {
  namespace: string;
  name: string;
  observedGeneration?: number;
  /** Rules in order, then spec.defaultBackend as host `*`, path `/`. */
  paths: IngressPathStatus[];
  conditions: StatusCondition[];
}

/**
 * - Approved / Rejected / Revoked / Pending: the matching ApplicationRegistration's state.
 * - AutoApproved: no registration, but the Service's application-registration plugin has auto_approve.
 * - Requested: no registration yet (see `create` for what the status writer makes of it).
 */
export type RegistrationPhase =
  'Approved' | 'AutoApproved' | 'Pending' | 'Rejected' | 'Revoked' | 'Requested';

export interface ApplicationRegistrationSummary {
  /** The Service as `namespace/name`. */
  service: string;
  state: RegistrationPhase;
  /** The ApplicationRegistration as `namespace/name`: the one found, or the one to create. */
  registration: string;
  /**
   * What a person should see: Requested shows as Pending, AutoApproved as
   * Approved; `NotApplicable` when the Service is missing or does not use
   * application registration (see `reason`).
   */
  displayState: 'Pending' | 'Approved' | 'Rejected' | 'Revoked' | 'NotApplicable';
  /** Why nothing can be decided yet: ServiceNotFound, NoApplicationRegistration, ServiceUnavailable. */
  reason?: string;
  /**
   * Set when no registration exists and one should: the state the status
   * writer creates it with (Kubernetes mode only; standalone writes nothing).
   */
  create?: 'Pending' | 'Approved';
}

export interface ApplicationStatus {
  namespace: string;
  name: string;
  observedGeneration?: number;
  registrations: ApplicationRegistrationSummary[];
  /** How many listed Services this Application may use (the config's approvedServices). */
  approvedServices: number;
  conditions: StatusCondition[];
}

export interface ApplicationRegistrationStatus {
  namespace: string;
  name: string;
  observedGeneration?: number;
  /** `namespace/name` of spec.application, for printer columns (jsonPath cannot concatenate). */
  application?: string;
  conditions: StatusCondition[];
}

/** A KongPlugin or KongClusterPlugin that our Ingresses or their Services use, or a global one of our class. */
export interface PluginStatus {
  kind: 'KongPlugin' | 'KongClusterPlugin';
  /** None for a KongClusterPlugin. */
  namespace?: string;
  name: string;
  /** One `Programmed` condition (it carries the observed generation; KIC's status has no other field). */
  conditions: StatusCondition[];
}

export interface TranslateStatuses {
  ingresses: IngressStatus[];
  applications: ApplicationStatus[];
  applicationRegistrations: ApplicationRegistrationStatus[];
  /** Sorted by kind, namespace, name. */
  plugins: PluginStatus[];
}

/** An Ingress's conditions, from its paths. */
export function ingressConditions(status: IngressStatus): StatusCondition[] {
  const gen =
    status.observedGeneration === undefined ? {} : { observedGeneration: status.observedGeneration };
  const left = status.paths.filter((p) => p.state === 'Invalid' || p.state === 'Conflicted');
  const down = status.paths.filter((p) => p.state === 'Unavailable');
  const total = status.paths.length;
  return [
    left.length === 0
      ? {
          type: 'Accepted',
          status: 'True',
          reason: 'Accepted',
          message: `${total} of ${total} paths accepted`,
          ...gen,
        }
      : {
          type: 'Accepted',
          status: 'False',
          reason: left[0]!.reason ?? left[0]!.state,
          message: `${left.length} of ${total} paths left out; first: ${left[0]!.message ?? left[0]!.state}`,
          ...gen,
        },
    down.length === 0
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: 'every route in the config is served',
          ...gen,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: down[0]!.reason ?? 'Unavailable',
          message: `${down.length} route(s) answer 503; first: ${down[0]!.message ?? ''}`,
          ...gen,
        },
  ];
}

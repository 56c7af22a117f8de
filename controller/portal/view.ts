/**
 * The portal view: what Kong's Dev Portal shows application teams, built
 * from a translation (the compiled config and the statuses), without a
 * database. Pure. It never carries a secret: of the plugins' configs only
 * the fields listed here are read (display_name, description, auto_approve,
 * show_issuer; auth_methods, scopes, scopes_required, issuer), the issuer
 * only when `show_issuer` is true.
 */
import type { CompiledConfig, PluginInstance, Route } from '../../contract/index.js';
import { pluginConfigWithDefaults } from '../../contract/plugins.js';
import type { ApplicationRegistrationConfig } from '../../contract/plugins/application-registration.js';
import type { OpenIdConnectConfig } from '../../contract/plugins/openid-connect.js';
import type { StatusCondition, TranslateStatuses } from '../translate/statuses.js';

export interface PortalService {
  namespace: string;
  name: string;
  displayName: string;
  description?: string;
  autoApprove: boolean;
  /** Where the Service is reached, in route order. */
  routes: { host: string; path: string; pathType: string }[];
  /** What its openid-connect plugins accept: auth methods, scopes asked for, scopes required. */
  authentication: { authMethods: string[]; scopes: string[]; scopesRequired: string[]; issuer?: string }[];
}

export type PortalState = 'Approved' | 'Pending' | 'Rejected' | 'Revoked' | 'NotApplicable';

export interface PortalApplication {
  namespace: string;
  name: string;
  displayName?: string;
  /** Undefined when the Application is not in the config (invalid, or its clientId belongs to an older one). */
  clientId?: string;
  registrations: { service: string; state: PortalState; note?: string; registration: string }[];
  conditions: StatusCondition[];
}

export interface PortalView {
  services: PortalService[];
  applications: PortalApplication[];
}

const APPS = 'application-registration';
const OIDC = 'openid-connect';

export function portalView(config: CompiledConfig, statuses: TranslateStatuses): PortalView {
  return { services: services(config), applications: applications(config, statuses) };
}

function services(config: CompiledConfig): PortalService[] {
  const plugins = new Map(config.plugins.map((p) => [p.id, p]));
  const byService = new Map<string, PortalService>();
  const add = (host: string, route: Route) => {
    if (!route.service) return;
    const named = (name: string) =>
      route.plugins.map((id) => plugins.get(id)).filter((p): p is PluginInstance => p?.name === name);
    const apps = named(APPS)[0];
    if (!apps) return;
    const app = pluginConfigWithDefaults<ApplicationRegistrationConfig>(APPS, apps.config);
    let entry = byService.get(route.service);
    if (!entry) {
      const [namespace = '', name = ''] = route.service.split('/');
      entry = {
        namespace,
        name,
        displayName: app.display_name,
        ...(app.description !== undefined && { description: app.description }),
        autoApprove: app.auto_approve,
        routes: [],
        authentication: [],
      };
      byService.set(route.service, entry);
    }
    entry.routes.push({ host, path: route.path, pathType: route.pathType });
    for (const instance of named(OIDC)) {
      const oidc = pluginConfigWithDefaults<OpenIdConnectConfig>(OIDC, instance.config);
      const auth = {
        authMethods: [...oidc.auth_methods],
        scopes: [...oidc.scopes],
        scopesRequired: [...(oidc.scopes_required ?? [])],
        ...(app.show_issuer && { issuer: oidc.issuer }),
      };
      const key = JSON.stringify(auth);
      if (!entry.authentication.some((a) => JSON.stringify(a) === key)) entry.authentication.push(auth);
    }
  };
  for (const vhost of config.virtualHosts) for (const route of vhost.routes) add(vhost.host, route);
  if (config.defaultBackend) add('*', config.defaultBackend);
  return [...byService.values()].sort(byNamespaceName);
}

function applications(config: CompiledConfig, statuses: TranslateStatuses): PortalApplication[] {
  const inConfig = new Map(config.applications.map((a) => [a.id, a]));
  return statuses.applications
    .map((status): PortalApplication => {
      const app = inConfig.get(`${status.namespace}/${status.name}`);
      return {
        namespace: status.namespace,
        name: status.name,
        ...(app?.displayName !== undefined && { displayName: app.displayName }),
        ...(app && { clientId: app.clientId }),
        registrations: status.registrations.map((r) => ({
          service: r.service,
          state: r.displayState,
          ...(r.state === 'AutoApproved' && { note: 'auto_approve' }),
          ...(r.state === 'Requested' && { note: 'no ApplicationRegistration yet' }),
          ...(r.reason !== undefined && { note: r.reason }),
          registration: r.registration,
        })),
        conditions: status.conditions,
      };
    })
    .sort(byNamespaceName);
}

function byNamespaceName(
  a: { namespace: string; name: string },
  b: { namespace: string; name: string },
): number {
  return a.namespace === b.namespace ? compare(a.name, b.name) : compare(a.namespace, b.namespace);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Applications: an Application asks for Services (spec.registrations); the
 * Service's owner decides with an ApplicationRegistration in the Service's
 * namespace. A Service is in `approvedServices` only when both agree:
 *
 * - the Application lists it, and
 * - the matching ApplicationRegistration is Approved, or there is none and
 *   every application-registration plugin on the Service's routes has
 *   `auto_approve: true`.
 *
 * Several registrations for one pair: the most restrictive state wins
 * (Revoked, Rejected, Pending, Approved); an unknown state counts as
 * Pending. Two Applications with one clientId: the oldest keeps it, the
 * other is left out (a token must map to exactly one Application).
 */
import { createHash } from 'node:crypto';
import type { Application as ConfigApplication, Route } from '../../../contract/compiled-config.js';
import { addProblem, key, type Processor, type TranslateContext } from '../context.js';
import {
  REGISTRATION_STATES,
  type Application,
  type ApplicationRegistration,
  type RegistrationState,
} from '../k8s-types.js';
import type { ProblemCode } from '../problem-codes.js';
import { arr, byAge, compareStrings, record, refOf, str } from '../read.js';
import type { ApplicationRegistrationSummary, StatusCondition } from '../statuses.js';

const APPLICATION_REGISTRATION_PLUGIN = 'application-registration';
/** Most restrictive first. */
const STRICTNESS: readonly RegistrationState[] = ['Revoked', 'Rejected', 'Pending', 'Approved'];

interface ReadRegistration {
  reg: ApplicationRegistration;
  application?: string; // namespace/name
  service?: string; // namespace/name
  state: RegistrationState;
  error?: string;
}

function readRegistration(reg: ApplicationRegistration): ReadRegistration {
  const spec = record(reg.spec);
  const app = record(spec?.application);
  const appName = str(app?.name);
  const appNamespace = str(app?.namespace) ?? reg.metadata.namespace;
  const service = str(spec?.service);
  const rawState = spec?.state === undefined ? 'Pending' : str(spec.state);
  const state = REGISTRATION_STATES.find((s) => s === rawState);
  const errors: string[] = [];
  if (!appName) errors.push('spec.application.name is missing');
  if (!service) errors.push('spec.service is missing');
  if (!state) errors.push(`spec.state "${String(rawState)}" is not one of ${REGISTRATION_STATES.join(', ')}`);
  const read: ReadRegistration = { reg, state: state ?? 'Pending' };
  if (appName) read.application = `${appNamespace}/${appName}`;
  if (service) read.service = `${reg.metadata.namespace}/${service}`;
  if (errors.length > 0) read.error = errors.join('; ');
  return read;
}

/**
 * How each routed Service (`namespace/name`) takes part in application
 * registration, from the routes that reach it:
 * - auto: every application-registration plugin on its routes has `auto_approve: true`;
 * - manual: it has the plugin, and some instance does not auto-approve;
 * - unavailable: some route to it answers 503 (a broken plugin, a disagreement):
 *   nothing is created until that is fixed, so a fixed `auto_approve` is not
 *   pre-empted by a Pending registration.
 * A Service in none of these does not use application registration.
 */
type ServiceMode = 'auto' | 'manual' | 'unavailable';

function serviceModes(ctx: TranslateContext): Map<string, ServiceMode> {
  const auto = new Map<string, boolean>();
  const unavailable = new Set<string>();
  const judge = (route: Route) => {
    if (!route.service) return;
    if (route.unavailable) unavailable.add(route.service);
    for (const id of route.plugins) {
      const plugin = ctx.plugins.get(id);
      if (plugin?.name !== APPLICATION_REGISTRATION_PLUGIN) continue;
      auto.set(route.service, (auto.get(route.service) ?? true) && plugin.config.auto_approve === true);
    }
  };
  for (const { route } of ctx.routes) judge(route);
  if (ctx.defaultBackend) judge(ctx.defaultBackend.route);
  const modes = new Map<string, ServiceMode>();
  for (const [service, all] of auto) modes.set(service, all ? 'auto' : 'manual');
  // Access still follows the routes that work (auto-approval is as before); only creation waits.
  for (const service of unavailable) if (!modes.has(service)) modes.set(service, 'unavailable');
  return modes;
}

/**
 * The name the controller gives a registration it creates: predictable, one
 * per Application and Service (`<app namespace>.<app name>.<service>`), hashed
 * down when longer than an object name may be.
 */
export function registrationName(appNamespace: string, appName: string, service: string): string {
  const name = `${appNamespace}.${appName}.${service}`;
  if (name.length <= 253) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${name.slice(0, 242).replace(/[.-]+$/, '')}.${hash}`;
}

function condition(
  type: StatusCondition['type'],
  ok: boolean,
  reason: string,
  message: string,
  generation: unknown,
): StatusCondition {
  return {
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
    ...(typeof generation === 'number' ? { observedGeneration: generation } : {}),
  };
}

export const applicationsProcessor: Processor = {
  name: 'applications',
  run(ctx) {
    const modes = serviceModes(ctx);
    // Redone only when an Application or ApplicationRegistration changed, how Services take part, or which exist.
    const deps = [
      ctx.index.applications,
      ctx.index.applicationRegistrations,
      [...modes]
        .map(([service, mode]) => `${service} ${mode}`)
        .sort(compareStrings)
        .join('\n'),
      [...ctx.index.services.keys()].sort(compareStrings).join('\n'),
    ];
    const built = ctx.memo.use('applications', 'all', deps, ctx.problems, () => {
      buildApplications(ctx, modes);
      return {
        applications: ctx.applications,
        applicationStatuses: ctx.applicationStatuses,
        registrationStatuses: ctx.registrationStatuses,
      };
    });
    ctx.applications = built.applications;
    ctx.applicationStatuses = built.applicationStatuses;
    ctx.registrationStatuses = built.registrationStatuses;
    checkAnonymous(ctx);
  },
};

/**
 * openid-connect's `anonymous` names an Application that is not in the
 * config: requests that fail authentication would answer 503 (the proxy
 * checks again on every request, since Applications change on their own).
 */
function checkAnonymous(ctx: TranslateContext): void {
  const ids = new Set(ctx.applications.map((a) => a.id));
  const plugins = [...ctx.plugins.values()].sort((a, b) => compareStrings(a.id, b.id));
  for (const plugin of plugins) {
    const anonymous = plugin.config.anonymous;
    if (plugin.name !== 'openid-connect' || plugin.broken || typeof anonymous !== 'string') continue;
    if (ids.has(anonymous)) continue;
    addProblem(
      ctx,
      'PLUGIN_ANONYMOUS_NOT_FOUND',
      `plugin ${plugin.id}: anonymous names Application "${anonymous}", which does not exist (write it as namespace/name); requests that fail authentication answer 503`,
      [plugin.ref],
    );
  }
}

function buildApplications(ctx: TranslateContext, modes: Map<string, ServiceMode>): void {
  const registrations = ctx.index.applicationRegistrations.map(readRegistration);
  const byPair = new Map<string, ReadRegistration[]>();
  for (const r of registrations) {
    if (r.error || !r.application || !r.service) continue;
    const pair = `${r.application} ${r.service}`;
    byPair.set(pair, [...(byPair.get(pair) ?? []), r]);
  }
  const effective = new Map<string, ReadRegistration>();
  for (const [pair, list] of byPair) {
    const strictest = [...list].sort((a, b) => STRICTNESS.indexOf(a.state) - STRICTNESS.indexOf(b.state))[0]!;
    effective.set(pair, strictest);
    if (list.length > 1) {
      addProblem(
        ctx,
        'APPLICATION_REGISTRATION_DUPLICATE',
        `${list.length} ApplicationRegistrations cover Application ${strictest.application} and Service ${strictest.service}; ${strictest.state} (${key(strictest.reg)}) applies`,
        list.map((r) => refOf('ApplicationRegistration', r.reg)),
      );
    }
  }
  // An invalid registration still blocks auto-approval for its pair: it counts as Pending.
  for (const r of registrations) {
    if (r.error && r.application && r.service && !effective.has(`${r.application} ${r.service}`)) {
      effective.set(`${r.application} ${r.service}`, { ...r, state: 'Pending' });
    }
  }

  const accepted = new Map<string, { app: Application; requested: Set<string> }>();
  const clientIds = new Map<string, Application>();
  const registrationNames = new Set(ctx.index.applicationRegistrations.map((r) => key(r)));
  for (const app of [...ctx.index.applications.values()].sort(byAge)) {
    const appKey = key(app);
    const spec = record(app.spec);
    const clientId = str(spec?.clientId)?.trim();
    const displayName = spec?.displayName;
    const problems: { code: ProblemCode; message: string }[] = [];
    const report = (code: ProblemCode, message: string, others: Application[] = []) => {
      problems.push({ code, message });
      addProblem(ctx, code, `Application ${appKey}: ${message}`, [
        refOf('Application', app),
        ...others.map((o) => refOf('Application', o)),
      ]);
    };

    const requested = new Set<string>();
    arr(spec?.registrations).forEach((entry, i) => {
      const service = record(record(entry)?.service);
      const name = str(service?.name);
      if (!name)
        report(
          'APPLICATION_INVALID',
          `spec.registrations[${i}].service.name is missing; the entry is ignored`,
        );
      else requested.add(`${str(service?.namespace) ?? app.metadata.namespace}/${name}`);
    });
    let inConfig = false;
    if (!clientId || clientId.length > 512)
      report('APPLICATION_INVALID', 'spec.clientId must be a non-empty string of at most 512 characters');
    else if (displayName !== undefined && (typeof displayName !== 'string' || displayName.length > 512)) {
      report('APPLICATION_INVALID', 'spec.displayName must be a string of at most 512 characters');
    } else if (clientIds.has(clientId)) {
      const owner = clientIds.get(clientId)!;
      report(
        'APPLICATION_CLIENT_ID_CONFLICT',
        `clientId "${clientId}" already belongs to older Application ${key(owner)}`,
        [owner],
      );
    } else {
      clientIds.set(clientId, app);
      inConfig = true;
    }

    const summaries: ApplicationRegistrationSummary[] = [...requested].sort(compareStrings).map((service) => {
      const found = effective.get(`${appKey} ${service}`);
      if (found) {
        return { service, state: found.state, registration: key(found.reg), displayState: found.state };
      }
      const [serviceNamespace, serviceName] = service.split('/') as [string, string];
      const registration = `${serviceNamespace}/${registrationName(app.metadata.namespace!, app.metadata.name, serviceName)}`;
      const mode = modes.get(service);
      const summary: ApplicationRegistrationSummary = {
        service,
        state: mode === 'auto' ? 'AutoApproved' : 'Requested',
        registration,
        displayState: mode === 'auto' ? 'Approved' : mode === 'manual' ? 'Pending' : 'NotApplicable',
      };
      // An Application left out of the config (a clientId conflict) maps to nothing: it asks for nothing either.
      if (!inConfig) summary.reason = 'ApplicationNotAccepted';
      else if (!ctx.index.services.has(service)) summary.reason = 'ServiceNotFound';
      else if (mode === 'unavailable') summary.reason = 'ServiceUnavailable';
      else if (!mode) summary.reason = 'NoApplicationRegistration';
      // Only an Application in the config asks; a name someone else's registration took is never overwritten.
      else if (!registrationNames.has(registration))
        summary.create = mode === 'auto' ? 'Approved' : 'Pending';
      if (summary.reason === 'ServiceUnavailable') summary.displayState = 'Pending';
      if (summary.reason === 'ApplicationNotAccepted') summary.displayState = 'NotApplicable';
      return summary;
    });
    const approved = summaries
      .filter((s) => s.state === 'Approved' || s.state === 'AutoApproved')
      .map((s) => s.service);
    if (inConfig) {
      const refused: NonNullable<ConfigApplication['refusedServices']> = {};
      for (const s of summaries) {
        if (s.state !== 'Approved' && s.state !== 'AutoApproved') refused[s.service] = s.state;
      }
      const entry: ConfigApplication = {
        id: appKey,
        clientId: clientId!,
        ...(typeof displayName === 'string' ? { displayName } : {}),
        approvedServices: approved,
        ...(Object.keys(refused).length > 0 ? { refusedServices: refused } : {}),
        source: refOf('Application', app),
      };
      ctx.applications.push(entry);
      accepted.set(appKey, { app, requested });
    }
    // Services that cannot decide (missing, no plugin) do not wait: ResolvedRefs says so instead.
    const waiting = summaries.filter(
      (s) => s.displayState !== 'Approved' && s.displayState !== 'NotApplicable',
    );
    const unresolved = summaries.filter((s) => s.reason !== undefined && s.reason in UNRESOLVED);
    const first = problems[0];
    const gen = app.metadata.generation;
    const conflict = problems.find((p) => p.code === 'APPLICATION_CLIENT_ID_CONFLICT');
    ctx.applicationStatuses.push({
      namespace: app.metadata.namespace!,
      name: app.metadata.name,
      ...(typeof gen === 'number' ? { observedGeneration: gen } : {}),
      registrations: summaries,
      approvedServices: inConfig ? approved.length : 0,
      conditions: [
        first
          ? condition('Accepted', false, first.code, first.message, gen)
          : condition('Accepted', true, 'Accepted', 'the Application is in the config', gen),
        conflict
          ? condition('Ready', false, 'ClientIdConflict', conflict.message, gen)
          : !inConfig
            ? condition('Ready', false, 'NotAccepted', 'the Application is not in the config', gen)
            : waiting.length > 0
              ? condition(
                  'Ready',
                  false,
                  'NotApproved',
                  `waiting on ${waiting.map((s) => `${s.service} (${s.displayState})`).join(', ')}`,
                  gen,
                )
              : unresolved.length > 0
                ? condition('Ready', false, unresolved[0]!.reason!, unresolvedMessage(unresolved), gen)
                : condition('Ready', true, 'Approved', `approved for ${approved.length} service(s)`, gen),
        unresolved.length > 0
          ? condition('ResolvedRefs', false, unresolved[0]!.reason!, unresolvedMessage(unresolved), gen)
          : condition(
              'ResolvedRefs',
              true,
              'ResolvedRefs',
              'every listed Service exists and uses application registration',
              gen,
            ),
      ],
    });
  }

  for (const r of registrations) {
    const gen = r.reg.metadata.generation;
    const regRef = refOf('ApplicationRegistration', r.reg);
    let accept: StatusCondition;
    let ready: StatusCondition;
    const target = r.application ? accepted.get(r.application) : undefined;
    if (r.error) {
      addProblem(
        ctx,
        'APPLICATION_REGISTRATION_INVALID',
        `ApplicationRegistration ${key(r.reg)}: ${r.error}`,
        [regRef],
      );
      accept = condition('Accepted', false, 'APPLICATION_REGISTRATION_INVALID', r.error, gen);
      ready = condition('Ready', false, 'NotAccepted', 'the registration is not in effect', gen);
    } else if (!ctx.index.applications.has(r.application!)) {
      const message = `Application ${r.application} does not exist`;
      addProblem(
        ctx,
        'APPLICATION_REGISTRATION_APPLICATION_NOT_FOUND',
        `ApplicationRegistration ${key(r.reg)}: ${message}`,
        [regRef],
      );
      accept = condition('Accepted', false, 'APPLICATION_REGISTRATION_APPLICATION_NOT_FOUND', message, gen);
      ready = condition('Ready', false, 'NotAccepted', 'the registration is not in effect', gen);
    } else if (target && !target.requested.has(r.service!)) {
      const message = `Application ${r.application} does not ask for Service ${r.service}`;
      if (r.state === 'Approved') {
        addProblem(
          ctx,
          'APPLICATION_REGISTRATION_NOT_REQUESTED',
          `ApplicationRegistration ${key(r.reg)}: ${message}; the approval has no effect`,
          [regRef, refOf('Application', target.app)],
        );
      }
      accept = condition('Accepted', false, 'APPLICATION_REGISTRATION_NOT_REQUESTED', message, gen);
      ready = condition('Ready', false, 'NotRequested', 'the registration is not in effect', gen);
    } else {
      accept = condition(
        'Accepted',
        true,
        'Accepted',
        `registration of Application ${r.application} for Service ${r.service}`,
        gen,
      );
      const winner = effective.get(`${r.application} ${r.service}`);
      if (!target)
        ready = condition(
          'Ready',
          false,
          'ApplicationNotAccepted',
          `Application ${r.application} is not in the config`,
          gen,
        );
      else if (winner !== r)
        ready = condition(
          'Ready',
          false,
          'Overridden',
          `${key(winner!.reg)} (${winner!.state}) applies instead`,
          gen,
        );
      else if (r.state !== 'Approved')
        ready = condition('Ready', false, r.state, `the registration is ${r.state}`, gen);
      else
        ready = condition(
          'Ready',
          true,
          'Approved',
          `Application ${r.application} may use Service ${r.service}`,
          gen,
        );
    }
    ctx.registrationStatuses.push({
      namespace: r.reg.metadata.namespace!,
      name: r.reg.metadata.name,
      ...(typeof gen === 'number' ? { observedGeneration: gen } : {}),
      ...(r.application ? { application: r.application } : {}),
      conditions: [accept, ready],
    });
  }
}

const UNRESOLVED: Readonly<Record<string, string>> = {
  ServiceNotFound: 'does not exist',
  NoApplicationRegistration: 'does not use application registration (no route of ours to it has the plugin)',
};

function unresolvedMessage(list: readonly ApplicationRegistrationSummary[]): string {
  return list.map((s) => `Service ${s.service} ${UNRESOLVED[s.reason ?? ''] ?? s.reason}`).join('; ');
}

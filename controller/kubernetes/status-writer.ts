/**
 * Writes what translate says back to the cluster: Ingress
 * `status.loadBalancer`, conditions on Applications and
 * ApplicationRegistrations (status subresource), the `Programmed` condition
 * of the KongPlugins and KongClusterPlugins in use, the ApplicationRegistrations
 * translate asks for (`create`: Pending, or Approved under auto_approve), and
 * Events for problems.
 *
 * A registration is created once and never updated or deleted by the
 * controller: its spec is the Service owner's decision. If one by that name
 * exists already (409), it is left as it is.
 *
 * Plugin conditions go by server-side apply under this controller's field
 * manager (one per ingress class), without force: the API server then keeps
 * the other conditions on the object, and answers 409 when another manager
 * (another controller sharing the cluster) owns a different `Programmed`
 * value. That one is left as it is, so two controllers never take turns
 * overwriting each other; ours is tried again when it changes. When our
 * routes stop using a plugin, an apply without status withdraws our
 * condition.
 *
 * Each write happens once per change, not once per build: the writer
 * remembers what it last wrote for every object and which problems it has
 * already reported, and skips what is unchanged. Only the leader should call
 * {@link StatusWriter.write}; the writer itself checks `isLeader` when given.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { TranslateProblem } from '../translate/problem-codes.js';
import type { PluginStatus, StatusCondition, TranslateStatuses } from '../translate/statuses.js';
import { apiRequest, KubernetesApiError } from './api-request.js';
import { EVENT_PATH, resourcePath, watchedPath } from './kinds.js';

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface StatusWriterOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** Addresses to publish in every served Ingress's `status.loadBalancer.ingress`; none: leave it alone. */
  publishAddresses?: readonly LoadBalancerIngress[] | (() => readonly LoadBalancerIngress[]);
  /** Event `source.component` and `reportingController`. Default `portcullis-controller`. */
  component?: string;
  /** Namespace for Events about cluster-scoped objects. Default `default`. */
  eventNamespace?: string;
  /** Writes nothing while this returns false. */
  isLeader?: () => boolean;
  /** Clock for condition transition and Event times. */
  now?: () => Date;
  /** Server-side apply field manager for plugin conditions; one per ingress class. Default `component`. */
  fieldManager?: string;
}

export interface WriteSummary {
  patched: number;
  created: number;
  events: number;
  failed: number;
}

type ObjectKind = 'Ingress' | 'Application' | 'ApplicationRegistration' | PluginStatus['kind'];

interface ConditionMemory {
  status: string;
  time: string;
}

export class StatusWriter {
  readonly #options: StatusWriterOptions;
  /** Last status body written per `Kind/ns/name`. */
  readonly #written = new Map<string, string>();
  /** When each condition last changed, per `Kind/ns/name/type`. */
  readonly #transitions = new Map<string, ConditionMemory>();
  /** Ingresses (`namespace/name`) whose status.loadBalancer we wrote. */
  #published = new Set<string>();
  /** Problems already reported with an Event (fingerprints of the current set). */
  #reported = new Set<string>();
  /** Registrations already created (or found existing). */
  readonly #created = new Set<string>();
  /** Plugins whose Programmed condition we own, by `Kind/ns/name`. */
  readonly #appliedPlugins = new Map<string, PluginStatus>();

  constructor(options: StatusWriterOptions) {
    this.#options = options;
  }

  /** Writes whatever changed since the last call. Never throws; failures are logged and counted, and retried next time. */
  async write(result: {
    statuses: TranslateStatuses;
    problems: readonly TranslateProblem[];
  }): Promise<WriteSummary> {
    const summary: WriteSummary = { patched: 0, created: 0, events: 0, failed: 0 };
    if (this.#options.isLeader && !this.#options.isLeader()) return summary;
    const { statuses } = result;
    const configured = this.#options.publishAddresses;
    const publish = typeof configured === 'function' ? configured() : configured;
    if (publish?.length) {
      const published = new Set<string>();
      for (const ingress of statuses.ingresses) {
        published.add(`${ingress.namespace}/${ingress.name}`);
        const status = { loadBalancer: { ingress: publish.map((a) => ({ ...a })) } };
        await this.#patchStatus('Ingress', ingress.namespace, ingress.name, status, summary);
      }
      // An Ingress we published for and no longer serve (its class changed)
      // must not keep sending clients our way: its addresses are removed.
      for (const key of this.#published) {
        if (published.has(key)) continue;
        const [namespace, name] = key.split('/') as [string, string];
        // merge-patch: null removes the field. A failed write is tried again next time.
        const clear = { loadBalancer: { ingress: null } };
        if (!(await this.#patchStatus('Ingress', namespace, name, clear, summary))) published.add(key);
      }
      this.#published = published;
    }
    for (const app of statuses.applications) {
      const status = {
        ...(app.observedGeneration !== undefined ? { observedGeneration: app.observedGeneration } : {}),
        conditions: this.#conditions('Application', app.namespace, app.name, app.conditions),
        registrations: app.registrations,
        approvedServices: app.approvedServices,
      };
      await this.#patchStatus('Application', app.namespace, app.name, status, summary);
      for (const registration of app.registrations) {
        if (registration.create)
          await this.#createRegistration(app, registration, registration.create, summary);
      }
    }
    for (const reg of statuses.applicationRegistrations) {
      const status = {
        ...(reg.observedGeneration !== undefined ? { observedGeneration: reg.observedGeneration } : {}),
        ...(reg.application !== undefined ? { application: reg.application } : {}),
        conditions: this.#conditions('ApplicationRegistration', reg.namespace, reg.name, reg.conditions),
      };
      await this.#patchStatus('ApplicationRegistration', reg.namespace, reg.name, status, summary);
    }
    const inUse = new Set<string>();
    for (const plugin of statuses.plugins) {
      inUse.add(pluginKey(plugin));
      await this.#applyPluginStatus(plugin, summary);
    }
    // A plugin our routes no longer use: our condition is withdrawn (another manager's stays).
    for (const [key, plugin] of this.#appliedPlugins) {
      if (!inUse.has(key)) await this.#releasePluginStatus(key, plugin, summary);
    }
    await this.#events(result.problems, summary);
    return summary;
  }

  #conditions(kind: ObjectKind, namespace: string, name: string, conditions: readonly StatusCondition[]) {
    const now = (this.#options.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    return conditions.map((c) => {
      const key = `${kind}/${namespace}/${name}/${c.type}`;
      const before = this.#transitions.get(key);
      const time = before && before.status === c.status ? before.time : now;
      this.#transitions.set(key, { status: c.status, time });
      return { ...c, lastTransitionTime: time };
    });
  }

  async #patchStatus(
    kind: ObjectKind,
    namespace: string,
    name: string,
    status: object,
    summary: WriteSummary,
  ): Promise<boolean> {
    const key = `${kind}/${namespace}/${name}`;
    const body = JSON.stringify(status);
    if (this.#written.get(key) === body) return true;
    try {
      await apiRequest(
        this.#options.kubeConfig,
        'PATCH',
        resourcePath(watchedPath(kind), namespace, name, 'status'),
        {
          body: { status },
          contentType: 'application/merge-patch+json',
        },
      );
      this.#written.set(key, body);
      summary.patched++;
      return true;
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 404) return true; // deleted meanwhile
      summary.failed++;
      this.#options.log.warn({ err: String(err), kind, namespace, name }, 'could not write status');
      return false;
    }
  }

  get #fieldManager(): string {
    return this.#options.fieldManager ?? this.#options.component ?? 'portcullis-controller';
  }

  /** A server-side apply of a plugin's status: only the fields in `status` are ours afterwards. */
  async #applyPatch(plugin: PluginStatus, status?: object): Promise<void> {
    const { kind, namespace, name } = plugin;
    const path = `${resourcePath(watchedPath(kind), namespace, name, 'status')}?fieldManager=${encodeURIComponent(this.#fieldManager)}`;
    await apiRequest(this.#options.kubeConfig, 'PATCH', path, {
      // JSON is YAML: an apply patch needs only the identifying fields and what this manager owns.
      body: {
        apiVersion: API_VERSIONS[kind],
        kind,
        metadata: { name, ...(namespace !== undefined ? { namespace } : {}) },
        ...(status ? { status } : {}),
      },
      contentType: 'application/apply-patch+yaml',
    });
  }

  async #applyPluginStatus(plugin: PluginStatus, summary: WriteSummary): Promise<void> {
    const { kind, namespace, name } = plugin;
    const key = pluginKey(plugin);
    const status = { conditions: this.#conditions(kind, namespace ?? '', name, plugin.conditions) };
    const body = JSON.stringify(status);
    if (this.#written.get(key) === body) return;
    const fieldManager = this.#fieldManager;
    try {
      await this.#applyPatch(plugin, status);
      this.#written.set(key, body);
      this.#appliedPlugins.set(key, plugin);
      summary.patched++;
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 404) return; // deleted meanwhile
      if (err instanceof KubernetesApiError && err.statusCode === 409) {
        // Another field manager owns a different Programmed condition: not ours to overwrite.
        this.#written.set(key, body);
        this.#options.log.info(
          { kind, namespace, name, fieldManager },
          'Programmed condition owned by another controller; left as it is',
        );
        return;
      }
      summary.failed++;
      this.#options.log.warn({ err: String(err), kind, namespace, name }, 'could not write status');
    }
  }

  /** Applies nothing under our manager: the API server removes the condition unless another manager shares it. */
  async #releasePluginStatus(key: string, plugin: PluginStatus, summary: WriteSummary): Promise<void> {
    try {
      await this.#applyPatch(plugin);
      summary.patched++;
    } catch (err) {
      if (!(err instanceof KubernetesApiError && err.statusCode === 404)) {
        summary.failed++;
        this.#options.log.warn(
          { err: String(err), kind: plugin.kind, namespace: plugin.namespace, name: plugin.name },
          'could not write status',
        );
        return; // tried again next time
      }
    }
    this.#appliedPlugins.delete(key);
    this.#written.delete(key);
    this.#transitions.delete(`${plugin.kind}/${plugin.namespace ?? ''}/${plugin.name}/Programmed`);
  }

  async #createRegistration(
    app: { namespace: string; name: string },
    registration: { service: string; registration: string },
    state: 'Pending' | 'Approved',
    summary: WriteSummary,
  ) {
    if (this.#created.has(registration.registration)) return;
    const [namespace, name] = registration.registration.split('/') as [string, string];
    const service = registration.service.split('/')[1] ?? registration.service;
    const object = {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'ApplicationRegistration',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'portcullis' } },
      spec: { application: { namespace: app.namespace, name: app.name }, service, state },
    };
    try {
      await apiRequest(
        this.#options.kubeConfig,
        'POST',
        resourcePath(watchedPath('ApplicationRegistration'), namespace),
        {
          body: object,
        },
      );
      summary.created++;
      this.#created.add(registration.registration);
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 409) {
        this.#created.add(registration.registration);
        return;
      }
      summary.failed++;
      this.#options.log.warn(
        { err: String(err), namespace, name },
        'could not create an ApplicationRegistration',
      );
    }
  }

  /** One Warning Event per object named first by each problem that is new since the last write. */
  async #events(problems: readonly TranslateProblem[], summary: WriteSummary): Promise<void> {
    const current = new Set<string>();
    for (const problem of problems) {
      const target = problem.objects[0];
      if (!target) continue;
      const fingerprint = JSON.stringify([
        target.kind,
        target.namespace ?? '',
        target.name,
        problem.code,
        problem.message,
      ]);
      current.add(fingerprint);
      if (this.#reported.has(fingerprint)) continue;
      const ok = await this.#postEvent(target, problem, fingerprint);
      if (ok) summary.events++;
      else {
        summary.failed++;
        current.delete(fingerprint); // try again next time
      }
    }
    // Problems that went away are forgotten, so that they are reported again if they come back.
    this.#reported = current;
  }

  async #postEvent(
    target: { kind: string; namespace?: string; name: string },
    problem: TranslateProblem,
    fingerprint: string,
  ): Promise<boolean> {
    const component = this.#options.component ?? 'portcullis-controller';
    const namespace = target.namespace ?? this.#options.eventNamespace ?? 'default';
    const time = (this.#options.now?.() ?? new Date()).toISOString();
    const suffix = createHash('sha256').update(fingerprint).update(time).digest('hex').slice(0, 12);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${target.name}.${suffix}`, namespace },
      involvedObject: {
        kind: target.kind,
        name: target.name,
        ...(target.namespace ? { namespace: target.namespace } : {}),
        ...(API_VERSIONS[target.kind] ? { apiVersion: API_VERSIONS[target.kind] } : {}),
      },
      type: 'Warning',
      reason: problem.code,
      message: problem.message.slice(0, 1024),
      source: { component },
      reportingComponent: component,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    try {
      await apiRequest(this.#options.kubeConfig, 'POST', resourcePath(EVENT_PATH, namespace), {
        body: event,
      });
      return true;
    } catch (err) {
      this.#options.log.warn(
        { err: String(err), kind: target.kind, name: target.name },
        'could not create an Event',
      );
      return false;
    }
  }
}

const pluginKey = (p: PluginStatus) => `${p.kind}/${p.namespace ?? ''}/${p.name}`;

const API_VERSIONS: Readonly<Record<string, string>> = {
  Ingress: 'networking.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Secret: 'v1',
  KongPlugin: 'configuration.konghq.com/v1',
  KongClusterPlugin: 'configuration.konghq.com/v1',
  Application: 'portcullis.dev/v1alpha1',
  ApplicationRegistration: 'portcullis.dev/v1alpha1',
};

/**
 * The Kubernetes API as an ObjectSource: one client-node informer (ListWatch)
 * per watched kind, per watched namespace when scoped (cluster-scoped kinds
 * always cluster-wide), feeding the sink. Secrets go through a SecretTracker
 * instead, so that only referenced Secrets are held.
 *
 * client-node informers relist by themselves after 410 Gone and re-watch
 * when a stream ends, but stop on any other error: this source restarts them
 * with exponential backoff. A kind is reported synced after its first list
 * (in every watched namespace); Secrets after the kinds that reference them
 * and then their own first list.
 */
import {
  ADD,
  DELETE,
  ERROR,
  ListWatch,
  UPDATE,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ObjectSink, ObjectSource, WatchedKind } from '../source.js';
import { emptySnapshot, type KubeObject, type Snapshot } from '../translate/k8s-types.js';
import type { TranslateOptions } from '../translate/options.js';
import { secretReferences } from '../translate/secret-references.js';
import { apiRequest, errorSummary } from './api-request.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { BookmarkWatch } from './bookmark-watch.js';
import { resourcePath, WATCHED_PATHS, type KindPath } from './kinds.js';
import { SecretTracker } from './secret-tracker.js';

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; undefined or empty: all. */
  watchNamespaces?: readonly string[];
  log: Logger;
  /** The class options translate uses, so that Secret references match what translate reads. */
  translateOptions?: Pick<TranslateOptions, 'ingressClass' | 'controllerName'>;
  /** Restart delays after errors. Default 200 ms doubling to 30 s. */
  backoff?: BackoffOptions;
  /** How often referenced Secrets that no watch covers are read again (RBAC `get` only). */
  secretRefreshMs?: number;
  /** Shortest watch request in seconds (each lasts 1–2x this, then resumes from its last bookmark). Default 300. */
  watchTimeoutSeconds?: number;
}

/** Kinds whose objects name Secrets; their informers feed the reference set. */
const REFERENCING: Readonly<Partial<Record<WatchedKind, keyof Snapshot>>> = {
  IngressClass: 'ingressClasses',
  Ingress: 'ingresses',
  // konghq.com/ca-certificates-secrets names CA certificate Secrets.
  Service: 'services',
  KongPlugin: 'kongPlugins',
  KongClusterPlugin: 'kongClusterPlugins',
};

interface KindInformer {
  kind: KindPath & { kind: WatchedKind };
  namespace: string | undefined;
  informer: ListWatch<KubernetesObject>;
  backoff: Backoff;
  listed: boolean;
  timer: NodeJS.Timeout | undefined;
  /** A start in progress (the first one or a restart), so that stop can wait for it. */
  starting: Promise<void> | undefined;
}

export function createKubernetesSource(options: KubernetesSourceOptions): ObjectSource {
  return new KubernetesSource(options);
}

class KubernetesSource implements ObjectSource {
  readonly #options: KubernetesSourceOptions;
  readonly #informers: KindInformer[] = [];
  #secrets: SecretTracker | undefined;
  #sink: ObjectSink | undefined;
  #stopped = false;
  readonly #syncedKinds = new Set<WatchedKind>();
  #refsScheduled = false;
  #secretsStarted = false;

  constructor(options: KubernetesSourceOptions) {
    this.#options = options;
  }

  async start(sink: ObjectSink): Promise<void> {
    this.#sink = sink;
    this.#stopped = false;
    const { kubeConfig, log } = this.#options;
    const namespaces = this.#options.watchNamespaces?.length ? [...this.#options.watchNamespaces] : undefined;
    this.#secrets = new SecretTracker({
      kubeConfig,
      sink,
      log,
      ...(namespaces ? { namespaces } : {}),
      ...(this.#options.backoff ? { backoff: this.#options.backoff } : {}),
      ...(this.#options.secretRefreshMs ? { refreshMs: this.#options.secretRefreshMs } : {}),
      ...(this.#options.watchTimeoutSeconds
        ? { watchTimeoutSeconds: this.#options.watchTimeoutSeconds }
        : {}),
    });
    const watch = new BookmarkWatch(kubeConfig, this.#options.watchTimeoutSeconds);
    for (const kind of WATCHED_PATHS) {
      if (kind.kind === 'Secret') continue;
      for (const namespace of kind.namespaced && namespaces ? namespaces : [undefined]) {
        const path = resourcePath(kind, namespace);
        const entry: KindInformer = {
          kind,
          namespace,
          backoff: new Backoff(this.#options.backoff),
          listed: false,
          timer: undefined,
          starting: undefined,
          informer: new ListWatch(path, watch, () => this.#list(entry, path), false),
        };
        this.#wire(entry);
        this.#informers.push(entry);
      }
    }
    log.info({ namespaces: namespaces ?? 'all' }, 'watching the Kubernetes API');
    await Promise.all(this.#informers.map((entry) => this.#start(entry)));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#secrets?.stop();
    for (const entry of this.#informers) {
      if (entry.timer) clearTimeout(entry.timer);
      await entry.informer.stop();
      // A start in flight opens its watch after stop() had nothing to abort: abort it once it is open.
      if (entry.starting) {
        await entry.starting;
        await entry.informer.stop();
      }
    }
  }

  #start(entry: KindInformer): Promise<void> {
    const starting = entry.informer.start().finally(() => {
      if (entry.starting === starting) entry.starting = undefined;
    });
    entry.starting = starting;
    return starting;
  }

  /** The informer's list function: raw JSON, so list items look like watch objects. */
  async #list(entry: KindInformer, path: string) {
    const list = await apiRequest<{ metadata?: { resourceVersion?: string }; items?: KubernetesObject[] }>(
      this.#options.kubeConfig,
      'GET',
      path,
    );
    entry.backoff.reset();
    // ListWatch applies the items right after this promise resolves; report synced after that.
    setImmediate(() => this.#listed(entry));
    return { metadata: list.metadata ?? {}, items: list.items ?? [] };
  }

  #wire(entry: KindInformer): void {
    const { informer, kind } = entry;
    const complete = (object: KubernetesObject): KubeObject =>
      ({ ...object, apiVersion: kind.apiVersion, kind: kind.kind }) as KubeObject;
    const changed = (object: KubernetesObject) => {
      entry.backoff.reset();
      this.#sink?.upsert(complete(object));
      this.#scheduleReferences(kind.kind);
    };
    informer.on(ADD, changed);
    informer.on(UPDATE, changed);
    informer.on(DELETE, (object) => {
      this.#sink?.remove(
        kind.kind,
        kind.namespaced ? object.metadata?.namespace : undefined,
        object.metadata?.name ?? '',
      );
      this.#scheduleReferences(kind.kind);
    });
    informer.on(ERROR, (err: unknown) => {
      if (this.#stopped) return;
      const delay = entry.backoff.next();
      this.#options.log.warn(
        { err: errorSummary(err), kind: kind.kind, namespace: entry.namespace, delayMs: delay },
        'watch failed; restarting',
      );
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!this.#stopped) void this.#start(entry);
      }, delay);
    });
  }

  #listed(entry: KindInformer): void {
    if (entry.listed || this.#stopped) return;
    entry.listed = true;
    const kind = entry.kind.kind;
    if (!this.#informers.every((e) => e.kind.kind !== kind || e.listed)) return;
    this.#syncedKinds.add(kind);
    this.#sink?.synced(kind);
    if (Object.keys(REFERENCING).every((k) => this.#syncedKinds.has(k as WatchedKind))) {
      if (this.#secretsStarted) return;
      this.#secretsStarted = true;
      this.#secrets?.setReferences(this.#references());
      this.#secrets?.start();
    }
  }

  /** Recomputes the referenced Secrets once per burst of events. */
  #scheduleReferences(kind: WatchedKind): void {
    if (!(kind in REFERENCING) || this.#refsScheduled || !this.#secretsStarted) return;
    this.#refsScheduled = true;
    setImmediate(() => {
      this.#refsScheduled = false;
      if (!this.#stopped) this.#secrets?.setReferences(this.#references());
    });
  }

  #references(): Set<string> {
    const snapshot = emptySnapshot();
    for (const entry of this.#informers) {
      const bucket = REFERENCING[entry.kind.kind];
      if (!bucket) continue;
      for (const object of entry.informer.list()) {
        (snapshot[bucket] as KubeObject[]).push(object as KubeObject);
      }
    }
    const options: TranslateOptions = { ...this.#options.translateOptions };
    if (this.#options.watchNamespaces?.length) options.watchNamespaces = this.#options.watchNamespaces;
    return new Set(secretReferences(snapshot, options).map((ref) => `${ref.namespace}/${ref.name}`));
  }
}

/**
 * Keeps in memory only the Secrets the config references (TLS, configFrom,
 * configPatches; see translate/secret-references.ts), and forwards exactly
 * those to the sink.
 *
 * It lists and watches Secrets in scope like an informer, but filters every
 * list item and watch event through the current reference set before keeping
 * anything: unreferenced Secrets are parsed and dropped, never stored. When
 * the reference set gains a Secret it does not hold, it GETs that one Secret;
 * when it loses one, it forgets it and removes it from the sink. Restarts
 * with backoff after errors and relists after 410 Gone, like the informers.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ObjectSink } from '../source.js';
import type { KubeObject } from '../translate/k8s-types.js';
import { apiRequest, errorSummary, KubernetesApiError } from './api-request.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { resourcePath, watchedPath } from './kinds.js';

const SECRET = watchedPath('Secret');

interface Scope {
  /** undefined: all namespaces. */
  namespace: string | undefined;
  resourceVersion: string;
  listed: boolean;
  watch: AbortController | undefined;
  timer: NodeJS.Timeout | undefined;
  backoff: Backoff;
}

export interface SecretTrackerOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; undefined or empty: all. */
  namespaces?: readonly string[];
  sink: ObjectSink;
  log: Logger;
  backoff?: BackoffOptions;
}

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;

export class SecretTracker {
  readonly #options: SecretTrackerOptions;
  readonly #watch: Watch;
  readonly #scopes: Scope[];
  #refs = new Set<string>();
  readonly #held = new Map<string, KubeObject>();
  #started = false;
  #stopped = false;
  #synced = false;

  constructor(options: SecretTrackerOptions) {
    this.#options = options;
    this.#watch = new Watch(options.kubeConfig);
    const namespaces = options.namespaces?.length ? [...options.namespaces] : [undefined];
    this.#scopes = namespaces.map((namespace) => ({
      namespace,
      resourceVersion: '',
      listed: false,
      watch: undefined,
      timer: undefined,
      backoff: new Backoff(options.backoff),
    }));
  }

  /** How many Secrets are held (only referenced ones). */
  get size(): number {
    return this.#held.size;
  }

  /** Replaces the reference set (`namespace/name` keys). */
  setReferences(refs: ReadonlySet<string>): void {
    this.#refs = new Set(refs);
    for (const [key, secret] of this.#held) {
      if (!this.#refs.has(key)) this.#forget(key, secret);
    }
    if (!this.#started) return;
    for (const key of this.#refs) {
      if (!this.#held.has(key)) void this.#fetch(key);
    }
  }

  /** Starts listing and watching; call after the first {@link setReferences}. */
  start(): void {
    this.#started = true;
    for (const scope of this.#scopes) void this.#run(scope);
  }

  stop(): void {
    this.#stopped = true;
    for (const scope of this.#scopes) {
      if (scope.timer) clearTimeout(scope.timer);
      scope.watch?.abort();
    }
  }

  async #run(scope: Scope): Promise<void> {
    if (this.#stopped) return;
    try {
      if (!scope.resourceVersion) await this.#list(scope);
      const path = resourcePath(SECRET, scope.namespace);
      const query = { resourceVersion: scope.resourceVersion, allowWatchBookmarks: true };
      scope.watch = await this.#watch.watch(
        path,
        query,
        (type: string, object: KubeObject & { code?: number }) => this.#onEvent(scope, type, object),
        (err: unknown) => this.#onDone(scope, err),
      );
      if (this.#stopped) scope.watch.abort();
    } catch (err) {
      this.#retry(scope, err);
    }
  }

  async #list(scope: Scope): Promise<void> {
    const list = await apiRequest<{ metadata?: { resourceVersion?: string }; items?: KubeObject[] }>(
      this.#options.kubeConfig,
      'GET',
      resourcePath(SECRET, scope.namespace),
    );
    const seen = new Set<string>();
    for (const item of list.items ?? []) {
      const key = keyOf(item.metadata.namespace, item.metadata.name);
      if (!this.#refs.has(key)) continue; // dropped here: never kept
      seen.add(key);
      this.#keep(key, item);
    }
    for (const [key, secret] of this.#held) {
      const inScope = scope.namespace === undefined || secret.metadata.namespace === scope.namespace;
      if (inScope && !seen.has(key)) this.#forget(key, secret);
    }
    scope.resourceVersion = list.metadata?.resourceVersion ?? '';
    scope.backoff.reset();
    scope.listed = true;
    if (!this.#synced && this.#scopes.every((s) => s.listed)) {
      this.#synced = true;
      this.#options.sink.synced('Secret');
    }
  }

  #onEvent(scope: Scope, type: string, object: KubeObject & { code?: number }): void {
    if (type === 'ERROR') {
      if (object.code === 410) scope.resourceVersion = ''; // the stream ends next; relist then
      return;
    }
    const key = keyOf(object.metadata?.namespace, object.metadata?.name);
    if (type === 'ADDED' || type === 'MODIFIED') {
      if (this.#refs.has(key)) this.#keep(key, object);
      else if (this.#held.has(key)) this.#forget(key, this.#held.get(key)!);
    } else if (type === 'DELETED') {
      const held = this.#held.get(key);
      if (held) this.#forget(key, held);
    }
    scope.resourceVersion = object.metadata?.resourceVersion ?? scope.resourceVersion;
    scope.backoff.reset();
  }

  #onDone(scope: Scope, err: unknown): void {
    scope.watch = undefined;
    if (this.#stopped) return;
    if (err && (err as { statusCode?: number }).statusCode === 410) scope.resourceVersion = '';
    else if (err) return this.#retry(scope, err);
    void this.#run(scope); // closed normally or gone: watch again (relisting if needed)
  }

  #retry(scope: Scope, err: unknown): void {
    if (this.#stopped) return;
    if (err instanceof KubernetesApiError && err.statusCode === 410) scope.resourceVersion = '';
    const delay = scope.backoff.next();
    this.#options.log.warn(
      { err: errorSummary(err), namespace: scope.namespace, delayMs: delay },
      'secret watch failed; retrying',
    );
    scope.timer = setTimeout(() => {
      scope.timer = undefined;
      void this.#run(scope);
    }, delay);
  }

  async #fetch(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    try {
      const secret = await apiRequest<KubeObject>(
        this.#options.kubeConfig,
        'GET',
        resourcePath(SECRET, namespace, name),
      );
      // Still wanted, and not delivered by the watch meanwhile.
      if (this.#refs.has(key) && !this.#held.has(key) && !this.#stopped) this.#keep(key, secret);
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 404) return; // appears through the watch
      this.#options.log.warn(
        { err: errorSummary(err), namespace, name },
        'could not read a referenced secret',
      );
      // The next relist (after any watch error) reads it again.
    }
  }

  #keep(key: string, secret: KubeObject): void {
    const object = { ...secret, apiVersion: 'v1', kind: 'Secret' };
    const held = this.#held.get(key);
    if (held && held.metadata.resourceVersion === object.metadata.resourceVersion) return;
    this.#held.set(key, object);
    this.#options.sink.upsert(object);
  }

  #forget(key: string, secret: KubeObject): void {
    this.#held.delete(key);
    this.#options.sink.remove('Secret', secret.metadata.namespace, secret.metadata.name);
  }
}

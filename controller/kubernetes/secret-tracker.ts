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
 *
 * Where RBAC refuses list or watch (the least-privilege default grants only
 * `get` on Secrets, so the controller cannot enumerate them), that scope
 * falls back to reading each referenced Secret by name, again every
 * `refreshMs`: changes there show within that interval instead of at once.
 * Referenced Secrets outside every watched namespace are read the same way.
 */
import type { KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ObjectSink } from '../source.js';
import type { KubeObject } from '../translate/k8s-types.js';
import { apiRequest, errorSummary, KubernetesApiError } from './api-request.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { BookmarkWatch } from './bookmark-watch.js';
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
  /** `get`: RBAC refused list or watch here; referenced Secrets are read one by one. */
  mode: 'watch' | 'get';
}

export interface SecretTrackerOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; undefined or empty: all. */
  namespaces?: readonly string[];
  sink: ObjectSink;
  log: Logger;
  backoff?: BackoffOptions;
  /** How often Secrets that no watch covers are read again. Default 30 s. */
  refreshMs?: number;
  /** See BookmarkWatch. */
  watchTimeoutSeconds?: number;
}

export const DEFAULT_SECRET_REFRESH_MS = 30_000;

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
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(options: SecretTrackerOptions) {
    this.#options = options;
    this.#watch = new BookmarkWatch(options.kubeConfig, options.watchTimeoutSeconds);
    const namespaces = options.namespaces?.length ? [...options.namespaces] : [undefined];
    this.#scopes = namespaces.map((namespace) => ({
      namespace,
      resourceVersion: '',
      listed: false,
      watch: undefined,
      timer: undefined,
      backoff: new Backoff(options.backoff),
      mode: 'watch' as const,
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
    this.#refreshTimer = setInterval(
      () => void this.#refresh(),
      this.#options.refreshMs ?? DEFAULT_SECRET_REFRESH_MS,
    );
    this.#refreshTimer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#refreshTimer);
    for (const scope of this.#scopes) {
      if (scope.timer) clearTimeout(scope.timer);
      scope.watch?.abort();
    }
  }

  async #run(scope: Scope): Promise<void> {
    if (this.#stopped || scope.mode === 'get') return;
    try {
      if (!scope.resourceVersion) await this.#list(scope);
      const path = resourcePath(SECRET, scope.namespace);
      const query = { resourceVersion: scope.resourceVersion };
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
    this.#maybeSynced();
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
    if ((err as { statusCode?: number } | undefined)?.statusCode === 403) return void this.#readByName(scope);
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

  /** RBAC refused list or watch in this scope: read its referenced Secrets by name from now on. */
  async #readByName(scope: Scope): Promise<void> {
    scope.mode = 'get';
    scope.watch?.abort();
    this.#options.log.info(
      {
        namespace: scope.namespace ?? '(all)',
        refreshMs: this.#options.refreshMs ?? DEFAULT_SECRET_REFRESH_MS,
      },
      'no list/watch permission on Secrets here; reading each referenced Secret by name, periodically',
    );
    await this.#refresh();
    scope.listed = true;
    this.#maybeSynced();
  }

  /** Whether a watch (listed, allowed) delivers changes to this Secret. */
  #watched(key: string): boolean {
    const namespace = key.slice(0, key.indexOf('/'));
    return this.#scopes.some(
      (s) => s.mode === 'watch' && (s.namespace === undefined || s.namespace === namespace),
    );
  }

  /** Reads again every referenced Secret no watch covers; one pass at a time. */
  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      for (const key of [...this.#refs]) {
        if (this.#stopped) break;
        if (!this.#watched(key)) await this.#fetch(key, true);
      }
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  #maybeSynced(): void {
    if (!this.#synced && this.#scopes.every((s) => s.listed)) {
      this.#synced = true;
      this.#options.sink.synced('Secret');
    }
  }

  async #fetch(key: string, refresh = false): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    try {
      const secret = await apiRequest<KubeObject>(
        this.#options.kubeConfig,
        'GET',
        resourcePath(SECRET, namespace, name),
      );
      // Still wanted, and (unless re-reading) not delivered by the watch meanwhile.
      if (this.#refs.has(key) && (refresh || !this.#held.has(key)) && !this.#stopped) this.#keep(key, secret);
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 404) {
        // Watched: it appears through the watch. Read by name: gone until a later pass finds it.
        const held = this.#held.get(key);
        if (refresh && held) this.#forget(key, held);
        return;
      }
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

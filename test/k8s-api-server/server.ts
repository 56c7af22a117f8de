/**
 * A small Kubernetes API server for tests, on node:http. The real
 * @kubernetes/client-node talks to it through {@link KubeApiTestServer.kubeConfig}.
 *
 * What it is for: the faults a real kube-apiserver cannot be made to show on
 * demand, in unit tests that run without Go (npm run test:kube runs the
 * controller against the real server). Faults: {@link dropWatches} (every
 * watch cut mid-stream), {@link compact} (410 Gone at a chosen moment),
 * {@link stop} and {@link start} (gone and back on the same port),
 * {@link forbid} (a 403 on chosen requests).
 *
 * Serves list, watch (with bookmarks and 410 Gone), get, create, update,
 * patch (merge and JSON patch), delete and the `/status` subresource for the
 * types in `resources.ts`, namespaced and across all namespaces, and refuses
 * loopback and link-local EndpointSlice addresses as the real server does.
 * What it does not implement (`limit`/`continue`, field selectors,
 * strategic-merge patches) it refuses instead of answering differently;
 * it validates no schema and has no RBAC.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { jsonPatch, mergePatch, type JsonPatchOp } from './patch.js';
import { parsePath, type ParsedPath, type ResourceType } from './resources.js';
import { ObjectStore, StoreError, type Change, type Obj } from './store.js';

export interface RequestRecord {
  method: string;
  path: string;
}

export class KubeApiTestServer {
  readonly store = new ObjectStore();
  /** Every request, in order (method and path with query). */
  readonly requests: RequestRecord[] = [];
  /** How many watches were answered with 410 Gone (an ERROR event). */
  goneWatches = 0;
  /** Answers 403 Forbidden where this returns true, as RBAC would (a fault for tests). */
  forbid: ((method: string, url: URL) => boolean) | undefined;
  #server: Server | undefined;
  #port = 0;
  readonly #watches = new Set<{
    res: ServerResponse;
    bookmarks: boolean;
    resource: ResourceType;
    namespace?: string;
  }>();

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  /** Listens (on the previous port after a {@link stop}, else on a free one). */
  async start(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Closes the listener and every connection, watches included. Objects are kept. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.dropWatches();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Cuts every open watch connection mid-stream, without a final event. */
  dropWatches(): void {
    for (const watch of this.#watches) watch.res.destroy();
    this.#watches.clear();
  }

  /** Forgets the change history, so that watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that allows bookmarks. */
  sendBookmarks(): void {
    for (const watch of this.#watches) {
      if (watch.bookmarks) this.#writeBookmark(watch.res, watch.resource);
    }
  }

  /** A kubeconfig pointing at this server (plain HTTP, a token that is accepted and ignored). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'test', token: 'test-token' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
    return kc;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname + url.search });
    if (this.forbid?.(method, url)) {
      sendStatus(res, 403, 'Forbidden', `forbidden: ${method} ${url.pathname}`);
      return;
    }
    const parsed = parsePath(url.pathname);
    if (!parsed) {
      sendStatus(res, 404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
      return;
    }
    readBody(req)
      .then((body) =>
        this.#route(method, parsed, url.searchParams, body, req.headers['content-type'] ?? '', res),
      )
      .catch((err: unknown) => {
        if (err instanceof StoreError) sendStatus(res, err.code, err.reason, err.message);
        else sendStatus(res, 400, 'BadRequest', err instanceof Error ? err.message : String(err));
      });
  }

  #route(
    method: string,
    p: ParsedPath,
    query: URLSearchParams,
    body: string,
    contentType: string,
    res: ServerResponse,
  ): void {
    const { type, namespace, name, subresource } = p;
    // What this server does not implement fails loudly instead of answering
    // differently from a real kube-apiserver.
    for (const param of UNSUPPORTED_PARAMS) {
      if (query.has(param))
        throw new StoreError(400, 'BadRequest', `the test API server does not implement ${param}`);
    }
    if (subresource !== undefined && (subresource !== 'status' || !type.status)) {
      sendStatus(res, 404, 'NotFound', `no subresource ${subresource} on ${type.plural}`);
      return;
    }
    if (name === undefined) {
      if (method === 'GET' && isTrue(query.get('watch'))) return this.#watch(type, namespace, query, res);
      if (method === 'GET') return sendJson(res, 200, this.#list(type, namespace, query));
      if (method === 'POST') {
        if (type.namespaced && namespace === undefined)
          throw new StoreError(405, 'MethodNotAllowed', 'namespace required');
        return sendJson(res, 201, this.store.create(type, namespace, parseObject(body)));
      }
    } else {
      const onlyStatus = subresource === 'status';
      if (method === 'GET') return sendJson(res, 200, this.store.get(type, namespace, name));
      if (method === 'PUT') {
        return sendJson(res, 200, this.store.update(type, namespace, name, parseObject(body), onlyStatus));
      }
      if (method === 'PATCH') {
        const current = this.store.get(type, namespace, name);
        if (contentType.startsWith('application/apply-patch') && !query.get('fieldManager'))
          throw new StoreError(400, 'BadRequest', 'fieldManager is required for apply patch');
        const patched = applyPatch(current, body, contentType);
        patched.metadata = { ...patched.metadata, resourceVersion: current.metadata.resourceVersion };
        return sendJson(res, 200, this.store.update(type, namespace, name, patched, onlyStatus));
      }
      if (method === 'DELETE') return sendJson(res, 200, this.store.delete(type, namespace, name));
    }
    sendStatus(res, 405, 'MethodNotAllowed', `${method} is not allowed here`);
  }

  #list(type: ResourceType, namespace: string | undefined, query: URLSearchParams): Obj {
    const items = this.store
      .list(type, namespace)
      .filter((o) => matchesLabels(o, query.get('labelSelector')));
    return {
      apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
      kind: `${type.kind}List`,
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    };
  }

  #watch(
    resource: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
    res: ServerResponse,
  ): void {
    const rvParam = query.get('resourceVersion');
    const selector = query.get('labelSelector');
    const bookmarks = isTrue(query.get('allowWatchBookmarks'));
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    let backlog: Change[] | undefined;
    if (!rvParam || rvParam === '0') {
      // No resourceVersion: the current state as ADDED events, then changes.
      backlog = this.store.list(resource, namespace).map((object) => ({
        rv: Number(object.metadata.resourceVersion),
        type: 'ADDED',
        resource,
        object,
      }));
    } else {
      backlog = this.store.changesSince(Number(rvParam), resource, namespace);
      if (!backlog) {
        this.goneWatches++;
        send('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${rvParam} (${this.store.oldestResourceVersion})`,
          reason: 'Expired',
          code: 410,
        });
        res.end();
        return;
      }
    }
    const watch = { res, bookmarks, resource, ...(namespace !== undefined ? { namespace } : {}) };
    const unsubscribe = this.store.subscribe((change) => {
      if (change.resource !== resource) return;
      if (namespace !== undefined && change.object.metadata.namespace !== namespace) return;
      if (matchesLabels(change.object, selector)) send(change.type, change.object);
    });
    this.#watches.add(watch);
    const timeout = Number(query.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      unsubscribe();
      this.#watches.delete(watch);
      if (timer) clearTimeout(timer);
    });
    for (const change of backlog) {
      if (matchesLabels(change.object, selector)) send(change.type, change.object);
    }
    if (bookmarks) this.#writeBookmark(res, resource);
  }

  #writeBookmark(res: ServerResponse, resource: ResourceType): void {
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    const object = {
      apiVersion,
      kind: resource.kind,
      metadata: { resourceVersion: String(this.store.resourceVersion) },
    };
    res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
  }
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** Equality-based selectors only: `a=b,c==d,e!=f,g,!h`. */
function matchesLabels(object: Obj, selector: string | null): boolean {
  if (!selector) return true;
  const labels = (object.metadata.labels ?? {}) as Record<string, string>;
  return selector.split(',').every((term) => {
    const t = term.trim();
    const ne = t.split('!=');
    if (ne.length === 2) return labels[ne[0]!.trim()] !== ne[1]!.trim();
    const eq = t.split(/==?/);
    if (eq.length === 2) return labels[eq[0]!.trim()] === eq[1]!.trim();
    if (t.startsWith('!')) return !(t.slice(1) in labels);
    return t in labels;
  });
}

function applyPatch(current: Obj, body: string, contentType: string): Obj {
  const patch: unknown = JSON.parse(body);
  const type = contentType.split(';')[0]?.trim();
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(patch)) throw new StoreError(400, 'BadRequest', 'a JSON patch must be an array');
    return jsonPatch(current, patch as JsonPatchOp[]) as Obj;
  }
  // Strategic merge (list merge keys from Go struct tags) is not implemented:
  // refused, as the real server refuses it for custom resources.
  if (type === 'application/merge-patch+json') return mergePatch(current, patch) as Obj;
  // Server-side apply, as far as the controller uses it: status.conditions
  // merge by type (x-kubernetes-list-type: map). Field ownership and its
  // 409 conflicts are not modelled; test/kube/ checks them on a real server.
  if (type === 'application/apply-patch+yaml') return applyConditions(current, patch as Obj);
  throw new StoreError(415, 'UnsupportedMediaType', `unsupported patch type ${contentType}`);
}

function applyConditions(current: Obj, patch: Obj): Obj {
  type Condition = { type?: string };
  const status = (patch.status ?? {}) as { conditions?: Condition[] };
  const before = ((current.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter(
    (c) => !status.conditions?.some((n) => n.type === c.type),
  );
  const merged = mergePatch(current, { status: patch.status ?? {} }) as Obj;
  if (status.conditions)
    (merged.status as { conditions: Condition[] }).conditions = [...before, ...status.conditions];
  return merged;
}

const UNSUPPORTED_PARAMS = ['limit', 'continue', 'fieldSelector'];

function parseObject(body: string): Obj {
  const value: unknown = JSON.parse(body);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StoreError(400, 'BadRequest', 'the body must be an object');
  }
  const obj = value as Obj;
  if (obj.metadata === null || typeof obj.metadata !== 'object') obj.metadata = {};
  return obj;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

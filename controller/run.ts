/**
 * Wires one controller together: a source feeds the object store, the sync
 * loop builds and pushes, and a status port reports on it. Which source
 * (manifest folder or Kubernetes API) and which proxies is the caller's
 * choice; everything here is the same for both.
 */
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { listenOrExplain } from '../common/listen-failure.js';
import { ControllerMetrics } from './metrics.js';
import { portalView, type PortalView } from './portal/view.js';
import { ObjectStore } from './object-store.js';
import { ProxyClient } from './proxy-client.js';
import type { ObjectSource } from './source.js';
import { createControllerStatusApp } from './status-app.js';
import { SyncLoop } from './sync-loop.js';
import type { TranslateOptions, TranslateResult } from './translate/index.js';

export interface ControllerOptions {
  source: ObjectSource;
  /** Admin API base URLs of the proxies to keep in sync. */
  proxyUrls: readonly string[];
  adminToken?: string;
  translateOptions?: TranslateOptions;
  statusAddress: string;
  /** 0 picks a free port; false runs no status port. */
  statusPort: number | false;
  log: Logger;
  pollIntervalMs?: number;
  /** Resolves once the proxies can be pushed to; the source is read and built meanwhile. */
  proxiesUp?: Promise<unknown>;
  /** Runs after the source stopped, for what the caller added around the controller (status writer, lease). */
  onStop?: () => Promise<void> | void;
}

export interface RunningController {
  store: ObjectStore;
  loop: SyncLoop;
  metrics: ControllerMetrics;
  /** The status port's address, when one runs. */
  statusUrl: string | undefined;
  stop(): Promise<void>;
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const { log } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_controller_process_' });
  const metrics = new ControllerMetrics(registry);
  const store = new ObjectStore();
  const proxies = options.proxyUrls.map((url) => new ProxyClient({ url, token: options.adminToken }));
  const loop = new SyncLoop({
    store,
    proxies,
    log,
    metrics,
    translateOptions: options.translateOptions,
    pollIntervalMs: options.pollIntervalMs,
    proxiesUp: options.proxiesUp,
  });

  const { source } = options;
  // Problems of the source itself (a manifest that does not parse) change without any object changing.
  const unsubscribe = source.onProblems?.(() => metrics.sourceProblems(source.problems?.().length ?? 0));
  const sourceProblems = source.problems?.bind(source);
  // The view is made when asked for, from the latest result, and kept until the next one.
  let latest: TranslateResult | undefined;
  let view: PortalView | undefined;
  loop.onResult((result) => {
    latest = result;
    view = undefined;
  });
  const portal = () => (latest ? (view ??= portalView(latest.config, latest.statuses)) : undefined);
  const status =
    options.statusPort === false
      ? undefined
      : createControllerStatusApp({
          ready: () => loop.ready,
          registry,
          sourceProblems,
          portal,
          translateProblems: () => latest?.problems,
        });
  const where = {
    address: options.statusAddress,
    port: options.statusPort as number,
    portFlag: '--controller-status-port',
    addressFlag: '--controller-status-address',
  };
  const statusUrl = status
    ? await listenOrExplain(() => status.listen({ host: where.address, port: where.port }), where)
    : undefined;
  loop.start();
  try {
    await options.source.start(store);
  } catch (error) {
    loop.stop();
    unsubscribe?.();
    await status?.close();
    throw error;
  }
  log.info({ proxies: proxies.map((p) => p.name), status: statusUrl }, 'portcullis controller started');

  return {
    store,
    loop,
    metrics,
    statusUrl,
    stop: async () => {
      loop.stop();
      unsubscribe?.();
      await options.source.stop();
      await options.onStop?.();
      await status?.close();
    },
  };
}

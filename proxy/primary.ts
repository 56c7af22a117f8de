import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import { describeListenFailure, listenOrExplain } from '../common/listen-failure.js';
import { createAdminApp } from './admin-app.js';
import { loadInitialConfig } from './config-loader.js';
import { ConfigService } from './config-service.js';
import { ConfigMetrics } from './metrics.js';
import type { ProxyOptions } from './options.js';
import { StateStore } from './state-store.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { createStatusApp } from './status-app.js';
import { generateDefaultCertificate } from './tls/default-certificate.js';
import { SESSION_SECRET_ENV, sessionFallbackSecret } from './plugins/session-secret.js';
import { FALLBACK_PEM_ENV } from './fallback-pem.js';
import { WorkerListenError, WorkerPool } from './worker-pool.js';

export interface RunningProxy {
  service: ConfigService;
  /**
   * Graceful: /readyz fails at once, traffic is served for `delayMs`
   * (default --shutdown-delay), then the workers drain; done within
   * --drain-timeout of the call.
   */
  stop: (delayMs?: number) => Promise<void>;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/** The admin token, from its file or the environment; refuses to run an open admin API off loopback. */
async function adminToken(options: ProxyOptions, log: Logger): Promise<string | undefined> {
  const token = options.adminTokenFile
    ? (await readFile(options.adminTokenFile, 'utf8')).trim()
    : process.env.PORTCULLIS_ADMIN_TOKEN?.trim();
  // Only the primary checks it: workers, forked with this environment, must not hold it.
  delete process.env.PORTCULLIS_ADMIN_TOKEN;
  if (token) return token;
  if (!options.allowUnauthenticatedAdmin) {
    throw new PortcullisError(
      'PCS_STARTUP',
      'the admin API needs a token: set --admin-token-file or PORTCULLIS_ADMIN_TOKEN (or --allow-unauthenticated-admin on loopback)',
    );
  }
  if (!isLoopback(options.adminAddress)) {
    throw new PortcullisError(
      'PCS_STARTUP',
      `--allow-unauthenticated-admin is only allowed on loopback, not ${options.adminAddress}`,
    );
  }
  log.warn({ address: options.adminAddress }, 'admin API runs without a token (loopback only)');
  return undefined;
}

/**
 * The primary process of `portcullis proxy`: owns the config (admin API,
 * state dir), the status endpoints and the worker processes; it serves no
 * traffic itself.
 */
export async function runPrimary(options: ProxyOptions, log: Logger): Promise<RunningProxy> {
  if (options.shutdownDelay >= options.drainTimeout) {
    throw new PortcullisError(
      'PCS_STARTUP',
      `--shutdown-delay (${options.shutdownDelay} ms) must be shorter than --drain-timeout (${options.drainTimeout} ms)`,
    );
  }
  const token = await adminToken(options, log);
  const store = options.stateDir ? new StateStore(options.stateDir) : undefined;
  const initial = await loadInitialConfig(options.config, store, log);
  if (options.config && !initial) {
    throw new PortcullisError(
      'PCS_CONFIG_INVALID',
      `${options.config} is invalid and no last known good config exists`,
    );
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_primary_' });
  const metrics = new ConfigMetrics(registry, () => workers.size);
  const fallbackPem = await generateDefaultCertificate();
  const workers = new WorkerPool(log, options.workers, {
    [FALLBACK_PEM_ENV]: JSON.stringify(fallbackPem),
    [SESSION_SECRET_ENV]: sessionFallbackSecret(),
  });
  const service = new ConfigService(workers, store, metrics, log);

  let shuttingDown = false;
  const admin = createAdminApp(service, { token, maxConfigBytes: options.maxConfigBytes });
  const status = createStatusApp({
    ready: () => workers.ready,
    shuttingDown: () => shuttingDown,
    registry,
    workers: new ClusterMetrics(),
  });
  await listenOrExplain(() => admin.listen({ host: options.adminAddress, port: options.adminPort }), {
    address: options.adminAddress,
    port: options.adminPort,
    portFlag: '--admin-port',
    addressFlag: '--admin-address',
  });
  await listenOrExplain(() => status.listen({ host: options.statusAddress, port: options.statusPort }), {
    address: options.statusAddress,
    port: options.statusPort,
    portFlag: '--status-port',
    addressFlag: '--status-address',
  });
  workers.start();
  // Pushes that arrive meanwhile queue behind this; none is answered before the traffic ports listen.
  await service.start(workers.listening, initial).catch((error: unknown) => {
    if (!(error instanceof WorkerListenError)) throw error;
    const { server, code, address, port } = error.failure;
    throw new PortcullisError(
      'PCS_STARTUP',
      describeListenFailure({
        code,
        address,
        port,
        portFlag: server === 'http' ? '--http-port' : '--https-port',
        addressFlag: '--address',
      }),
    );
  });

  log.info(
    {
      admin: admin.addresses()[0],
      status: status.addresses()[0],
      http: options.httpPort,
      https: options.httpsPort,
      workers: options.workers,
    },
    'portcullis proxy started',
  );

  return {
    service,
    stop: async (delayMs = options.shutdownDelay) => {
      const deadline = Date.now() + options.drainTimeout;
      shuttingDown = true;
      // No more pushes: the config in service is the one drained on.
      const adminClosed = admin.close();
      log.info(
        { delayMs, drainTimeoutMs: options.drainTimeout },
        'shutting down: /readyz fails; draining traffic',
      );
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      await workers.stop(Math.max(0, deadline - Date.now()));
      // Last: /readyz answers 503 until the very end.
      await Promise.all([adminClosed, status.close()]);
    },
  };
}

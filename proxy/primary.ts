import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import { createAdminApp } from './admin-app.js';
import { loadInitialConfig } from './config-loader.js';
import { ConfigService } from './config-service.js';
import { ConfigMetrics } from './metrics.js';
import type { ProxyOptions } from './options.js';
import { StateStore } from './state-store.js';
import { createStatusApp } from './status-app.js';
import { generateDefaultCertificate } from './tls/default-certificate.js';
import { SESSION_SECRET_ENV, sessionFallbackSecret } from './plugins/session-secret.js';
import { FALLBACK_PEM_ENV } from './worker.js';
import { WorkerPool } from './worker-pool.js';

export interface RunningProxy {
  service: ConfigService;
  stop: () => Promise<void>;
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

  const admin = createAdminApp(service, { token, maxConfigBytes: options.maxConfigBytes });
  const status = createStatusApp({ ready: () => workers.ready, registry });
  await admin.listen({ host: options.adminAddress, port: options.adminPort });
  await status.listen({ host: options.statusAddress, port: options.statusPort });
  workers.start();
  if (initial) await service.serve(initial);

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
    stop: async () => {
      await Promise.all([admin.close(), status.close()]);
      await workers.stop();
    },
  };
}

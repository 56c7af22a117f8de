import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { createLogger } from '../common/logger.js';
import { FALLBACK_PEM_ENV } from './fallback-pem.js';
import { applyConfigPatch, type ConfigChanges } from '../contract/config-patch.js';
import type { CompiledConfig } from '../contract/index.js';
import type { MetricsAnswer, MetricsRequest } from './cluster-metrics.js';
import { TrafficMetrics } from './metrics.js';
import type { ProxyOptions } from './options.js';
import type { PluginEnvironment } from './plugins/registry.js';
import { RuntimeConfig } from './runtime-config.js';
import type { PemPair } from './tls/certificate-store.js';
import { createTrafficServers } from './traffic/traffic-app.js';
import { UpstreamPools } from './traffic/upstream-pools.js';

/** Messages between the primary and its workers over the cluster IPC channel. */
export type PrimaryMessage =
  /** `json` is a checked CompiledConfig with its defaults filled in. */
  | { type: 'portcullis:config'; generation: number; hash: string; json: string }
  /**
   * A pushed text not yet checked: the worker builds it (but does not serve
   * it) while the primary validates, so the two overlap. `id` numbers pushes.
   */
  | { type: 'portcullis:prepare'; id: number; hash: string; json: string }
  /** The prepared text passed the checks as it is: serve it under `generation`. */
  | { type: 'portcullis:commit'; id: number; generation: number }
  /** The prepared text was rejected, or will come as a full config instead. */
  | { type: 'portcullis:discard'; id: number }
  /**
   * A config patch (`json`: its changes as JSON) not yet checked, turning the
   * config of hash `base` into the config `hash`: prepared like a pushed
   * text, but only by a worker serving `base`. Any other has nothing
   * prepared, so its commit is answered with not-prepared.
   */
  | { type: 'portcullis:prepare-patch'; id: number; base: string; hash: string; json: string }
  /** Drain: finish what was read, refuse the rest, exit within `graceMs`. */
  | { type: 'portcullis:shutdown'; graceMs: number };
export type WorkerMessage =
  | { type: 'portcullis:want-config' }
  | { type: 'portcullis:listening'; httpPort: number; httpsPort: number }
  | { type: 'portcullis:applied'; generation: number }
  /** A commit found nothing prepared under its id (forked later, or the build threw): send the full config. */
  | { type: 'portcullis:not-prepared'; id: number; generation: number }
  | { type: 'portcullis:apply-failed'; generation: number; message: string }
  /** A traffic port could not be bound; the worker waits for the primary to end it. */
  | {
      type: 'portcullis:listen-failed';
      server: 'http' | 'https';
      code: string;
      address: string;
      port: number;
    };

/** `done` runs once the message left (or could not: the primary is gone, and the worker exits on disconnect). */
function send(message: WorkerMessage | MetricsAnswer, done: () => void = () => undefined): void {
  if (!process.connected) return done();
  // With a callback a closed channel is an error passed here, not an EPIPE thrown at the worker.
  process.send?.(message, undefined, undefined, () => done());
}

/**
 * A worker process: serves traffic on the shared ports with whatever config
 * the primary last sent. Building a config happens here, off the request
 * path; serving it is one reference swap.
 */
export async function runWorker(options: ProxyOptions): Promise<void> {
  const log = createLogger({ level: options.logLevel, name: 'portcullis-proxy' });
  const fallbackPem = JSON.parse(process.env[FALLBACK_PEM_ENV] ?? '{}') as PemPair;
  const pools = new UpstreamPools();
  let current: RuntimeConfig | undefined;
  const environment: PluginEnvironment = {
    idpCalls: {
      concurrency: options.oidcIdpMaxConcurrent,
      ratePerSecond: options.oidcIdpRate,
      burst: options.oidcIdpBurst,
    },
    log,
  };
  const servers = await createTrafficServers({
    current: () => current,
    pools,
    metrics: new TrafficMetrics(register),
    log,
    options,
    fallbackPem,
  });

  /** At most one: a newer prepare replaces it, so a worker never holds more than one spare config. */
  let prepared: { id: number; config: RuntimeConfig } | undefined;

  /** Builds (unless prepared) and swaps in a checked config; on failure the previous one stays. */
  const serve = (build: () => RuntimeConfig, generation: number): void => {
    try {
      const next = build().serveAs(generation);
      if (next.certificates.defaultPem !== current?.certificates.defaultPem) {
        servers.https.setSecureContext(next.certificates.defaultPem);
      }
      current = next;
      pools.retain(next.origins);
      send({ type: 'portcullis:applied', generation });
    } catch (error) {
      log.error({ err: error, generation }, 'config could not be applied; keeping the previous one');
      send({ type: 'portcullis:apply-failed', generation, message: (error as Error).message });
    }
  };

  // Every handler is synchronous and IPC keeps order, so a commit always
  // finds the prepare sent before it already built (or failed).
  process.on('message', (message: PrimaryMessage | MetricsRequest) => {
    if (message.type === 'portcullis:metrics-request') {
      const { id } = message;
      void register.getMetricsAsJSON().then((metrics) => send({ type: 'portcullis:metrics', id, metrics }));
    } else if (message.type === 'portcullis:prepare') {
      prepared = undefined;
      try {
        const config = JSON.parse(message.json) as CompiledConfig;
        prepared = {
          id: message.id,
          config: new RuntimeConfig(config, message.hash, fallbackPem, environment),
        };
      } catch {
        // Not an error: the text is unchecked (and its parse error may quote it, so it is not
        // logged). Should it pass the checks anyway, its commit is answered with not-prepared.
        log.debug({ push: message.id }, 'could not prepare a pushed config');
      }
    } else if (message.type === 'portcullis:commit') {
      const next = prepared?.id === message.id ? prepared.config : undefined;
      prepared = undefined;
      if (next) serve(() => next, message.generation);
      else send({ type: 'portcullis:not-prepared', id: message.id, generation: message.generation });
    } else if (message.type === 'portcullis:discard') {
      if (prepared?.id === message.id) prepared = undefined;
    } else if (message.type === 'portcullis:prepare-patch') {
      prepared = undefined;
      const base = current;
      if (base?.hash !== message.base) {
        // It started since, or missed a config: the patch does not apply to what it serves.
        log.debug({ push: message.id }, 'not serving the base of a config patch');
        return;
      }
      try {
        const changes = JSON.parse(message.json) as ConfigChanges;
        const config = applyConfigPatch(base.config, changes);
        prepared = {
          id: message.id,
          config: new RuntimeConfig(config, message.hash, fallbackPem, environment),
        };
      } catch {
        // Unchecked, like a prepared text: a patch the primary accepts builds as its full config would.
        log.debug({ push: message.id }, 'could not prepare a config patch');
      }
    } else if (message.type === 'portcullis:config') {
      // A full config supersedes whatever was prepared before it.
      prepared = undefined;
      const { json, hash } = message;
      serve(
        () => new RuntimeConfig(JSON.parse(json) as CompiledConfig, hash, fallbackPem, environment),
        message.generation,
      );
    } else if (message.type === 'portcullis:shutdown') {
      // Before both ports listen nothing was served: nothing to drain.
      if (!listening) process.exit(0);
      void servers
        .drain(message.graceMs)
        .then(() => pools.close())
        .finally(() => process.exit(0));
    }
  });
  send({ type: 'portcullis:want-config' });
  // The primary orchestrates shutdown (a Ctrl-C reaches the whole process
  // group); a worker whose primary is gone exits when the IPC channel closes.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  // Node's own cluster messages (a listen asks the primary for the port) fail
  // with EPIPE once the primary is gone; that is not news, the exit above follows.
  cluster.worker?.on('error', () => undefined);

  let listening = false;
  const listen = (server: 'http' | 'https', port: number) =>
    new Promise<void>((resolve, reject) => {
      const target = server === 'http' ? servers.http : servers.https;
      target.once('error', reject);
      target.listen(port, options.address, () => {
        target.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      // Reported to the primary, which decides (fatal at start-up); no stack trace here.
      const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
      // The primary ends this worker (or its own start-up): exiting here could be seen before the message.
      send({ type: 'portcullis:listen-failed', server, code, address: options.address, port });
      return new Promise<never>(() => undefined);
    });
  await listen('http', options.httpPort);
  await listen('https', options.httpsPort);
  listening = true;
  send({
    type: 'portcullis:listening',
    httpPort: (servers.http.address() as AddressInfo).port,
    httpsPort: (servers.https.address() as AddressInfo).port,
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { stopYoungGenerationGrowth } from '../common/young-generation.js';
import type { ProxyClient } from '../controller/proxy-client.js';
import type { RunningController } from '../controller/run.js';
import { addProxyOptions, normaliseProxyOptions, type ProxyOptions } from '../proxy/options.js';
import {
  addControllerOptions,
  manifestFolderOptions,
  readTokenFile,
  requireManifestFolder,
  type ControllerFlags,
} from './controller-options.js';
import { firstUnbindablePort, type PortToCheck } from './port-check.js';
import { exitWithUsageError } from './usage-error.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

/** The proxy's own flags, spelled out, so the child does not depend on our environment. */
function proxyArgs(o: ProxyOptions): string[] {
  const args = [
    'proxy',
    ...['--address', o.address, '--http-port', String(o.httpPort), '--https-port', String(o.httpsPort)],
    ...['--admin-address', o.adminAddress, '--admin-port', String(o.adminPort)],
    ...['--status-address', o.statusAddress, '--status-port', String(o.statusPort)],
    ...['--workers', String(o.workers), '--log-level', o.logLevel],
    ...['--https-redirect-port', String(o.httpsRedirectPort), '--max-config-bytes', String(o.maxConfigBytes)],
    ...['--max-request-body-size', String(o.maxRequestBodySize)],
    ...['--client-body-timeout', String(o.clientBodyTimeout)],
    ...[
      '--oidc-idp-max-concurrent',
      String(o.oidcIdpMaxConcurrent),
      '--oidc-idp-rate',
      String(o.oidcIdpRate),
    ],
    ...['--oidc-idp-burst', String(o.oidcIdpBurst)],
    ...['--drain-timeout', String(o.drainTimeout), '--shutdown-delay', String(o.shutdownDelay)],
    // The proxy watches our IPC channel: when we die, even by SIGKILL, it shuts down.
    '--exit-with-parent',
  ];
  if (o.adminTokenFile) args.push('--admin-token-file', o.adminTokenFile);
  if (o.config) args.push('--config', o.config);
  if (o.stateDir) args.push('--state-dir', o.stateDir);
  if (o.trustedProxies.length > 0) args.push('--trusted-proxies', o.trustedProxies.join(','));
  if (o.accessLog) args.push('--access-log');
  return args;
}

/** Where the controller reaches the admin API it bound: a wildcard bind is reached on loopback. */
function adminUrl(o: ProxyOptions): string {
  const host = o.adminAddress === '0.0.0.0' ? '127.0.0.1' : o.adminAddress === '::' ? '::1' : o.adminAddress;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${o.adminPort}`;
}

/** Resolves once the admin API answers; rejects if the proxy exits first. */
async function waitForAdmin(client: ProxyClient, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error('the proxy exited during start');
    try {
      await client.currentHash();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function run(options: ProxyOptions, flags: ControllerFlags, log: Logger): Promise<void> {
  // Commander has made sure it is set (a mandatory option).
  const dir = flags.manifests!;
  await requireManifestFolder('run', dir);
  if (options.adminPort === 0)
    exitWithUsageError('run', '--admin-port must be a fixed port (the controller connects to it)');
  // Every port before anything starts: a taken one fails at once, naming its flag (and an old proxy).
  const admin: PortToCheck = {
    address: options.adminAddress,
    port: options.adminPort,
    portFlag: '--admin-port',
    addressFlag: '--admin-address',
  };
  const status: PortToCheck = {
    address: options.statusAddress,
    port: options.statusPort,
    portFlag: '--status-port',
    addressFlag: '--status-address',
  };
  const taken = await firstUnbindablePort(
    [
      { address: options.address, port: options.httpPort, portFlag: '--http-port', addressFlag: '--address' },
      {
        address: options.address,
        port: options.httpsPort,
        portFlag: '--https-port',
        addressFlag: '--address',
      },
      admin,
      status,
      {
        address: flags.controllerStatusAddress,
        port: flags.controllerStatusPort,
        portFlag: '--controller-status-port',
        addressFlag: '--controller-status-address',
      },
    ],
    { admin, status },
  );
  if (taken) {
    const { code, address, port } = taken.failure;
    log.fatal({ code: 'PCS_STARTUP', errno: code, address, port }, taken.message);
    process.exit(1);
  }
  // A fresh random token unless the user chose one (to use the admin API themselves).
  const token = options.adminTokenFile
    ? await readTokenFile('run', options.adminTokenFile)
    : randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('PORTCULLIS_')) env[key] = value;
  if (!options.adminTokenFile) env.PORTCULLIS_ADMIN_TOKEN = token;

  // Its own process group, so a Ctrl-C in the terminal reaches only us and the
  // proxy is told exactly once, below. Started first: it loads and starts while
  // we load ours and read the manifests.
  const child = spawn(process.execPath, [CLI, ...proxyArgs(options)], {
    env,
    // The IPC channel is what the proxy watches (--exit-with-parent); nothing is sent on it.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  child.channel?.unref();
  // Best effort if we are ended without a signal handler running (an uncaught error).
  process.once('exit', () => child.kill('SIGTERM'));
  let stopping = false;
  let failed = false;
  let controller: RunningController | undefined;
  let controllerStopped: Promise<void> | undefined;
  const stopController = () => (controllerStopped ??= controller?.stop() ?? Promise.resolve());
  child.once('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal }, 'the proxy exited; stopping');
    void stopController().finally(() => process.exit(failed ? 1 : stopping ? (code ?? 0) : code || 1));
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // `on`, not `once`: a second Ctrl-C must not kill us before the proxy (in
    // its own process group) is gone.
    process.on(signal, () => {
      if (stopping) return;
      log.info({ signal }, 'shutting down');
      stopping = true;
      // The controller first (its /readyz fails, no push races the drain); the proxy
      // drains, and the exit handler above exits once it is gone.
      void stopController();
      child.kill('SIGTERM');
    });
  }

  const url = adminUrl(options);
  try {
    const [{ ProxyClient }, { startController }, { ManifestFolderSource }] = await Promise.all([
      import('../controller/proxy-client.js'),
      import('../controller/run.js'),
      import('../controller/sources/manifest-folder.js'),
    ]);
    // The manifests are read and translated while the proxy starts; only the first push waits for it.
    const proxyUp = waitForAdmin(new ProxyClient({ url, token }), child);
    proxyUp.catch(() => undefined); // awaited below, after the controller started
    controller = await startController({
      source: new ManifestFolderSource({ dir, log, ...manifestFolderOptions(flags) }),
      proxyUrls: [url],
      adminToken: token,
      translateOptions: { ingressClass: flags.ingressClass },
      statusAddress: flags.controllerStatusAddress,
      statusPort: flags.controllerStatusPort,
      log,
      // One local proxy: notice a restart quickly.
      pollIntervalMs: 2000,
      proxiesUp: proxyUp,
    });
    await proxyUp;
  } catch (error) {
    log.fatal({ err: error }, (error as Error).message);
    stopping = true;
    failed = true;
    child.kill('SIGTERM');
  }
}

/** `portcullis run --manifests DIR`: controller and proxy together, without a cluster. */
export function registerRunCommand(program: Command): void {
  addControllerOptions(
    addProxyOptions(
      program
        .command('run')
        .description('run controller and proxy together on a folder of Kubernetes manifests (no cluster)'),
    ),
    { manifestsRequired: true },
  ).action(async (raw: Record<string, unknown>) => {
    // This process is the controller; the proxy is a child process of its own.
    stopYoungGenerationGrowth();
    const options = normaliseProxyOptions(raw);
    const { createLogger } = await import('../common/logger.js');
    const log = createLogger({ level: options.logLevel, name: 'portcullis-controller' });
    await run(options, raw as unknown as ControllerFlags, log);
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { ProxyClient } from '../controller/proxy-client.js';
import type { RunningController } from '../controller/run.js';
import { addProxyOptions, normaliseProxyOptions, type ProxyOptions } from '../proxy/options.js';
import {
  addControllerOptions,
  manifestFolderOptions,
  readTokenFile,
  type ControllerFlags,
} from './controller-options.js';

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
  if (!flags.manifests) {
    process.stderr.write('portcullis run: --manifests DIR is required\n');
    process.exit(2);
  }
  // Checked before the proxy starts, so a typo fails fast and alone.
  if (!(await stat(flags.manifests).catch(() => undefined))?.isDirectory()) {
    process.stderr.write(`portcullis run: --manifests ${flags.manifests} is not a directory\n`);
    process.exit(2);
  }
  if (options.adminPort === 0) {
    process.stderr.write(
      'portcullis run: --admin-port must be a fixed port (the controller connects to it)\n',
    );
    process.exit(2);
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
  // proxy is told exactly once, below.
  const [{ ProxyClient }, { startController }, { ManifestFolderSource }] = await Promise.all([
    import('../controller/proxy-client.js'),
    import('../controller/run.js'),
    import('../controller/sources/manifest-folder.js'),
  ]);
  const child = spawn(process.execPath, [CLI, ...proxyArgs(options)], {
    env,
    stdio: 'inherit',
    detached: true,
  });
  // Best effort if we are ended without a signal handler running (an uncaught error).
  process.once('exit', () => child.kill('SIGTERM'));
  let stopping = false;
  let failed = false;
  let controller: RunningController | undefined;
  child.once('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal }, 'the proxy exited; stopping');
    void (controller?.stop() ?? Promise.resolve()).finally(() =>
      process.exit(failed ? 1 : stopping ? (code ?? 0) : code || 1),
    );
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // `on`, not `once`: a second Ctrl-C must not kill us before the proxy (in
    // its own process group) is gone.
    process.on(signal, () => {
      if (stopping) return;
      log.info({ signal }, 'shutting down');
      stopping = true;
      // The exit handler above stops the controller and exits once the proxy is gone.
      child.kill('SIGTERM');
    });
  }

  const url = adminUrl(options);
  try {
    await waitForAdmin(new ProxyClient({ url, token }), child);
    controller = await startController({
      source: new ManifestFolderSource({ dir: flags.manifests, log, ...manifestFolderOptions(flags) }),
      proxyUrls: [url],
      adminToken: token,
      translateOptions: { ingressClass: flags.ingressClass },
      statusAddress: flags.controllerStatusAddress,
      statusPort: flags.controllerStatusPort,
      log,
      // One local proxy: notice a restart quickly.
      pollIntervalMs: 2000,
    });
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
  ).action(async (raw: Record<string, unknown>) => {
    const options = normaliseProxyOptions(raw);
    const { createLogger } = await import('../common/logger.js');
    const log = createLogger({ level: options.logLevel, name: 'portcullis-controller' });
    await run(options, raw as unknown as ControllerFlags, log);
  });
}

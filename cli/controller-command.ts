import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import { stopYoungGenerationGrowth } from '../common/young-generation.js';
import type { RunningController } from '../controller/run.js';
import type { ObjectSource } from '../controller/source.js';
import { DEFAULT_WATCH_TIMEOUT_SECONDS } from '../controller/kubernetes/watch-timeout.js';
import {
  addControllerOptions,
  manifestFolderOptions,
  readTokenFile,
  requireManifestFolder,
  type ControllerFlags,
} from './controller-options.js';
import {
  hostList,
  httpUrlList,
  LOG_LEVELS,
  namespace,
  namespacedName,
  namespaceList,
  positiveInt,
  readableFile,
} from './flag-parsers.js';
import { createKubernetesMode, type KubernetesFlags, type KubernetesMode } from './kubernetes-mode.js';
import { exitWithUsageError } from './usage-error.js';

interface ControllerCommandFlags extends ControllerFlags, KubernetesFlags {
  proxyAdminUrl?: string[];
  adminTokenFile?: string;
  logLevel: string;
}

const DEFAULT_PROXY_ADMIN_URL = 'http://127.0.0.1:8001';

/** Runs a controller until SIGTERM/SIGINT; exits 1 if it cannot start. */
export async function runControllerUntilSignal(
  start: () => Promise<RunningController>,
  log: Logger,
): Promise<RunningController | undefined> {
  try {
    const controller = await start();
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      void controller.stop().finally(() => process.exit(0));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    return controller;
  } catch (error) {
    // A coded start-up failure is one sentence that says what to change; anything else keeps its stack.
    if (error instanceof PortcullisError) log.fatal({ code: error.code }, error.message);
    else log.fatal({ err: error }, (error as Error).message);
    process.exit(1);
  }
}

/** `portcullis controller`: the controller alone, pushing to one or more proxies' admin APIs. */
export function registerControllerCommand(program: Command): void {
  addControllerOptions(
    program.command('controller').description('run the controller: read objects, translate, push to proxies'),
  )
    .addOption(
      new Option(
        '--proxy-admin-url <url>',
        `admin API of a proxy to push to; repeat or comma-separate for several (default ${DEFAULT_PROXY_ADMIN_URL})`,
      )
        .env('PORTCULLIS_PROXY_ADMIN_URLS')
        .argParser(httpUrlList),
    )
    .addOption(
      new Option(
        '--admin-token-file <file>',
        "file holding the proxies' admin bearer token (or set PORTCULLIS_ADMIN_TOKEN)",
      )
        .env('PORTCULLIS_ADMIN_TOKEN_FILE')
        .argParser(readableFile),
    )
    .addOption(
      new Option(
        '--kubeconfig <file>',
        'kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster)',
      ).env('KUBECONFIG'),
    )
    .addOption(
      new Option('--watch-namespaces <list>', 'comma-separated namespaces to watch (default: all)')
        .env('PORTCULLIS_WATCH_NAMESPACES')
        .argParser(namespaceList),
    )
    .addOption(
      new Option(
        '--secret-refresh-interval <seconds>',
        'without list/watch on Secrets (RBAC get only), re-read each referenced Secret this often',
      )
        .env('PORTCULLIS_SECRET_REFRESH_INTERVAL')
        .argParser(positiveInt)
        .default(30),
    )
    .addOption(
      new Option(
        '--watch-timeout <seconds>',
        'each watch request lasts 1-2x this, then resumes from its last bookmark',
      )
        .env('PORTCULLIS_WATCH_TIMEOUT')
        .argParser(positiveInt)
        .default(DEFAULT_WATCH_TIMEOUT_SECONDS),
    )
    .addOption(
      new Option(
        '--publish-address <list>',
        'IPs or host names written to Ingress status.loadBalancer (comma-separated)',
      )
        .env('PORTCULLIS_PUBLISH_ADDRESS')
        .argParser(hostList),
    )
    .addOption(
      new Option(
        '--publish-service <namespace/name>',
        "Service whose addresses are written to Ingress status (its load balancer's, external IPs or cluster IP)",
      )
        .env('PORTCULLIS_PUBLISH_SERVICE')
        .argParser(namespacedName),
    )
    .addOption(
      new Option(
        '--no-leader-election',
        'write status and Events from every replica (single replica only)',
      ).env('PORTCULLIS_NO_LEADER_ELECTION'),
    )
    .addOption(
      new Option(
        '--leader-election-namespace <ns>',
        'namespace of the Lease and of Events about cluster objects',
      )
        .env('POD_NAMESPACE')
        .argParser(namespace)
        .default('default'),
    )
    .addOption(
      new Option('--log-level <level>', 'log lines at this level and above')
        .env('PORTCULLIS_LOG_LEVEL')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .action(async (flags: ControllerCommandFlags) => {
      stopYoungGenerationGrowth();
      const [{ createLogger }, { startController }, { ManifestFolderSource }] = await Promise.all([
        import('../common/logger.js'),
        import('../controller/run.js'),
        import('../controller/sources/manifest-folder.js'),
      ]);
      const log = createLogger({ level: flags.logLevel, name: 'portcullis-controller' });
      if (flags.manifests) await requireManifestFolder('controller', flags.manifests);
      const token = flags.adminTokenFile
        ? await readTokenFile('controller', flags.adminTokenFile)
        : process.env.PORTCULLIS_ADMIN_TOKEN?.trim() || undefined;
      if (!token) log.warn('no admin token: pushes only work to proxies that allow unauthenticated admin');

      let source: ObjectSource;
      let kubernetes: KubernetesMode | undefined;
      if (flags.manifests) {
        source = new ManifestFolderSource({ dir: flags.manifests, log, ...manifestFolderOptions(flags) });
      } else {
        try {
          kubernetes = await createKubernetesMode(flags, log);
        } catch (error) {
          exitWithUsageError('controller', (error as Error).message);
        }
        source = kubernetes.source;
      }

      const controller = await runControllerUntilSignal(
        () =>
          startController({
            source,
            proxyUrls: flags.proxyAdminUrl?.length ? flags.proxyAdminUrl : [DEFAULT_PROXY_ADMIN_URL],
            adminToken: token,
            translateOptions: { ingressClass: flags.ingressClass },
            statusAddress: flags.controllerStatusAddress,
            statusPort: flags.controllerStatusPort,
            log,
            onStop: () => kubernetes?.stop(),
          }),
        log,
      );
      if (controller) kubernetes?.attach(controller);
    });
}

import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import type { RunningController } from '../controller/run.js';
import type { ObjectSource } from '../controller/source.js';
import { addControllerOptions, readTokenFile, type ControllerFlags } from './controller-options.js';

interface ControllerCommandFlags extends ControllerFlags {
  proxyAdminUrl?: string[];
  adminTokenFile?: string;
  logLevel: string;
}

const DEFAULT_PROXY_ADMIN_URL = 'http://127.0.0.1:8001';

function urls(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

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
    log.fatal({ err: error }, (error as Error).message);
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
        .argParser(urls),
    )
    .addOption(
      new Option(
        '--admin-token-file <file>',
        "file holding the proxies' admin bearer token (or set PORTCULLIS_ADMIN_TOKEN)",
      ).env('PORTCULLIS_ADMIN_TOKEN_FILE'),
    )
    .addOption(
      new Option('--log-level <level>', 'trace|debug|info|warn|error')
        .env('PORTCULLIS_LOG_LEVEL')
        .default('info'),
    )
    .action(async (flags: ControllerCommandFlags) => {
      const [{ createLogger }, { startController }, { ManifestFolderSource }] = await Promise.all([
        import('../common/logger.js'),
        import('../controller/run.js'),
        import('../controller/sources/manifest-folder.js'),
      ]);
      const log = createLogger({ level: flags.logLevel, name: 'portcullis-controller' });
      const token = flags.adminTokenFile
        ? await readTokenFile('controller', flags.adminTokenFile)
        : process.env.PORTCULLIS_ADMIN_TOKEN?.trim() || undefined;
      if (!token) log.warn('no admin token: pushes only work to proxies that allow unauthenticated admin');

      let source: ObjectSource;
      if (flags.manifests) {
        source = new ManifestFolderSource({ dir: flags.manifests, log });
      } else {
        // KUBERNETES MODE PLUGS IN HERE: without --manifests, the source is the
        // Kubernetes API (controller/kubernetes/). Until it is wired, refuse.
        process.stderr.write(
          'portcullis controller: Kubernetes mode is not wired yet; pass --manifests DIR to read a manifest folder\n',
        );
        process.exit(2);
      }

      await runControllerUntilSignal(
        () =>
          startController({
            source,
            proxyUrls: flags.proxyAdminUrl?.length ? flags.proxyAdminUrl : [DEFAULT_PROXY_ADMIN_URL],
            adminToken: token,
            translateOptions: { ingressClass: flags.ingressClass },
            statusAddress: flags.controllerStatusAddress,
            statusPort: flags.controllerStatusPort,
            log,
          }),
        log,
      );
    });
}

import cluster from 'node:cluster';
import type { Command } from 'commander';
import { addProxyOptions, normaliseProxyOptions } from '../proxy/options.js';
import type { RunningProxy } from '../proxy/primary.js';

/** `portcullis proxy`: the data plane (its worker processes re-enter here through cluster.fork). */
export function registerProxyCommand(program: Command): void {
  addProxyOptions(
    program.command('proxy').description('run the proxy: traffic ports, admin API, status'),
  ).action(async (raw: Record<string, unknown>) => {
    const options = normaliseProxyOptions(raw);
    if (cluster.isWorker) return (await import('../proxy/worker.js')).runWorker(options);
    const [{ PortcullisError }, { createLogger }, { runPrimary }] = await Promise.all([
      import('../common/errors.js'),
      import('../common/logger.js'),
      import('../proxy/primary.js'),
    ]);
    const log = createLogger({ level: options.logLevel, name: 'portcullis-proxy' });

    let proxy: RunningProxy | undefined;
    let stopping = false;
    const shutdown = (reason: string, delayMs?: number) => {
      if (stopping) {
        // A second Ctrl-C (or SIGTERM) means now.
        if (reason !== 'parent exited') {
          log.warn({ signal: reason }, 'second signal: exiting without waiting for the drain');
          process.exit(1);
        }
        return;
      }
      stopping = true;
      log.info({ reason }, 'shutting down');
      // Before the proxy is up nothing was served: nothing to drain.
      if (!proxy) process.exit(0);
      void proxy.stop(delayMs).finally(() => process.exit(0));
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    if (options.exitWithParent) {
      if (!process.channel) {
        log.fatal(
          { code: 'PCS_STARTUP' },
          '--exit-with-parent needs an IPC channel from the parent process (portcullis run sets it)',
        );
        process.exit(1);
      }
      // Our parent (portcullis run) is gone, even by SIGKILL: nobody else would stop us, and we
      // would keep its ports. No shutdown delay: nothing routes to us but its own users.
      process.channel.unref();
      process.once('disconnect', () => shutdown('parent exited', 0));
    }

    try {
      proxy = await runPrimary(options, log);
    } catch (error) {
      if (error instanceof PortcullisError) log.fatal({ code: error.code }, error.message);
      else log.fatal({ err: error }, 'could not start');
      process.exit(1);
    }
  });
}

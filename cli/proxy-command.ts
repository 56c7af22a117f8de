import cluster from 'node:cluster';
import type { Command } from 'commander';
import { addProxyOptions, normaliseProxyOptions } from '../proxy/options.js';

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
    try {
      const proxy = await runPrimary(options, log);
      const shutdown = (signal: string) => {
        log.info({ signal }, 'shutting down');
        void proxy.stop().finally(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    } catch (error) {
      log.fatal({ err: error }, error instanceof PortcullisError ? error.message : 'could not start');
      process.exit(1);
    }
  });
}

#!/usr/bin/env node
import cluster from 'node:cluster';
import { Command } from 'commander';
import { createLogger } from '../common/logger.js';
import { PortcullisError } from '../common/errors.js';
import { addProxyOptions, normaliseProxyOptions } from '../proxy/options.js';
import { runPrimary } from '../proxy/primary.js';
import { runWorker } from '../proxy/worker.js';

const program = new Command('portcullis')
  .description('OpenID Connect authentication and per-application access control for Kubernetes ingress')
  .showHelpAfterError();

addProxyOptions(
  program.command('proxy').description('run the proxy: traffic ports, admin API, status'),
).action(async (raw: Record<string, unknown>) => {
  const options = normaliseProxyOptions(raw);
  if (cluster.isWorker) return runWorker(options);
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

await program.parseAsync(process.argv);

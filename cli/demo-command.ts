import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_DEMO_PORTS, DEMO_PORT_FLAGS, type DemoPorts } from '../demo/ports.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

const PORT_HELP: Record<keyof DemoPorts, string> = {
  http: "the proxy's HTTP port (every printed curl uses it)",
  https: "the proxy's HTTPS port",
  admin: "the proxy's admin API port",
  status: "the proxy's status port",
  controller: "the controller's status port (readiness, the portal view)",
  idp: "the test identity provider's port (the manifests' issuer)",
  upstream: "the echo upstream's port (the manifests' EndpointSlice)",
};

function fixedPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('must be a port number 1-65535 (the demo prints its ports)');
  return n;
}

/** A path as the user should type it from where they are: relative below the working directory. */
function typed(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/**
 * `portcullis demo`: the quick start. A test IdP, an echo upstream and
 * `portcullis run` on examples/demo, then the commands to try, printed.
 */
export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description(
      'run the quick start: a test identity provider, an echo upstream and portcullis run on examples/demo, on 127.0.0.1',
    )
    .option(
      '--manifests <dir>',
      'the folder to run on (default: examples/demo); a folder that does not exist is created as a copy fitted to the ports',
    )
    .addOption(
      new Option('--log-level <level>', 'log level of run, the proxy and the demo')
        .choices(LOG_LEVELS)
        .default('warn'),
    );
  for (const key of Object.keys(DEMO_PORT_FLAGS) as (keyof DemoPorts)[])
    command.option(`${DEMO_PORT_FLAGS[key]} <port>`, PORT_HELP[key], fixedPort, DEFAULT_DEMO_PORTS[key]);

  command.action(async (raw: Record<string, unknown>) => {
    const ports = Object.fromEntries(
      (Object.keys(DEMO_PORT_FLAGS) as (keyof DemoPorts)[]).map((key) => [
        key,
        raw[`${key === 'controller' ? 'controllerStatus' : key}Port`] as number,
      ]),
    ) as unknown as DemoPorts;
    const [{ createLogger }, { startDemo }, { demoInstructions }, { EXAMPLE_MANIFESTS }] = await Promise.all([
      import('../common/logger.js'),
      import('../demo/demo.js'),
      import('../demo/instructions.js'),
      import('../demo/manifest-folder.js'),
    ]);
    const log = createLogger({ level: raw.logLevel as string, name: 'portcullis-demo' });
    const manifests = resolve((raw.manifests as string | undefined) ?? EXAMPLE_MANIFESTS);
    // Installed before anything starts: a Ctrl-C during the start stops what had started.
    const abort = new AbortController();
    let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
    let stopping = false;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      if (demo) void demo.stop().finally(() => process.exit(code));
      else abort.abort();
    };
    // `on`, not `once`: a second Ctrl-C must not cut the proxy's drain short.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(0));
    try {
      demo = await startDemo(
        { ports, manifests, cli: CLI, logLevel: raw.logLevel as string },
        log,
        abort.signal,
      );
    } catch (error) {
      if (stopping) process.exit(0);
      process.stderr.write(`portcullis demo: ${(error as Error).message}\n`);
      process.exit(1);
    }
    if (stopping) {
      // The signal came as the start finished.
      await demo.stop();
      process.exit(0);
    }
    void demo.runExited.then(({ code, signal }) => {
      if (stopping) return;
      process.stderr.write(
        `portcullis demo: portcullis run exited (${signal ?? `status ${code}`}); stopping\n`,
      );
      stop(1);
    });
    const created = demo.manifests.created
      ? `(created ${typed(manifests)} from examples/demo for these ports)\n\n`
      : '';
    process.stdout.write(
      created + demoInstructions({ ports, cli: `node ${typed(CLI)}`, manifests: typed(manifests) }) + '\n',
    );
  });
}

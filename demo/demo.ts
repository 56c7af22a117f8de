/**
 * `portcullis demo`: the test identity provider, the echo upstream and
 * `portcullis run` on the demo's manifests, started in that order (the
 * proxy's first requests need the IdP) after every port was checked, and
 * stopped in the reverse order. Any failure stops what had started.
 */
import type { Logger } from 'pino';
import { PortcullisError } from '../common/errors.js';
import { firstUnbindablePort, type PortToCheck } from '../cli/port-check.js';
import { idpClients } from './demo-clients.js';
import { startEchoUpstream, type EchoUpstream } from './echo-upstream.js';
import { prepareManifests, type PreparedManifests } from './manifest-folder.js';
import { DEMO_ADDRESS, DEMO_PORT_FLAGS, demoCallback, duplicatePorts, type DemoPorts } from './ports.js';
import { startRunChild, type RunChild } from './run-child.js';
import type { TestIdp } from './idp/types.js';

export interface DemoOptions {
  ports: DemoPorts;
  manifests: string;
  /** The CLI entry point `run` is started from. */
  cli: string;
  /** For `portcullis run` and the proxy; the demo's own lines use `log`. */
  logLevel: string;
}

export interface RunningDemo {
  manifests: PreparedManifests;
  /** Resolves when `run` exits by itself (the demo then stops too). */
  readonly runExited: RunChild['exited'];
  stop(): Promise<void>;
}

function portsToCheck(ports: DemoPorts): { all: PortToCheck[]; admin: PortToCheck; status: PortToCheck } {
  const all = (Object.keys(DEMO_PORT_FLAGS) as (keyof DemoPorts)[]).map((key) => ({
    address: DEMO_ADDRESS,
    port: ports[key],
    portFlag: DEMO_PORT_FLAGS[key],
    addressFlag: DEMO_PORT_FLAGS[key],
  }));
  const find = (key: keyof DemoPorts) => all.find((p) => p.portFlag === DEMO_PORT_FLAGS[key])!;
  return { all, admin: find('admin'), status: find('status') };
}

/** Starts it; aborting `signal` (a Ctrl-C during start) stops what had started and rejects. */
export async function startDemo(
  options: DemoOptions,
  log: Logger,
  signal?: AbortSignal,
): Promise<RunningDemo> {
  const { ports } = options;
  const duplicate = duplicatePorts(ports);
  if (duplicate) throw new PortcullisError('PCS_STARTUP', duplicate);
  const { all, admin, status } = portsToCheck(ports);
  const taken = await firstUnbindablePort(all, { admin, status });
  if (taken) throw new PortcullisError('PCS_STARTUP', taken.message);
  const manifests = await prepareManifests(options.manifests, ports);

  const started: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of started.reverse()) await step();
    started.length = 0;
  };
  try {
    // Imported here: oidc-provider is large and only the demo needs it.
    const { startTestIdp } = await import('./idp/test-idp.js');
    const idp: TestIdp = await startTestIdp({
      profile: 'okta',
      port: ports.idp,
      clients: idpClients(demoCallback(ports)),
      // Hour-long tokens, as a real IdP issues them: a demo left open keeps working.
      accessTokenTtl: 3600,
      onError: (message, err) => log.error({ err }, `identity provider: ${message}`),
    });
    started.push(() => idp.stop());
    signal?.throwIfAborted();
    const echo: EchoUpstream = await startEchoUpstream(DEMO_ADDRESS, ports.upstream);
    started.push(() => echo.close());
    signal?.throwIfAborted();
    const run = await startRunChild({
      cli: options.cli,
      manifests: manifests.dir,
      ports,
      logLevel: options.logLevel,
      ...(signal && { signal }),
    });
    started.push(() => run.stop());
    return { manifests, runExited: run.exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

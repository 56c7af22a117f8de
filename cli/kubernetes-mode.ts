import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RunningController } from '../controller/run.js';
import type { ObjectSource } from '../controller/source.js';
import type { TranslateResult } from '../controller/translate/index.js';

export interface KubernetesFlags {
  kubeconfig?: string;
  watchNamespaces?: string[];
  publishAddress?: string[];
  leaderElection: boolean;
  leaderElectionNamespace: string;
  ingressClass: string;
}

export interface KubernetesMode {
  source: ObjectSource;
  /** Subscribes the status writer to a started controller's results. */
  attach(controller: RunningController): void;
  stop(): Promise<void>;
}

/** `1.2.3.4` is an IP, anything else a hostname, as in `status.loadBalancer.ingress`. */
function publishAddress(value: string): { ip: string } | { hostname: string } {
  return /^[0-9.]+$|:/.test(value) ? { ip: value } : { hostname: value };
}

/**
 * The Kubernetes side of `portcullis controller`: informers as the source, a
 * Lease so that only one replica writes status and Events, and the status
 * writer fed with every translate result. Every replica pushes to its own
 * proxy whether or not it leads.
 */
export async function createKubernetesMode(flags: KubernetesFlags, log: Logger): Promise<KubernetesMode> {
  const { createKubernetesSource, LeaderElection, loadKubeConfig, StatusWriter } =
    await import('../controller/kubernetes/index.js');
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  let last: TranslateResult | undefined;
  let writes: Promise<unknown> = Promise.resolve();
  // Writes are serialised: a slow API server must not see two writers race.
  const write = () => {
    const result = last;
    if (result) writes = writes.then(() => writer.write(result));
  };
  const election = flags.leaderElection
    ? new LeaderElection({
        kubeConfig,
        log,
        namespace: flags.leaderElectionNamespace,
        identity: process.env.POD_NAME ?? hostname(),
        // A new leader writes what it has at once, not only at the next change.
        onChange: (leader) => {
          log.info({ leader }, leader ? 'became leader' : 'no longer leader');
          if (leader) write();
        },
      })
    : undefined;
  const writer = new StatusWriter({
    kubeConfig,
    log,
    publishAddresses: flags.publishAddress?.map(publishAddress),
    isLeader: election ? () => election.isLeader() : undefined,
    eventNamespace: flags.leaderElectionNamespace,
  });
  const source = createKubernetesSource({
    kubeConfig,
    log,
    watchNamespaces: flags.watchNamespaces?.length ? flags.watchNamespaces : undefined,
    translateOptions: { ingressClass: flags.ingressClass },
  });
  election?.start();
  return {
    source,
    attach(controller) {
      controller.loop.onResult((result) => {
        last = result;
        write();
      });
    },
    async stop() {
      await writes;
      await election?.stop();
    },
  };
}

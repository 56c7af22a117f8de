import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RunningController } from '../controller/run.js';
import type { ObjectSource } from '../controller/source.js';
import type { LoadBalancerIngress } from '../controller/kubernetes/status-writer.js';
import type { TranslateResult } from '../controller/translate/index.js';

export interface KubernetesFlags {
  kubeconfig?: string;
  watchNamespaces?: string[];
  /** Seconds. */
  secretRefreshInterval: number;
  /** Seconds. */
  watchTimeout: number;
  publishAddress?: string[];
  publishService?: string;
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
  let store: RunningController['store'] | undefined;
  const writer = new StatusWriter({
    kubeConfig,
    log,
    publishAddresses: flags.publishService
      ? () => serviceAddresses(store, flags.publishService!)
      : flags.publishAddress?.map(publishAddress),
    isLeader: election ? () => election.isLeader() : undefined,
    eventNamespace: flags.leaderElectionNamespace,
    // One manager per class: controllers of other classes own their own plugin conditions.
    fieldManager: `portcullis/${flags.ingressClass}`.slice(0, 128),
  });
  const source = createKubernetesSource({
    kubeConfig,
    log,
    watchNamespaces: flags.watchNamespaces?.length ? flags.watchNamespaces : undefined,
    secretRefreshMs: flags.secretRefreshInterval * 1000,
    watchTimeoutSeconds: flags.watchTimeout,
    translateOptions: { ingressClass: flags.ingressClass },
  });
  election?.start();
  return {
    source,
    attach(controller) {
      store = controller.store;
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

/**
 * The addresses of the publish Service (`namespace/name`), the way clients
 * reach the proxies: its load balancer's ingress points, else its external
 * IPs, else its cluster IP. The Service is one the controller watches anyway,
 * so a load balancer that gets its address later is published at the next
 * rebuild.
 */
function serviceAddresses(store: RunningController['store'] | undefined, ref: string): LoadBalancerIngress[] {
  const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const service = store
    ?.snapshot()
    .services.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name) as
    | {
        spec?: { clusterIP?: string; externalIPs?: string[] };
        status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
      }
    | undefined;
  if (!service) return [];
  const balancer = service.status?.loadBalancer?.ingress?.filter((a) => a.ip || a.hostname) ?? [];
  if (balancer.length > 0) return balancer.map((a) => (a.ip ? { ip: a.ip } : { hostname: a.hostname! }));
  if (service.spec?.externalIPs?.length) return service.spec.externalIPs.map((ip) => ({ ip }));
  const clusterIP = service.spec?.clusterIP;
  return clusterIP && clusterIP !== 'None' ? [{ ip: clusterIP }] : [];
}

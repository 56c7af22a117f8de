/**
 * Kubernetes mode: the API server as an ObjectSource, the status writer, and
 * leader election. See docs/kubernetes.md for what it watches and the RBAC.
 */
import { KubeConfig } from '@kubernetes/client-node';

export { createKubernetesSource, type KubernetesSourceOptions } from './source.js';
export {
  StatusWriter,
  type LoadBalancerIngress,
  type StatusWriterOptions,
  type WriteSummary,
} from './status-writer.js';
export { LeaderElection, type LeaderElectionOptions } from './leader-election.js';
export type { BackoffOptions } from './backoff.js';

/**
 * The kubeconfig to use: the file at `path` when given, else client-node's
 * default order ($KUBECONFIG, ~/.kube/config, then the in-cluster service
 * account).
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault();
  if (!kubeConfig.getCurrentCluster())
    throw new Error('no Kubernetes cluster configured (kubeconfig or in-cluster)');
  return kubeConfig;
}

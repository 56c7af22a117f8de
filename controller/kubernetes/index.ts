/**
 * Kubernetes mode: the API server as an ObjectSource, the status writer, and
 * leader election. See docs/kubernetes.md for what it watches and the RBAC.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
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
 * The kubeconfig to use: the file at `path` when given, else $KUBECONFIG,
 * else ~/.kube/config, else the in-cluster service account. With none of
 * them it throws, rather than let client-node fall back to localhost:8080.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  const home = join(homedir(), '.kube', 'config');
  if (path) kubeConfig.loadFromFile(path);
  else if (process.env.KUBECONFIG) kubeConfig.loadFromDefault();
  else if (existsSync(home)) kubeConfig.loadFromFile(home);
  else if (process.env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  if (!kubeConfig.getCurrentCluster()) {
    throw new Error(
      'no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, run in a pod, or read a folder with --manifests DIR',
    );
  }
  return kubeConfig;
}

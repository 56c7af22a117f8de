/** What test files get from the global setup, and helpers to act as one of the harness's identities. */
import { spawnSync } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';

export type Identity = 'admin' | 'controller' | 'app-team' | 'service-team';

export interface KubeHarness {
  /** Set when the server could not be had (no Go): every test skips with this. */
  skip?: string;
  url: string;
  version: string;
  /** POST here compacts etcd to its current revision (older watches then get 410 Gone). */
  compactUrl: string;
  kubeconfigs: Record<Identity, string>;
  tokens: Record<Identity, string>;
  kubectl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kube: KubeHarness;
  }
}

export const kube = inject('kube');
export const skip = kube.skip !== undefined;
if (skip) console.warn(kube.skip);

export interface KubectlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** kubectl, client-node and compaction against one harness server, as any of its identities. */
export interface KubeClient {
  kubectl(identity: Identity, args: string[], input?: string): KubectlResult;
  /** Like `kubectl`, failing the test on a non-zero exit. */
  kubectlOk(identity: Identity, args: string[], input?: string): string;
  kubeConfig(identity: Identity): KubeConfig;
  /** Compacts etcd to its current revision (watches from older resourceVersions then get 410 Gone). */
  compact(): Promise<void>;
}

export function kubeClient(harness: KubeHarness): KubeClient {
  const kubectl = (identity: Identity, args: string[], input?: string): KubectlResult => {
    // The harness's kubectl is the server's release.
    const result = spawnSync(harness.kubectl, ['--kubeconfig', harness.kubeconfigs[identity], ...args], {
      encoding: 'utf8',
      input,
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  return {
    kubectl,
    kubectlOk(identity, args, input) {
      const result = kubectl(identity, args, input);
      if (result.status !== 0)
        throw new Error(
          `kubectl ${args.join(' ')} (as ${identity}) failed:\n${result.stderr}${result.stdout}`,
        );
      return result.stdout;
    },
    kubeConfig(identity) {
      const config = new KubeConfig();
      config.loadFromFile(harness.kubeconfigs[identity]);
      return config;
    },
    async compact() {
      const res = await fetch(harness.compactUrl, { method: 'POST' });
      if (!res.ok) throw new Error(`compaction failed: ${res.status} ${await res.text()}`);
    },
  };
}

/** The shared server's client. */
export const shared = kubeClient(kube);
export const { kubectl, kubectlOk, kubeConfig, compact } = shared;

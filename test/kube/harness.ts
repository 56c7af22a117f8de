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

/** Runs the harness's kubectl (same release as the server) as `identity`. */
export function kubectl(identity: Identity, args: string[], input?: string): KubectlResult {
  const result = spawnSync(kube.kubectl, ['--kubeconfig', kube.kubeconfigs[identity], ...args], {
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like {@link kubectl}, failing the test on a non-zero exit. */
export function kubectlOk(identity: Identity, args: string[], input?: string): string {
  const result = kubectl(identity, args, input);
  if (result.status !== 0)
    throw new Error(`kubectl ${args.join(' ')} (as ${identity}) failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** A client-node KubeConfig for `identity`. */
export function kubeConfig(identity: Identity): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfigs[identity]);
  return config;
}

export async function compact(): Promise<void> {
  const res = await fetch(kube.compactUrl, { method: 'POST' });
  if (!res.ok) throw new Error(`compaction failed: ${res.status} ${await res.text()}`);
}

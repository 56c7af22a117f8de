// Async kubectl helpers over the shared harness (harness.ts), for tests that
// check kubectl's exit codes and messages themselves.
import { spawn } from 'node:child_process';
import { kube, type Identity, type KubeHarness } from './harness.js';

export type { KubeHarness };

/** The running harness, or null when Go is missing (harness.ts prints why). */
export function kubeHarness(): KubeHarness | null {
  return kube.skip === undefined ? kube : null;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the harness's kubectl as one identity; never throws on a non-zero exit. */
export function kubectl(
  h: KubeHarness,
  as: Identity,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(h.kubectl, ['--kubeconfig', h.kubeconfigs[as], ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // An inherited KUBECONFIG must never point a test at another cluster.
      env: { ...process.env, KUBECONFIG: h.kubeconfigs[as] },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like kubectl() but throws with kubectl's stderr unless it exits 0. */
export async function kubectlOk(
  h: KubeHarness,
  as: Identity,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await kubectl(h, as, args, options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (as ${as}) exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

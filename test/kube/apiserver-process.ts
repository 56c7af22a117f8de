/**
 * Starts the harness binary (test/kube-apiserver) and reads its ready line.
 * The global setup starts the shared server with it; a file that needs other
 * server flags (short watch timeouts, an audit log) starts its own.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KubeHarness } from './harness.js';

export const HARNESS_DIR = fileURLToPath(new URL('../kube-apiserver/', import.meta.url));

export interface KubeApiserverProcess {
  harness: KubeHarness;
  stop(): Promise<void>;
}

export interface KubeApiserverOptions {
  /** The harness's own flags (test/kube-apiserver/main.go), e.g. `-etcd-progress-notify-interval=1s`. */
  harnessArgs?: readonly string[];
  /** kube-apiserver flags, e.g. `--audit-log-path=...`. */
  apiserverArgs?: readonly string[];
}

export async function startKubeApiserver(options: KubeApiserverOptions = {}): Promise<KubeApiserverProcess> {
  const args = [
    ...(options.harnessArgs ?? []),
    ...(options.apiserverArgs ?? []).map((a) => `--apiserver-arg=${a}`),
  ];
  const child = spawn(`${HARNESS_DIR}bin/kube-apiserver`, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kube-apiserver not ready in 120 s:\n${stderr}`)),
      120_000,
    );
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`kube-apiserver exited (${code}):\n${stderr}`)));
  });
  const ready = JSON.parse(line) as Omit<KubeHarness, 'kubectl'>;
  return {
    harness: { ...ready, kubectl: `${HARNESS_DIR}bin/kubectl` },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

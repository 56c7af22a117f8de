/**
 * Builds the real kube-apiserver harness (test/kube-apiserver, Go) once and
 * starts one server for every file of `npm run test:kube`. Without Go the
 * tests skip, and say how to get it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { KubeHarness } from './harness.js';

const DIR = fileURLToPath(new URL('../kube-apiserver/', import.meta.url));

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (spawnSync('go', ['version']).status !== 0) {
    const skip =
      'kube-real tests skipped: Go not found; install Go 1.26 or later (https://go.dev/dl/) and run npm run test:kube again';
    console.warn(skip);
    project.provide('kube', { skip } as KubeHarness);
    return undefined;
  }
  const started = Date.now();
  const build = spawnSync(`${DIR}build.sh`, { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building test/kube-apiserver failed (status ${build.status})`);
  console.info(`kube-real: harness built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const child = spawn(`${DIR}bin/kube-apiserver`, [], { stdio: ['pipe', 'pipe', 'pipe'] });
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
  console.info(
    `kube-real: ${ready.version} at ${ready.url}, ready ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
  );
  project.provide('kube', { ...ready, kubectl: `${DIR}bin/kubectl` });
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

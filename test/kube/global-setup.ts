/**
 * Builds the real kube-apiserver harness (test/kube-apiserver, Go) once and
 * starts one server for every file of `npm run test:kube`. Without Go the
 * tests skip, and say how to get it.
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { HARNESS_DIR, startKubeApiserver } from './apiserver-process.js';
import type { KubeHarness } from './harness.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (spawnSync('go', ['version']).status !== 0) {
    const skip =
      'kube-real tests skipped: Go not found; install Go 1.26 or later (https://go.dev/dl/) and run npm run test:kube again';
    console.warn(skip);
    project.provide('kube', { skip } as KubeHarness);
    return undefined;
  }
  const started = Date.now();
  const build = spawnSync(`${HARNESS_DIR}build.sh`, { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building test/kube-apiserver failed (status ${build.status})`);
  console.info(`kube-real: harness built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // helm.test.ts skips, saying so, when this fails.
  if (spawnSync('bash', [`${HARNESS_DIR}../kube/install-helm.sh`], { stdio: 'inherit' }).status !== 0)
    console.warn('kube-real: installing helm failed (test/kube/install-helm.sh); helm.test.ts skips');

  const server = await startKubeApiserver();
  const ready = server.harness;
  console.info(
    `kube-real: ${ready.version} at ${ready.url}, ready ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
  );
  project.provide('kube', ready);
  return server.stop;
}

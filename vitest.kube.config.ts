import { defineConfig } from 'vitest/config';

// The real kube-apiserver tests (`npm run test:kube`): one server for all
// files, built and started by the global setup.
export default defineConfig({
  test: {
    include: ['test/kube/**/*.test.ts'],
    globalSetup: ['test/kube/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: crds.test.ts replaces the KongPlugin CRD, which the controller test watches.
    fileParallelism: false,
  },
});

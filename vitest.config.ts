import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real kube-apiserver tests run with `npm run test:kube` (vitest.kube.config.ts).
    exclude: ['test/kube/**', '**/node_modules/**'],
    // Integration tests start real servers and worker processes; a 2-core CI
    // machine needs room, and files run in parallel forks by default.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});

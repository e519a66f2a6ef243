import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker does not survive worker_threads reliably; one process per file does.
    pool: 'forks',
    maxWorkers: 2,
    include: ['test/**/*.test.ts'],
    // the cluster profile's own tests need its server: `npm run test:cluster` runs them (test/cluster/vitest.config.ts);
    // the flagd daemon's need a flagd binary CI cannot build: `npm run test:flagd-daemon` (test/flagd-daemon/)
    exclude: ['test/cluster/**', 'test/flagd-daemon/**', '**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * `npm run test:cluster`: the workflow, CLI, worker and setup tests and the cluster's own tests against an external,
 * production-like Temporal.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: [
      'test/workflows/**/*.test.ts',
      'test/cli/**/*.test.ts',
      'test/worker/**/*.test.ts',
      'test/setup/**/*.test.ts',
      'test/cluster/**/*.test.ts',
    ],
    // the base config leaves test/cluster out of `npm test`; here it is the point
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/cluster/global-setup.ts'],
  },
});

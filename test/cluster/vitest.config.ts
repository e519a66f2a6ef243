import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/** The test that kills and restarts the server: it runs on its own, so no other file connects while it is down. */
const RESTART = 'test/cluster/cluster.test.ts';
const restartOnly = process.env.CLUSTER_RESTART_ONLY === '1';

/**
 * `npm run test:cluster`: the workflow, CLI, worker and setup tests and the cluster's own tests against an external,
 * production-like Temporal; then (`CLUSTER_RESTART_ONLY=1`, scripts/cluster/test.sh) the server restart on its own.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: restartOnly
      ? [RESTART]
      : [
          'test/workflows/**/*.test.ts',
          'test/cli/**/*.test.ts',
          'test/worker/**/*.test.ts',
          'test/setup/**/*.test.ts',
          'test/cluster/**/*.test.ts',
        ],
    // the base config leaves test/cluster out of `npm test`; here it is the point
    exclude: restartOnly ? ['**/node_modules/**'] : ['**/node_modules/**', RESTART],
    globalSetup: ['test/cluster/global-setup.ts'],
  },
});

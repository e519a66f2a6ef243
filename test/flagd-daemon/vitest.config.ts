import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * `npm run test:flagd-daemon`: a rollout served by a real flagd daemon (`FLAGD_PATH`, or one
 * `scripts/ensure-flagd.sh` can build). Not part of `npm test`: the Go module proxy this project's CI reaches
 * refuses flagd's modules (403 for github.com/open-feature/flagd/flagd and .../core), so CI cannot build one.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/flagd-daemon/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
  },
});

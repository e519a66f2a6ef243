import type { TestProject } from 'vitest/node';
import { resolveTemporalCli } from '../../src/temporal/cli-provision.js';

/**
 * The cluster profile's global setup: points the suite at an external Temporal (TEMPORAL_TEST_ADDRESS, set by
 * scripts/cluster/test.sh after `start.sh` ran `rollout setup` there) instead of starting a dev server. Provides the
 * same values as test/global-setup.ts, so test files run unchanged.
 */
export async function setup(project: TestProject): Promise<void> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address)
    throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the cluster profile with `npm run test:cluster`');
  const cli = await resolveTemporalCli({ log: () => {} });
  process.stderr.write(`[temporal] external server at ${address}\n`);
  project.provide('temporalAddress', address);
  project.provide('temporalNamespace', process.env.TEMPORAL_TEST_NAMESPACE ?? 'default');
  project.provide('temporalCliPath', cli.path);
}

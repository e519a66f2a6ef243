import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { bundle, connectTestEnv } from './temporal.js';

/** Per test file: connect to the shared dev server and bundle the real workflows once. */
export function useRolloutSuite() {
  const ctx = {} as { env: TestWorkflowEnvironment; bundle: WorkflowBundleWithSourceMap; client: RolloutClient };
  beforeAll(async () => {
    ctx.env = await connectTestEnv();
    ctx.bundle = await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname);
    ctx.client = new RolloutClient(ctx.env.client);
  });
  afterAll(async () => {
    await ctx.env?.teardown();
  });
  return ctx;
}

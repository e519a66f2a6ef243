import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_SEARCH_ATTRIBUTES } from '../src/temporal/search-attributes.js';
import { bundle, connectTestEnv, uniqueTaskQueue } from './helpers/temporal.js';

describe('test harness', () => {
  let env: TestWorkflowEnvironment;
  let workflowBundle: Awaited<ReturnType<typeof bundle>>;

  beforeAll(async () => {
    env = await connectTestEnv();
    workflowBundle = await bundle(new URL('./fixtures/smoke-workflows.ts', import.meta.url).pathname);
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow with an activity and a timer on the real dev server', async () => {
    const taskQueue = uniqueTaskQueue('smoke');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle,
      activities: { echo: async (text: string) => `echo:${text}` },
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('smoke', { taskQueue, workflowId: `smoke-${randomUUID()}`, args: ['hi'] }),
    );
    expect(result).toEqual({ echoed: 'echo:hi', taskQueue });
  });

  it('has the project search attributes registered', async () => {
    const res = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace ?? 'default' });
    expect(Object.keys(res.customAttributes ?? {})).toEqual(
      expect.arrayContaining(ROLLOUT_SEARCH_ATTRIBUTES.map((key) => key.name)),
    );
  });
});

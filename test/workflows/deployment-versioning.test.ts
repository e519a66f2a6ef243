import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

const memorySpec = (flag: string) => ({
  ...flagdSpec(flag, [{ exposure: 5, observe: '1h' }, { exposure: 100 }]),
  target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
});

/** Which build completed each workflow task of the rollout's run, and with which versioning behavior. */
async function tasksBy(id: string): Promise<{ buildIds: string[]; behaviors: number[] }> {
  const history = await suite.client.handle(id).fetchHistory();
  const done = (history.events ?? [])
    .map((e) => e.workflowTaskCompletedEventAttributes)
    .filter((a): a is temporal.api.history.v1.IWorkflowTaskCompletedEventAttributes => !!a);
  return {
    buildIds: [...new Set(done.map((a) => a.deploymentVersion?.buildId ?? '(none)'))],
    behaviors: [...new Set(done.map((a) => a.versioningBehavior ?? 0))],
  };
}

/** Makes `buildId` the deployment's current version, once its worker has polled (the server then knows it). */
async function makeCurrent(deploymentName: string, buildId: string): Promise<void> {
  let last: unknown;
  await waitFor(
    async () => {
      try {
        await suite.env.client.workflowService.setWorkerDeploymentCurrentVersion({
          namespace: suite.env.namespace ?? 'default',
          deploymentName,
          buildId,
          identity: 'deployment-versioning test',
        });
        return true;
      } catch (err) {
        last = err;
        return false;
      }
    },
    30_000,
    `${deploymentName}.${buildId} current (${String(last)})`,
  );
}

describe('Worker Deployment versioning: upgrading the orchestrator while rollouts run', () => {
  it('pinned rollouts finish on build A while new ones start on build B', async () => {
    const deployment = `rollouts-${randomUUID().slice(0, 8)}`;
    const a = await rolloutHarness(suite.env, suite.bundle, {}, { deployment: { name: deployment, buildId: 'a' } });
    let b: RolloutHarness | undefined;
    try {
      await makeCurrent(deployment, 'a');
      const first = await suite.client.start(memorySpec(uniqueFlag('on-a')), { taskQueue: a.taskQueue });
      await waitFor(async () => (await suite.client.status(first.workflowId)).phase === 'Observing', 30_000);

      // build B joins the same task queue and becomes current: the running rollout stays on A
      b = await rolloutHarness(
        suite.env,
        suite.bundle,
        { memory: a.memory },
        { taskQueue: a.taskQueue, deployment: { name: deployment, buildId: 'b' } },
      );
      await makeCurrent(deployment, 'b');
      const second = await suite.client.start(memorySpec(uniqueFlag('on-b')), { taskQueue: a.taskQueue });
      await waitFor(async () => (await suite.client.status(second.workflowId)).phase === 'Observing', 30_000);

      for (const id of [first.workflowId, second.workflowId]) {
        await suite.client.promote(id, { actor: 'ana' });
        expect((await suite.client.result(id)).phase).toBe('Completed');
      }
      const PINNED = 1; // temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
      expect(await tasksBy(first.workflowId)).toEqual({ buildIds: ['a'], behaviors: [PINNED] });
      expect(await tasksBy(second.workflowId)).toEqual({ buildIds: ['b'], behaviors: [PINNED] });
      const described = await suite.client.handle(first.workflowId).describe();
      expect(described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe('a');
    } finally {
      await b?.stop();
      await a.stop();
    }
  });
});

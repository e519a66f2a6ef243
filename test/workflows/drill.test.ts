import { WorkflowFailedError } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DrillClient } from '../../src/client/drills.js';
import type { DrillReport } from '../../src/domain/drill.js';
import type { DrillSpecInput } from '../../src/domain/drill.schema.js';
import { httpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

function drillOf(name: string, hookUrl: string, extra: Partial<DrillSpecInput> = {}): DrillSpecInput {
  return {
    name,
    rollout: flagdSpec(
      uniqueFlag('sandbox'),
      [{ exposure: 5, observe: '200ms' }, { exposure: 25, observe: '1h' }, { exposure: 100 }],
      {
        rollback: { compensations: [{ name: 'scale-down', http: { url: `${hookUrl}/scale-down` } }] },
      },
    ),
    inject: { atStep: 1, method: 'signal' },
    slo: { detectWithin: '5s', rollbackWithin: '10s' },
    deadline: '1m',
    ...extra,
  };
}

async function failureReport(promise: Promise<unknown>): Promise<DrillReport> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('DrillFailed');
  return cause.details?.[0] as DrillReport;
}

describe('rollout drills', () => {
  it.each(['signal', 'guard'] as const)('a drill injecting by %s passes with measured times', async (method) => {
    const hooks = await httpRecorder();
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const drills = new DrillClient(suite.env.client, h.taskQueue);
      const handle = await drills.run(drillOf(`pass-${method}`, hooks.url, { inject: { atStep: 1, method } }));
      const report = await handle.result();
      expect(report).toMatchObject({
        passed: true,
        reasons: [],
        finalPhase: 'RolledBack',
        baselineVerified: true,
        method,
      });
      expect(report.compensations).toEqual([{ name: 'compensation scale-down', runs: 1 }]);
      expect(report.timeToDetectMs).toBeGreaterThanOrEqual(0);
      expect(report.timeToDetectMs!).toBeLessThan(5_000);
      expect(report.timeToRollbackMs).toBeLessThan(10_000);
      expect(hooks.requests.filter((r) => r.path === '/scale-down')).toHaveLength(1);
    } finally {
      await h.stop();
      await hooks.close();
    }
  });

  it('a drill against a broken rollback fails with the reason at its deadline instead of hanging', async () => {
    const hooks = await httpRecorder();
    hooks.respond = () => ({ status: 503, body: { error: 'hook is down' } });
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const drills = new DrillClient(suite.env.client, h.taskQueue);
      // the deadline leaves a busy machine time to reach the retrying compensation, which never succeeds
      const handle = await drills.run(drillOf('broken', hooks.url, { deadline: '15s' }));
      const report = await failureReport(handle.result());
      expect(report.passed).toBe(false);
      expect(report.reasons.join('\n')).toMatch(
        /did not finish within the drill deadline 15s: still RollingBack, retrying compensation scale-down .*503/,
      );
      // the parent-close policy is applied by the server after the drill closes: on a real server, a moment later
      const child = suite.env.client.workflow.getHandle(report.rolloutWorkflowId);
      await waitFor(
        async () => (await child.describe()).status.name !== 'RUNNING',
        30_000,
        'the sandbox rollout ended',
      );
      expect((await child.describe()).status.name).toBe('TERMINATED');
    } finally {
      await h.stop();
      await hooks.close();
    }
  });

  it('rejects a drill whose injection step has no observation window, naming the path', async () => {
    const drills = new DrillClient(suite.env.client, 'unused');
    await expect(
      drills.run(drillOf('bad', 'http://127.0.0.1:1', { inject: { atStep: 2, method: 'signal' } })),
    ).rejects.toThrow(/inject\.atStep: must name an exposure step with an observe window/);
  });

  it('a schedule with a short interval fires at least twice and the report counts both', async () => {
    const hooks = await httpRecorder();
    const h = await rolloutHarness(suite.env, suite.bundle);
    const drills = new DrillClient(suite.env.client, h.taskQueue);
    const name = `sched-${Date.now().toString(36)}`;
    const scheduleId = await drills.schedule(drillOf(name, hooks.url), { every: '3s' });
    try {
      // schedules are listed through visibility, which a real server updates a moment after the create
      await waitFor(
        async () => (await drills.list()).some((s) => s.scheduleId === scheduleId),
        30_000,
        'the schedule listed',
      );
      await waitFor(async () => (await drills.report(600_000, { name })).drills >= 2, 60_000, 'two scheduled drills');
      const summary = await drills.report(600_000, { name });
      expect(summary.passed).toBeGreaterThanOrEqual(2);
      expect(summary.passRate).toBe(1);
      expect(summary.timeToRollbackMs.p50).not.toBeNull();
    } finally {
      await drills.delete(scheduleId);
      await h.stop();
      await hooks.close();
    }
  }, 90_000);
});

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { CommandRejectedError } from '../../src/client/rollout-client.js';
import { WORKFLOW_TYPE } from '../../workflows/messages.js';
import { ROLLOUT_V7_PATCH } from '../../workflows/patches.js';
import { testCatalog } from '../helpers/catalog.js';
import { hasPatchMarker } from '../helpers/histories.js';
import { httpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

const readFlag = (dir: string, flag: string) =>
  createFlagdFileTarget(
    { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
    { baseDir: dir },
  ).read();

describe('undo: a completed rollout back to its baseline', () => {
  it('runs no step, runs the compensations, verifies the baseline and ends RolledBack; refused unless the last run completed', async () => {
    const hooks = await httpRecorder();
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('undo');
      const spec = flagdSpec(flag, [{ exposure: 10, observe: '50ms' }, { exposure: 100 }], {
        rollback: { compensations: [{ name: 'scale-down', http: { url: `${hooks.url}/scale-down` } }] },
      });
      const { workflowId: id } = await suite.client.start(spec, { taskQueue: h.taskQueue });
      // while it runs, the way back is abort
      await expect(suite.client.undo(id, { reason: 'too early', actor: 'ana' })).rejects.toThrow(
        /undo rejected: the rollout is still running; abort it instead/,
      );
      const completed = await suite.client.result(id);
      expect(completed.phase).toBe('Completed');
      expect((await readFlag(h.dir, flag)).percent).toBe(100);
      const completedRun = (await suite.client.handle(id).describe()).runId;
      expect(hooks.requests).toHaveLength(0);

      const undo = await suite.client.undo(id, { reason: 'conversion dropped', actor: 'ana' });
      expect(undo).toMatchObject({ workflowId: id, undoes: completedRun, baseline: 0 });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toBe(`undo of run ${completedRun}: conversion dropped`);
      expect(result.timeline.at(-1)).toMatchObject({
        phase: 'RolledBack',
        cause: `back at 0%: undo of run ${completedRun}: conversion dropped`,
        actor: 'ana',
      });
      expect(result.rollback).toMatchObject({
        trigger: 'undo',
        actor: 'ana',
        done: ['exposure to 0%', 'compensation scale-down', 'verify baseline'],
      });
      expect(result.stepsCompleted).toBe(0);
      expect((await readFlag(h.dir, flag)).percent).toBe(0);
      expect(hooks.requests.map((r) => r.path)).toEqual(['/scale-down']);
      const status = await suite.client.status(id);
      expect(status.undoOf).toBe(completedRun);
      expect(status.timeline.map((t) => t.phase)).toEqual(['Pending', 'RollingBack', 'RolledBack']);

      // the undo run's history: no step's exposure, the patch marker, one rollback and one verify
      const history = await suite.client.handle(id).fetchHistory();
      const scheduled = (history.events ?? [])
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((n): n is string => n !== undefined);
      expect(scheduled).toEqual(['applyExposure', 'runCompensation', 'applyExposure']);
      expect(hasPatchMarker(history, ROLLOUT_V7_PATCH)).toBe(true);

      // an undo is not undone, and an aborted rollout has nothing to undo
      await expect(suite.client.undo(id, { reason: 'again', actor: 'ana' })).rejects.toThrow(
        /the last run ended RolledBack \(an undo\), so its exposure is at its baseline already/,
      );
      // retry after an undo runs the spec forward again, and that run can be undone in turn
      const retried = await suite.client.retry(id, { reason: 'fixed', actor: 'ana' });
      expect(retried.after).toBe('RolledBack (an undo)');
      expect((await suite.client.result(id)).phase).toBe('Completed');
      expect((await readFlag(h.dir, flag)).percent).toBe(100);
      const again = await suite.client.undo(id, { reason: 'still bad', actor: 'ana' });
      expect(again.undoes).toBe(retried.runId);
      expect((await suite.client.result(id)).phase).toBe('RolledBack');
      expect((await readFlag(h.dir, flag)).percent).toBe(0);
    } finally {
      await h.stop();
      await hooks.close();
    }
  });

  it('bounds an undo request sent by any SDK, and refuses a malformed command before anything starts', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('undo-raw');
      const spec = flagdSpec(flag, [{ exposure: 100 }]);
      const id = `rollout/${flag}`;
      await expect(suite.client.undo(id, { reason: '  ', actor: 'ana' })).rejects.toThrow(/reason: must say why/);
      const handle = await suite.env.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: h.taskQueue,
        workflowId: id,
        args: [{ spec, undo: { of: 'r'.repeat(5_000), actor: { evil: true }, reason: 'x'.repeat(50_000) } }],
      });
      const result = (await handle.result()) as { phase: string; reason: string; rollback: { actor: string } };
      expect(result.phase).toBe('RolledBack');
      expect(result.rollback.actor).toBe('(object)');
      expect(result.reason.length).toBeLessThan(1_200);
      expect((await suite.client.status(id)).undoOf?.length).toBeLessThanOrEqual(100);

      // an aborted rollout is at its baseline: nothing to undo
      const aborted = uniqueFlag('undo-aborted');
      const { workflowId: abortedId } = await suite.client.start(flagdSpec(aborted, [{ exposure: 5, observe: '1h' }]), {
        taskQueue: h.taskQueue,
      });
      await waitFor(async () => (await suite.client.status(abortedId)).phase === 'Observing');
      await suite.client.abort(abortedId, { reason: 'bad', actor: 'ana' });
      await suite.client.result(abortedId);
      const refused = suite.client.undo(abortedId, { reason: 'x', actor: 'ana' });
      await expect(refused).rejects.toBeInstanceOf(CommandRejectedError);
      await expect(refused).rejects.toThrow(/the last run ended Aborted, so its exposure is at its baseline already/);
    } finally {
      await h.stop();
    }
  });

  it('is not held to allowed hours: a policy tightened after the rollout completed refuses a start, not the undo', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollout-undo-hours-'));
    const catalog = testCatalog(dir);
    const h = await rolloutHarness(suite.env, suite.bundle, { catalog });
    try {
      const flag = uniqueFlag('undo-hours');
      const spec = {
        name: 'undo-hours',
        target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
        steps: [{ exposure: 100 }],
      };
      const { workflowId: id } = await suite.client.start(spec, { taskQueue: h.taskQueue, catalog: catalog.catalog });
      expect((await suite.client.result(id)).phase).toBe('Completed');
      expect(h.memory.state(flag).percent).toBe(100);

      // the operator now allows starts only on a day two days away (whole days, so no clock edge matters)
      const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
      const away = days[(new Date().getUTCDay() + 2) % 7]!;
      catalog.catalog.policy = { default: { allowedHours: { days: [away], from: '00:00', to: '23:59' } }, targets: {} };
      await expect(suite.client.retry(id, { reason: 'x', actor: 'ana', catalog: catalog.catalog })).rejects.toThrow(
        /the rollout completed: nothing to retry/,
      );
      await expect(
        suite.client.start(spec, { taskQueue: h.taskQueue, catalog: catalog.catalog, workflowId: `${id}-again` }),
      ).rejects.toThrow(/allowedHours: rollouts start only/);

      const undo = await suite.client.undo(id, {
        reason: 'after hours incident',
        actor: 'ana',
        catalog: catalog.catalog,
      });
      expect(undo.undoes).toBeDefined();
      expect((await suite.client.result(id)).phase).toBe('RolledBack');
      expect(h.memory.state(flag).percent).toBe(0);
    } finally {
      await h.stop();
    }
  });
});

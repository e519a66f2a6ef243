import { describe, expect, it } from 'vitest';
import { RolloutAlreadyRunningError } from '../../src/client/start.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { ValidationError } from '../../src/errors.js';
import { WORKFLOW_TYPE } from '../../workflows/messages.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

describe('operator commands', () => {
  it('refuses a second rollout for the same flag and names the running one', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('dup');
      const spec = flagdSpec(flag, [{ exposure: 5, observe: '1h' }]);
      const { workflowId } = await suite.client.start(spec, { taskQueue: h.taskQueue });
      expect(workflowId).toBe(`rollout/${flag}`);
      const second = suite.client.start(spec, { taskQueue: h.taskQueue });
      await expect(second).rejects.toBeInstanceOf(RolloutAlreadyRunningError);
      await expect(second).rejects.toThrow(`A rollout for this flag is already running: rollout/${flag}`);
      await suite.client.abort(workflowId, { reason: 'cleanup', actor: 'test' });
      await suite.client.result(workflowId);
    } finally {
      await h.stop();
    }
  });

  it('starts nothing for an invalid spec, and the workflow itself rejects one that bypasses the client', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('invalid');
      const bad = flagdSpec(flag, [{ exposure: 150 }]);
      const err = await suite.client.start(bad, { taskQueue: h.taskQueue }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues).toEqual([{ path: 'steps[0].exposure', message: 'must be ≤ 100' }]);
      await expect(suite.client.handle(rolloutIdForFlag(flag)).describe()).rejects.toThrow(/not found/i);

      const raw = await suite.env.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: h.taskQueue,
        workflowId: rolloutIdForFlag(flag),
        args: [{ spec: bad }],
      });
      await expect(raw.result()).rejects.toMatchObject({
        cause: { type: 'InvalidSpec', message: expect.stringMatching(/steps\[0\]\.exposure: must be ≤ 100/) },
      });
    } finally {
      await h.stop();
    }
  });

  it('rejects illegal commands with a reason and leaves no trace in state', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('illegal');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [{ exposure: 5, observe: '1h' }, { approval: { approvers: ['lead'] } }, { exposure: 100 }]),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      const before = await suite.client.status(id);
      await expect(suite.client.approve(id, { step: 1, actor: 'lead' })).rejects.toThrow(
        /step 2 is not waiting for approval/,
      );
      await expect(suite.client.approve(id, { step: 7, actor: 'lead' })).rejects.toThrow(/there is no step 8/);
      await expect(suite.client.resume(id, { actor: 'x' })).rejects.toThrow(/not paused/);
      await expect(suite.client.pause(id, { reason: '', actor: 'x' })).rejects.toThrow(/reason: must say why/);
      const after = await suite.client.status(id);
      expect(after.timeline).toEqual(before.timeline);
      expect(after.approvals).toEqual([]);

      await suite.client.promote(id, { actor: 'ana' });
      await waitFor(async () => (await suite.client.status(id)).phase === 'AwaitingApproval');
      await expect(suite.client.promote(id, { actor: 'ana' })).rejects.toThrow(/waits for approval; use approve/);
      // the refusal names the step and the actor, never who may approve
      const refused = await suite.client.approve(id, { step: 1, actor: 'mallory' }).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toMatch(/mallory is not an approver of step 2/);
      expect((refused as Error).message).not.toContain('lead');
      await suite.client.approve(id, { step: 1, actor: 'lead' });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Completed');
      await expect(suite.client.abort(id, { reason: 'late', actor: 'x' })).rejects.toThrow();
    } finally {
      await h.stop();
    }
  });

  it('promote cuts window after window short; a workflow cancel during the next one rolls back', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('windows');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [
          { exposure: 5, observe: '1h' },
          { exposure: 25, observe: '1h' },
          { exposure: 50, observe: '1h' },
          { exposure: 100 },
        ]),
        { taskQueue: h.taskQueue },
      );
      for (const step of [0, 1]) {
        await waitFor(async () => {
          const s = await suite.client.status(id);
          return s.step === step && s.phase === 'Observing';
        });
        await suite.client.promote(id, { actor: 'ana' });
      }
      await waitFor(async () => {
        const s = await suite.client.status(id);
        return s.step === 2 && s.phase === 'Observing';
      });
      // as the Web UI's or `temporal workflow cancel`'s request does
      await suite.client.handle(id).cancel();
      // the rollback runs to its end first; then the run closes as Canceled, the request honoured
      await expect(suite.client.handle(id).result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
      const result = await suite.client.status(id);
      expect(result.phase).toBe('Aborted');
      expect(result.rollback).toMatchObject({ trigger: 'cancel', reason: 'workflow cancelled' });
      expect(
        result.timeline.filter((t) => t.cause === 'promoted by ana: window ended early').map((t) => t.step),
      ).toEqual([0, 1]);
      expect(result.exposure.percent).toBe(0);
      const events = (await suite.client.handle(id).fetchHistory()).events ?? [];
      const started = events.filter((e) => e.timerStartedEventAttributes);
      expect(started.map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds))).toEqual([
        3600, 3600, 3600,
      ]);
      expect(events.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(3);
      expect(events.filter((e) => e.timerFiredEventAttributes)).toHaveLength(0);
    } finally {
      await h.stop();
    }
  });

  it('pause holds the rollout after its window, resume continues; promote during rollback is rejected', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('pause');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [
          { exposure: 5, observe: '300ms' },
          { exposure: 50, observe: '1h' },
        ]),
        {
          taskQueue: h.taskQueue,
        },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      await suite.client.pause(id, { reason: 'checking dashboards', actor: 'ana' });
      await new Promise((r) => setTimeout(r, 600)); // the 300 ms window ends while paused
      const held = await suite.client.status(id);
      expect(held).toMatchObject({
        phase: 'Paused',
        step: 0,
        pauseReasons: [expect.objectContaining({ reason: 'checking dashboards', actor: 'ana' })],
      });
      await suite.client.resume(id, { actor: 'ana' });
      await waitFor(async () => (await suite.client.status(id)).step === 1);

      await suite.client.abort(id, { reason: 'enough', actor: 'ana' });
      await expect(suite.client.promote(id, { actor: 'bob' })).rejects.toThrow(
        /cannot promote: the rollout (is rolling back|has ended)/,
      );
      await expect(suite.client.approve(id, { step: 0, actor: 'bob' })).rejects.toThrow(/cannot approve/);
      expect((await suite.client.result(id)).phase).toBe('Aborted');
    } finally {
      await h.stop();
    }
  });

  it('resolves abort racing promote deterministically: the rollout ends Aborted either way', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('race');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [{ exposure: 5, observe: '1h' }, { exposure: 100 }]),
        {
          taskQueue: h.taskQueue,
        },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      const [abort, promote] = await Promise.allSettled([
        suite.client.abort(id, { reason: 'race', actor: 'a' }),
        suite.client.promote(id, { actor: 'b' }),
      ]);
      expect(abort.status).toBe('fulfilled');
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Aborted');
      expect(result.exposure.percent).toBe(0);
      // the workflow applies Updates in the order it receives them: a promote that lands first is recorded
      // before the abort; one that lands after the abort is rejected and leaves no trace
      const promoted = result.timeline.findIndex((t) => /promoted by b/.test(t.cause));
      const aborted = result.timeline.findIndex((t) => t.phase === 'RollingBack');
      if (promote.status === 'fulfilled') expect(promoted).toBeGreaterThanOrEqual(0);
      if (promote.status === 'fulfilled') expect(promoted).toBeLessThan(aborted);
      if (promote.status === 'rejected') {
        expect(String(promote.reason)).toMatch(/cannot promote: the rollout is rolling back/);
        expect(promoted).toBe(-1);
        expect(result.timeline.some((t) => t.step === 1)).toBe(false);
      }
    } finally {
      await h.stop();
    }
  });
});

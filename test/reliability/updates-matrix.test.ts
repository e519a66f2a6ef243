import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRejectedError } from '../../src/client/rollout-client.js';
import type { Phase } from '../../src/domain/rollout-state.schema.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { statusQuery } from '../../workflows/messages.js';
import { httpRecorder } from '../helpers/http-recorder.js';
import { rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { flagService } from './flag-service.js';

/**
 * Every operator command in every phase a rollout can be in, against the real workflow: a refused command names
 * its reason and leaves status and timeline exactly as they were; an allowed one is accepted.
 */
const suite = useRolloutSuite();
let h: RolloutHarness;
beforeAll(async () => {
  h = await rolloutHarness(suite.env, suite.bundle);
});
afterAll(async () => {
  await h?.stop();
});

type Command = 'pause' | 'resume' | 'promote' | 'approve' | 'abort';
const ALL: Command[] = ['pause', 'resume', 'promote', 'approve', 'abort'];

function send(id: string, cmd: Command, opts: { step?: number; actor?: string; reason?: string } = {}) {
  const actor = opts.actor ?? 'ops';
  const reason = opts.reason ?? 'matrix';
  switch (cmd) {
    case 'pause':
      return suite.client.pause(id, { reason, actor });
    case 'resume':
      return suite.client.resume(id, { actor });
    case 'promote':
      return suite.client.promote(id, { actor });
    case 'approve':
      return suite.client.approve(id, { step: opts.step ?? 0, actor });
    case 'abort':
      return suite.client.abort(id, { reason, actor });
  }
}

/** What a command could change; rollback retry counters tick on their own and are left out. */
async function snapshot(id: string) {
  const s = await suite.client.handle(id).query(statusQuery);
  const rollback = s.rollback && {
    trigger: s.rollback.trigger,
    reason: s.rollback.reason,
    actor: s.rollback.actor,
    done: s.rollback.done,
  };
  return {
    phase: s.phase,
    step: s.step,
    exposure: s.exposure,
    pauseReasons: s.pauseReasons,
    approvals: s.approvals,
    timeline: s.timeline,
    rollback,
  };
}

async function expectRefused(
  id: string,
  cmd: Command,
  reason: RegExp,
  opts: Parameters<typeof send>[2] = {},
): Promise<void> {
  const before = await snapshot(id);
  const err = await send(id, cmd, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${cmd} in ${before.phase}`).toBeInstanceOf(CommandRejectedError);
  expect((err as CommandRejectedError).reason).toMatch(reason);
  const after = await snapshot(id);
  expect(after, `${cmd} in ${before.phase} changed the state`).toEqual(before);
  expect(after.timeline).toHaveLength(before.timeline.length);
}

async function expectAccepted(
  id: string,
  cmd: Command,
  then: Phase,
  opts: Parameters<typeof send>[2] = {},
): Promise<void> {
  const phase = (await snapshot(id)).phase;
  await expect(send(id, cmd, opts), `${cmd} in ${phase}`).resolves.toMatchObject({ accepted: true });
  await waitFor(async () => (await snapshot(id)).phase === then, 20_000, `${then} after ${cmd} in ${phase}`);
}

/**
 * A finished rollout's workflow is closed, so no validator runs: the server refuses every Update as "already
 * completed", which RolloutClient reports as a CommandRejectedError naming the final phase; nothing changes.
 */
async function expectAllRefusedAfterEnd(id: string): Promise<void> {
  const before = await snapshot(id);
  for (const cmd of ALL) {
    const err = await send(id, cmd).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `${cmd} in ${before.phase}`).toBeInstanceOf(CommandRejectedError);
    expect((err as Error).message).toMatch(new RegExp(`cannot ${cmd}: the rollout has ended \\(${before.phase}\\)`));
  }
  expect(await snapshot(id)).toEqual(before);
}

const memorySpec = (flag: string, steps: RolloutSpecInput['steps']): RolloutSpecInput => ({
  name: 'updates-matrix',
  target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
  steps,
});
const startIn = async (spec: RolloutSpecInput, phase: Phase, step: number) => {
  const { workflowId } = await h.start(spec);
  await waitFor(
    async () => {
      const s = await snapshot(workflowId);
      return s.phase === phase && s.step === step;
    },
    20_000,
    `${phase} at step ${step}`,
  );
  return workflowId;
};

describe('every Update in every phase', () => {
  it('Progressing → RollingBack (hook failing) → Aborted: only pause, resume and abort are ever accepted', async () => {
    const svc = await flagService();
    const hooks = await httpRecorder();
    hooks.respond = () => ({ status: 503, body: { error: 'hook down' } });
    svc.hold((percent) => percent === 5);
    try {
      const flag = uniqueFlag('matrix-progressing');
      const { workflowId: id } = await h.start({
        name: 'updates-matrix',
        target: {
          type: 'http',
          url: `${svc.url}/flags/${flag}`,
          flag,
          variant: 'on',
          baselineVariant: 'off',
          timeoutMs: 25_000,
        },
        steps: [{ exposure: 5, observe: '1h' }, { approval: {} }, { exposure: 100 }],
        rollback: { compensations: [{ name: 'drain', http: { url: `${hooks.url}/drain` } }] },
      });
      await waitFor(async () => svc.held === 1 && (await snapshot(id)).phase === 'Progressing', 20_000, 'PUT held');
      await expectRefused(id, 'resume', /not paused \(phase Progressing\)/);
      await expectRefused(id, 'promote', /exposure change is in flight/);
      await expectRefused(id, 'approve', /step 1 is not an approval step/, { step: 0 });
      await expectRefused(id, 'approve', /step 2 is not waiting for approval/, { step: 1 });
      await expectAccepted(id, 'pause', 'Paused');
      await expectRefused(id, 'pause', /already paused by ops for the same reason/);
      await expectAccepted(id, 'resume', 'Progressing');
      await expectAccepted(id, 'abort', 'RollingBack');

      // rolling back while the forward change is still in flight, then while a compensation keeps failing
      for (const cmd of ALL)
        await expectRefused(id, cmd, /cannot \w+: the rollout is rolling back \(aborted by ops: matrix\)/, { step: 1 });
      svc.release();
      await waitFor(
        async () => (await suite.client.status(id)).rollback?.retrying === true,
        20_000,
        'compensation retrying',
      );
      for (const cmd of ALL) await expectRefused(id, cmd, /the rollout is rolling back/, { step: 1 });

      hooks.respond = () => ({ status: 200 });
      expect((await suite.client.result(id)).phase).toBe('Aborted');
      expect(svc.state.percent).toBe(0);
      await expectAllRefusedAfterEnd(id);
    } finally {
      await svc.close();
      await hooks.close();
    }
  });

  it('Observing and operator-Paused: pause, resume, promote and abort are accepted; approve is refused', async () => {
    const id = await startIn(
      memorySpec(uniqueFlag('matrix-observing'), [
        { exposure: 5, observe: '1h' },
        { exposure: 10, observe: '1h' },
        { approval: {} },
      ]),
      'Observing',
      0,
    );
    await expectRefused(id, 'resume', /not paused \(phase Observing\)/);
    await expectRefused(
      id,
      'approve',
      /step 3 is not waiting for approval \(the rollout is at step 1, phase Observing\)/,
      { step: 2 },
    );
    await expectAccepted(id, 'pause', 'Paused');
    await expectRefused(id, 'pause', /already paused/);
    await expectRefused(id, 'approve', /step 3 is not waiting for approval/, { step: 2 });
    await expectAccepted(id, 'pause', 'Paused', { reason: 'a second reason' });
    await expectAccepted(id, 'resume', 'Observing');
    expect((await snapshot(id)).step).toBe(0);
    await expectAccepted(id, 'promote', 'Observing');
    await waitFor(async () => (await snapshot(id)).step === 1, 20_000, 'step 1');
    await expectAccepted(id, 'abort', 'Aborted');
    await expectAllRefusedAfterEnd(id);
  });

  it('AwaitingApproval: pause, resume, approve and abort are accepted; promote, resume-instead-of-approve and wrong approvals are refused', async () => {
    const spec = memorySpec(uniqueFlag('matrix-approval'), [
      { exposure: 5 },
      { approval: { approvers: ['lead'] } },
      { approval: {} },
      { exposure: 100 },
    ]);
    const id = await startIn(spec, 'AwaitingApproval', 1);
    await expectRefused(id, 'resume', /step 2 waits for approval; use approve/);
    await expectRefused(id, 'promote', /step 2 waits for approval; use approve/);
    await expectRefused(id, 'approve', /step 3 is not waiting for approval/, { step: 2, actor: 'lead' });
    await expectRefused(id, 'approve', /mallory is not an approver of step 2$/, {
      step: 1,
      actor: 'mallory',
    });
    await expectAccepted(id, 'pause', 'Paused');
    await expectAccepted(id, 'resume', 'AwaitingApproval');
    await expectAccepted(id, 'approve', 'AwaitingApproval', { step: 1, actor: 'lead' });
    await waitFor(async () => (await snapshot(id)).step === 2, 20_000, 'step 2');
    await expectRefused(id, 'approve', /step 2 is already approved/, { step: 1, actor: 'lead' });
    await expectAccepted(id, 'abort', 'Aborted');
    await expectAllRefusedAfterEnd(id);
  });

  it('Paused by a pause step: pause, resume, promote and abort are accepted; approve is refused', async () => {
    const id = await startIn(
      memorySpec(uniqueFlag('matrix-paused'), [
        { exposure: 5 },
        { pause: {} },
        { pause: {} },
        { pause: {} },
        { exposure: 100 },
      ]),
      'Paused',
      1,
    );
    await expectRefused(id, 'approve', /step 2 is not an approval step/, { step: 1 });
    await expectAccepted(id, 'pause', 'Paused', { reason: 'operator hold on top of the step' });
    await expectRefused(id, 'pause', /already paused/, { reason: 'operator hold on top of the step' });
    await expectAccepted(id, 'resume', 'Paused');
    await waitFor(async () => (await snapshot(id)).step === 2, 20_000, 'step 2');
    await expectAccepted(id, 'promote', 'Paused');
    await waitFor(async () => (await snapshot(id)).step === 3, 20_000, 'step 3');
    await expectAccepted(id, 'abort', 'Aborted');
    await expectAllRefusedAfterEnd(id);
  });

  it('Completed and RolledBack: every command is refused and nothing changes', async () => {
    const done = await h.start(memorySpec(uniqueFlag('matrix-completed'), [{ exposure: 100 }]));
    const breached = await startIn(
      {
        ...memorySpec(uniqueFlag('matrix-rolledback'), [{ exposure: 5, observe: '1h' }, { exposure: 100 }]),
        guards: [{ name: 'external-alert', alert: {}, critical: true }],
      },
      'Observing',
      0,
    );
    await suite.client.breach(breached, { guard: 'external-alert', reason: 'pager' });
    expect((await suite.client.result(done.workflowId)).phase).toBe('Completed');
    expect((await suite.client.result(breached)).phase).toBe('RolledBack');
    await expectAllRefusedAfterEnd(done.workflowId);
    await expectAllRefusedAfterEnd(breached);
  });
});

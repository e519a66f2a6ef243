import { describe, expect, it } from 'vitest';
import { AbortCommand, ApproveCommand, PauseCommand } from '../../src/domain/commands.schema.js';
import { rejectAbort, rejectApprove, rejectPause, rejectPromote, rejectResume } from '../../src/domain/commands.js';
import { initialState } from '../../src/domain/rollout-state.js';
import { type Phase, type RolloutState } from '../../src/domain/rollout-state.schema.js';
import { ResolvedSpec } from '../../src/domain/spec.schema.js';

/** Commands act on a running rollout: its spec as the worker runs it, resolved against the catalog. */
const spec = ResolvedSpec.parse({
  name: 'x',
  target: { type: 'memory', name: 'm', flag: 'f', variant: 'on', baselineVariant: 'off' },
  steps: [
    { exposure: 5, observe: '1m' },
    { approval: { approvers: ['lead', 'sre-on-call'] } },
    { pause: {} },
    { exposure: 100 },
  ],
});

function at(step: number, phase: Phase, extra: Partial<RolloutState> = {}): RolloutState {
  return { ...initialState({ runId: 'r', totalSteps: 4, baseline: 0, now: 't' }), step, phase, ...extra };
}
const rollingBack = (s: RolloutState): RolloutState => ({
  ...s,
  rollback: { trigger: 'abort', reason: 'r', requestedAt: 't', failedAttempts: 0, retrying: false, done: [] },
});

describe('command validators: every command in every phase', () => {
  const phases: Phase[] = [
    'Pending',
    'Progressing',
    'Observing',
    'AwaitingApproval',
    'Paused',
    'RollingBack',
    'Completed',
    'RolledBack',
    'Aborted',
  ];
  const closed = new Set<Phase>(['RollingBack', 'Completed', 'RolledBack', 'Aborted']);

  it.each(phases)('in %s only the legal commands pass', (phase) => {
    const step = phase === 'AwaitingApproval' ? 1 : phase === 'Paused' ? 2 : 0;
    let s = at(
      step,
      phase,
      phase === 'Paused' ? { pauseReasons: [{ kind: 'step', reason: 'pause step', at: 't' }] } : {},
    );
    if (phase === 'RollingBack') s = rollingBack(s);
    const a = { actor: 'lead' };
    const legal = {
      pause: rejectPause(s, { reason: 'why', ...a }) === undefined,
      resume: rejectResume(s, spec, a) === undefined,
      promote: rejectPromote(s, spec, a) === undefined,
      approve: rejectApprove(s, spec, { step: 1, ...a }) === undefined,
      abort: rejectAbort(s, { reason: 'why', ...a }) === undefined,
    };
    expect(legal).toEqual({
      pause: !closed.has(phase),
      resume: phase === 'Paused',
      promote: phase === 'Observing' || phase === 'Paused',
      approve: phase === 'AwaitingApproval',
      abort: !closed.has(phase),
    });
  });

  it('explains why: wrong step, unknown step, wrong approver, approval needed', () => {
    const waiting = at(1, 'AwaitingApproval');
    expect(rejectApprove(waiting, spec, { step: 0, actor: 'lead' })).toMatch(/step 1 is not an approval step/);
    expect(rejectApprove(waiting, spec, { step: 9, actor: 'lead' })).toMatch(/there is no step 10/);
    const notApprover = rejectApprove(waiting, spec, { step: 1, actor: 'eve' });
    expect(notApprover).toBe('cannot approve: eve is not an approver of step 2');
    // the refusal goes back to whoever asked: it does not tell them who may approve
    for (const approver of ['lead', 'sre-on-call']) expect(notApprover).not.toContain(approver);
    expect(rejectPromote(waiting, spec, { actor: 'lead' })).toMatch(/waits for approval; use approve/);
    expect(rejectPromote(at(0, 'Progressing'), spec, { actor: 'x' })).toMatch(/in flight/);
    expect(rejectAbort(rollingBack(at(0, 'RollingBack')), { reason: 'r', actor: 'x' })).toMatch(/already|rolling back/);
  });
});

describe('command validators: the shape of a command sent by any Temporal SDK', () => {
  const observing = at(0, 'Observing');
  const waiting = at(1, 'AwaitingApproval');

  it('refuses what the command schemas refuse, naming the field', () => {
    expect(rejectPause(observing, { reason: '  ', actor: 'ana' })).toBe('cannot pause: reason: must not be empty');
    expect(rejectPause(observing, { actor: 'ana' } as never)).toBe('cannot pause: reason: must be a string');
    expect(rejectAbort(observing, { reason: 'x'.repeat(1_001), actor: 'ana' })).toBe(
      'cannot abort: reason: must be at most 1000 characters',
    );
    expect(rejectResume(observing, spec, {} as never)).toBe('cannot resume: actor: must be a string');
    expect(rejectPromote(observing, spec, { actor: 'ana', hurry: true } as never)).toBe(
      'cannot promote: unknown field hurry',
    );
    expect(rejectApprove(waiting, spec, { step: 1.5, actor: 'lead' })).toBe(
      'cannot approve: step: must be a step index (an integer ≥ 0)',
    );
    expect(rejectApprove(waiting, spec, { step: 1, actor: 'lead', comment: 7 } as never)).toBe(
      'cannot approve: comment: must be a string',
    );
    expect(rejectAbort(observing, 'stop' as never)).toBe('cannot abort: the command must be an object');
  });

  it('agrees with the zod command schemas on accepted and refused shapes', () => {
    const cases: unknown[] = [
      { actor: 'ana', reason: 'why' },
      { actor: '', reason: 'why' },
      { actor: 'ana', reason: '' },
      { actor: 'ana' },
      { actor: 'ana', reason: 'why', extra: 1 },
      { actor: 42, reason: 'why' },
      null,
      [],
    ];
    for (const cmd of cases) {
      expect(rejectPause(observing, cmd as never) === undefined, JSON.stringify(cmd)).toBe(
        PauseCommand.safeParse(cmd).success,
      );
      expect(rejectAbort(observing, cmd as never) === undefined, JSON.stringify(cmd)).toBe(
        AbortCommand.safeParse(cmd).success,
      );
    }
    const approvals: unknown[] = [
      { step: 1, actor: 'lead' },
      { step: 1, actor: 'lead', comment: 'ok' },
      { step: -1, actor: 'lead' },
      { step: '1', actor: 'lead' },
      { actor: 'lead' },
    ];
    for (const cmd of approvals) {
      expect(rejectApprove(waiting, spec, cmd as never) === undefined, JSON.stringify(cmd)).toBe(
        ApproveCommand.safeParse(cmd).success,
      );
    }
  });
});

describe('promote with full: skip to the last step', () => {
  const failing = {
    name: 'errors',
    verdict: 'Failed' as const,
    value: 0.5,
    threshold: '≤ 0.1',
    at: 't',
  };
  it('is refused while an approval lies ahead that nobody gave, and accepted once it is given', () => {
    expect(rejectPromote(at(0, 'Observing'), spec, { actor: 'ana', full: true })).toBe(
      'cannot promote to full: step 2 is an approval nobody has given yet; approve it when it waits, or promote step by step',
    );
    const approved = at(2, 'Paused', {
      approvals: [{ step: 1, actor: 'lead', at: 't' }],
      pauseReasons: [{ kind: 'step', reason: 'pause step', at: 't' }],
    });
    expect(rejectPromote(approved, spec, { actor: 'ana', full: true })).toBeUndefined();
  });
  it('is refused while a recorded guard fails, unless forced with a reason; a dry-run guard does not count', () => {
    const s = at(2, 'Paused', {
      approvals: [{ step: 1, actor: 'lead', at: 't' }],
      pauseReasons: [{ kind: 'step', reason: 'pause step', at: 't' }],
      guards: [failing],
    });
    expect(rejectPromote(s, spec, { actor: 'ana', full: true })).toMatch(/guard errors is failing; add force/);
    expect(rejectPromote(s, spec, { actor: 'ana', full: true, force: true })).toBe(
      'cannot promote: force needs a reason',
    );
    expect(rejectPromote(s, spec, { actor: 'ana', full: true, force: true, reason: 'hotfix' })).toBeUndefined();
    expect(
      rejectPromote({ ...s, guards: [{ ...failing, dryRun: true }] }, spec, { actor: 'ana', full: true }),
    ).toBeUndefined();
    expect(rejectPromote(s, spec, { actor: 'ana', force: true, reason: 'x' })).toBe(
      'cannot promote: force applies to a full promotion (full: true)',
    );
    expect(rejectPromote(s, spec, { actor: 'ana', full: 'yes' } as never)).toBe(
      'cannot promote: full: must be true or false',
    );
    expect(
      rejectPromote({ ...s, promoteFull: { actor: 'bo', at: 't', forced: false } }, spec, { actor: 'ana', full: true }),
    ).toBe('cannot promote: a full promotion is already under way');
  });
});

import { setHandler } from '@temporalio/workflow';
import {
  rejectAbort,
  rejectApprove,
  rejectPause,
  rejectPromote,
  rejectResume,
  type CommandAck,
} from '../src/domain/commands.js';
import { describeStep } from '../src/domain/describe.js';
import { now } from './effects.js';
import {
  abortUpdate,
  approveUpdate,
  guardBreachSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  statusQuery,
  type RolloutStatus,
} from './messages.js';
import { addPause, clearPauses, removePauses, requestRollback, type Rollout } from './state-ops.js';
import { enterPhase } from '../src/domain/rollout-state.js';

/** Throws the validator's reason: a rejected Update is never written to history. */
function check(reason: string | undefined): void {
  if (reason !== undefined) throw new Error(reason);
}

/**
 * Registers the operator commands (Updates with validators), the breach signal and the status query.
 * Handlers only change state; the main flow reacts at its next `condition`.
 */
export function registerHandlers(r: Rollout): void {
  const { spec, state } = r;
  const ack = (): CommandAck => ({ accepted: true, phase: state.phase, step: state.step });

  setHandler(
    pauseUpdate,
    (cmd) => {
      addPause(r, { kind: 'operator', reason: cmd.reason, actor: cmd.actor, at: now() });
      return ack();
    },
    { validator: (cmd) => check(rejectPause(state, cmd)), description: 'Hold the rollout (reason, actor).' },
  );

  setHandler(
    resumeUpdate,
    (cmd) => {
      clearPauses(r, (p) => p.kind === 'approval-timeout', cmd.actor, `resumed by ${cmd.actor}`);
      return ack();
    },
    { validator: (cmd) => check(rejectResume(state, spec, cmd)), description: 'Clear every pause (actor).' },
  );

  setHandler(
    promoteUpdate,
    (cmd) => {
      state.promoteRequested = true;
      const hadPause = state.pauseReasons.some((p) => p.kind !== 'approval-timeout');
      if (hadPause) {
        clearPauses(r, (p) => p.kind === 'approval-timeout', cmd.actor, `promoted by ${cmd.actor}`);
      } else {
        enterPhase(state, state.phase, `promoted by ${cmd.actor}: window ended early`, now(), cmd.actor);
      }
      return ack();
    },
    { validator: (cmd) => check(rejectPromote(state, spec, cmd)), description: 'End the current window or pause now (actor).' },
  );

  setHandler(
    approveUpdate,
    (cmd) => {
      state.approvals.push({ step: cmd.step, actor: cmd.actor, at: now(), ...(cmd.comment ? { comment: cmd.comment } : {}) });
      const cause = `step ${cmd.step} approved by ${cmd.actor}`;
      if (state.phase !== 'Paused') enterPhase(state, 'AwaitingApproval', cause, now(), cmd.actor);
      else if (state.pauseReasons.some((p) => p.kind === 'approval-timeout')) removePauses(r, 'approval-timeout', cmd.actor, cause);
      else enterPhase(state, 'Paused', `${cause}; still paused by operator`, now(), cmd.actor);
      return ack();
    },
    { validator: (cmd) => check(rejectApprove(state, spec, cmd)), description: 'Approve the waiting step (step, actor).' },
  );

  setHandler(
    abortUpdate,
    (cmd) => {
      requestRollback(r, 'abort', `aborted by ${cmd.actor}: ${cmd.reason}`, cmd.actor);
      return ack();
    },
    { validator: (cmd) => check(rejectAbort(state, cmd)), description: 'Roll back now (reason, actor).' },
  );

  setHandler(guardBreachSignal, (breach) => {
    if (state.rollback || state.phase === 'Completed') return;
    const value = breach.value !== undefined ? ` (value ${breach.value})` : '';
    requestRollback(r, 'guard', `guard ${breach.guard} breached${value}${breach.source ? ` per ${breach.source}` : ''}`);
  });

  setHandler(
    statusQuery,
    (): RolloutStatus => ({
      name: spec.name,
      target: spec.target.flag,
      phase: state.phase,
      step: state.step,
      totalSteps: state.totalSteps,
      stepDescription: describeStep(spec.steps[state.step]),
      exposure: state.exposure,
      pauseReasons: state.pauseReasons,
      approvals: state.approvals,
      guards: state.guards,
      ...(state.windowEndsAt ? { windowEndsAt: state.windowEndsAt } : {}),
      ...(state.rollback ? { rollback: state.rollback } : {}),
      timeline: state.timeline,
      startedAt: state.startedAt,
      run: state.runs,
    }),
    { description: 'Phase, step, exposure, pauses, approvals, guards and the decision timeline.' },
  );
}

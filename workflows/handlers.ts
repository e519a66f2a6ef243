import { setHandler } from '@temporalio/workflow';
import { rejectAbort, rejectApprove, rejectPause, rejectPromote, rejectResume, type CommandAck } from '../src/domain/commands.js';
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
  type RolloutInput,
  type RolloutStatus,
} from './messages.js';
import { addPause, clearPauses, removePauses, requestRollback, type Rollout } from './state-ops.js';
import type { RolloutState } from '../src/domain/rollout-state.schema.js';
import { enterPhase, initialState } from '../src/domain/rollout-state.js';

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
    const what = `guard ${breach.guard} breached${value}${breach.source ? ` per ${breach.source}` : ''}`;
    const guard = spec.guards.find((g) => g.name === breach.guard);
    // a breach of a non-critical guard counts as one failed measurement against its failureLimit
    if (guard && !guard.critical) {
      const count = (state.breaches[guard.name] ?? 0) + 1;
      state.breaches[guard.name] = count;
      state.measurements.push({
        guard: guard.name,
        at: now(),
        step: state.step,
        check: -1,
        verdict: 'Failed',
        value: breach.value ?? null,
        threshold: `pushed breach ${count}/${guard.failureLimit + 1}`,
        detail: breach.reason ?? what,
      });
      if (count <= guard.failureLimit) return;
    }
    requestRollback(r, 'guard', what);
  });

  setHandler(statusQuery, () => statusOf(spec.name, spec.target.flag, state, spec.steps.map((st) => describeStep(st))), { description: STATUS_DESCRIPTION });
}

const STATUS_DESCRIPTION = 'Phase, step, exposure, pauses, approvals, guards and the decision timeline.';

function statusOf(name: string, target: string, state: RolloutState, steps: string[]): RolloutStatus {
  return {
    name,
    target,
    phase: state.phase,
    step: state.step,
    totalSteps: state.totalSteps,
    stepDescription: steps[state.step] ?? 'done',
    steps,
    exposure: state.exposure,
    pauseReasons: state.pauseReasons,
    approvals: state.approvals,
    guards: state.guards,
    measurements: state.measurements,
    windows: state.windows,
    ...(state.windowEndsAt ? { windowEndsAt: state.windowEndsAt } : {}),
    ...(state.rollback ? { rollback: state.rollback } : {}),
    timeline: state.timeline,
    startedAt: state.startedAt,
    run: state.runs,
  };
}

/**
 * `status` while the spec is being checked (a local activity, before {@link registerHandlers}): what the input
 * says, unvalidated: the carried state after continue-as-new, else Pending at the stated baseline. Updates and
 * signals sent meanwhile wait for their handlers. Returns the state it reports.
 */
export function registerProvisionalStatus(input: RolloutInput, runId: string, now: string): RolloutState {
  const raw = (typeof input.spec === 'object' && input.spec !== null ? input.spec : {}) as { name?: unknown; target?: { flag?: unknown }; steps?: unknown; rollback?: { exposure?: unknown } };
  const baseline = raw.rollback?.exposure;
  const state =
    input.carried ?? initialState({ runId, totalSteps: Array.isArray(raw.steps) ? raw.steps.length : 0, baseline: typeof baseline === 'number' ? baseline : 0, now });
  const name = typeof raw.name === 'string' ? raw.name : '';
  const target = typeof raw.target?.flag === 'string' ? raw.target.flag : '';
  const steps = Array.from({ length: state.totalSteps }, () => 'checking the spec');
  setHandler(statusQuery, () => statusOf(name, target, state, steps), { description: STATUS_DESCRIPTION });
  return state;
}

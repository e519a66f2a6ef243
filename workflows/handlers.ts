import { setHandler } from '@temporalio/workflow';
import { MAX_FLAG, MAX_NAME, truncate } from '../src/domain/bounds.js';
import { rejectAbort, rejectApprove, rejectPause, rejectPromote, rejectResume } from '../src/domain/commands.js';
import { describeStep } from '../src/domain/describe.js';
import { initialState } from '../src/domain/rollout-state.js';
import type { RolloutState } from '../src/domain/rollout-state.schema.js';
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
import type { Rollout } from './rollout.js';

/** Throws the validator's reason: a rejected Update is never written to history. */
function check(reason: string | undefined): void {
  if (reason !== undefined) throw new Error(reason);
}

/** Registers the operator commands (Updates with validators), the breach signal and the status query. */
export function registerHandlers(r: Rollout): void {
  const { spec, state } = r;
  setHandler(pauseUpdate, (cmd) => r.pause(cmd), {
    validator: (cmd) => check(rejectPause(state, cmd)),
    description: 'Hold the rollout (reason, actor).',
  });
  setHandler(resumeUpdate, (cmd) => r.resume(cmd), {
    validator: (cmd) => check(rejectResume(state, spec, cmd)),
    description: 'Clear every pause (actor).',
  });
  setHandler(promoteUpdate, (cmd) => r.promote(cmd), {
    validator: (cmd) => check(rejectPromote(state, spec, cmd)),
    description: 'End the current window or pause now (actor).',
  });
  setHandler(approveUpdate, (cmd) => r.approve(cmd), {
    validator: (cmd) => check(rejectApprove(state, spec, cmd)),
    description: 'Approve the waiting step (step, actor).',
  });
  setHandler(abortUpdate, (cmd) => r.abort(cmd), {
    validator: (cmd) => check(rejectAbort(state, cmd)),
    description: 'Roll back now (reason, actor).',
  });
  setHandler(guardBreachSignal, (breach) => r.breach(breach));
  const steps = spec.steps.map((st) => describeStep(st));
  setHandler(statusQuery, () => statusOf(spec.name, spec.target.flag, state, steps), {
    description: STATUS_DESCRIPTION,
  });
}

const STATUS_DESCRIPTION = 'Phase, step, exposure, pauses, approvals, guards and the decision timeline.';

function statusOf(name: string, target: string, state: RolloutState, steps: string[]): RolloutStatus {
  return {
    name,
    target,
    phase: state.phase,
    step: state.step,
    totalSteps: state.totalSteps,
    stepDescription: steps[state.step] ?? (state.phase === 'Observing' ? 'final bake' : 'done'),
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
    ...(state.refusedBreaches ? { refusedBreaches: state.refusedBreaches } : {}),
    ...(state.undoOf ? { undoOf: state.undoOf } : {}),
  };
}

/**
 * `status` while the spec is being checked (a local activity, before {@link registerHandlers}): what the input
 * says, unvalidated: the carried state after continue-as-new, else Pending at the stated baseline. Updates and
 * signals sent meanwhile wait for their handlers. Returns the state it reports.
 */
export function registerProvisionalStatus(input: RolloutInput, runId: string, now: string): RolloutState {
  const raw = (typeof input.spec === 'object' && input.spec !== null ? input.spec : {}) as {
    name?: unknown;
    target?: { flag?: unknown };
    steps?: unknown;
    rollback?: { exposure?: unknown };
  };
  const baseline = raw.rollback?.exposure;
  const state =
    input.carried ??
    initialState({
      runId,
      totalSteps: Array.isArray(raw.steps) ? raw.steps.length : 0,
      baseline: typeof baseline === 'number' ? baseline : 0,
      now,
    });
  // unvalidated input from any SDK: shown bounded, so a status read cannot fail on its size
  const name = typeof raw.name === 'string' ? truncate(raw.name, MAX_NAME) : '';
  const target = typeof raw.target?.flag === 'string' ? truncate(raw.target.flag, MAX_FLAG) : '';
  const steps = Array.from({ length: state.totalSteps }, () => 'checking the spec');
  setHandler(statusQuery, () => statusOf(name, target, state, steps), { description: STATUS_DESCRIPTION });
  return state;
}

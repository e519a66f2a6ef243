import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { initialState } from '../src/domain/rollout-state.js';
import type { RollbackTrigger, RolloutState } from '../src/domain/rollout-state.schema.js';
import { kindOf } from '../src/domain/spec.js';
import { assertNever } from '../src/util/assert-never.js';
import { preflightActivities } from './activities.js';
import { BackgroundGuards } from './background.js';
import { ROLLOUT_V4_PATCH, ROLLOUT_V5_PATCH, ROLLOUT_V6_PATCH, ROLLOUT_V7_PATCH, ROLLOUT_V8_PATCH } from './patches.js';
import { boundUndo } from '../src/domain/commands.js';
import { causeMessage } from './failure-message.js';
import { registerHandlers, registerProvisionalStatus } from './handlers.js';
import type { RolloutInput, RolloutResult } from './messages.js';
import { rolloutMetrics } from './metrics.js';
import { runRollback } from './rollback.js';
import { now, Rollout } from './rollout.js';
import { acceptRolloutSpec } from './spec-check.js';
import {
  lastExposureStep,
  pushCompensations,
  runApprovalStep,
  runExposureStep,
  runFinalBake,
  runFullPromotion,
  runPauseStep,
  runShadowStep,
  stepExposures,
} from './steps.js';

export { WORKFLOW_TYPE } from './messages.js';

/**
 * Runs one progressive rollout: for each step apply exposure, observe, wait for approval or pause, and on
 * abort, breach or failure roll back until the target is at its baseline. Decisions live in `src/domain`;
 * this function only sequences effects.
 */
export async function progressiveRollout(input: RolloutInput): Promise<RolloutResult> {
  const provisional = registerProvisionalStatus(input, workflowInfo().runId, now());
  // decided in the first activation, before the spec check's local activity: a patch marker recorded in the same
  // workflow task as that activity's result does not replay (a query on an evicted run then fails)
  const preflightFirst = !input.carried && patched(ROLLOUT_V4_PATCH);
  const v5 = patched(ROLLOUT_V5_PATCH);
  const undo =
    input.undo !== undefined && !input.carried && patched(ROLLOUT_V7_PATCH) ? boundUndo(input.undo) : undefined;
  // an undo is a rollback: it is never refused for the hour (allowed hours bind starts, not the way back)
  const spec = await acceptRolloutSpec(input.spec, input.carried === undefined && undo === undefined);
  const state: RolloutState =
    input.carried ??
    initialState({
      runId: workflowInfo().runId,
      totalSteps: spec.steps.length,
      baseline: spec.rollback.exposure,
      now: provisional.startedAt,
    });
  if (input.carried) state.runs += 1;
  else rolloutMetrics.started();
  if (undo) {
    state.undoOf = undo.of;
    // where the completed run left the target: its last exposure step
    state.exposure = { percent: lastExposureStep(spec)?.step.exposure ?? spec.rollback.exposure };
  }
  const parent = input.reportPhases ? workflowInfo().parent?.workflowId : undefined;
  const rollout = new Rollout(spec, state, input.spec, parent);
  rollout.v5 = v5;
  if (v5) state.failures ??= {};
  registerHandlers(rollout);
  const background = (rollout.background = new BackgroundGuards(rollout));
  // a continued run whose exposure has changed watches again at once
  if (state.compensations.some((c) => c.kind === 'exposure')) background.start();

  // a first run proves it can run before it changes anything; one that cannot ends Failed, having changed nothing
  if (preflightFirst && !undo) {
    const problems = await preflight(rollout);
    if (problems.length > 0 && !rollout.rollingBack) {
      rollout.enter('Failed', `preflight failed, nothing was changed: ${problems.join('; ')}`);
      await rollout.settleNotifications();
      await condition(allHandlersFinished);
      return resultOf(rollout);
    }
  }

  try {
    if (undo) {
      pushCompensations(rollout);
      rollout.requestRollback('undo', `undo of run ${undo.of}: ${undo.reason}`, undo.actor);
    }
    await runSteps(rollout);
    if (v5 && spec.analysis.finalBake && !rollout.rollingBack && !state.promoteFull)
      await runFinalBake(rollout, spec.analysis.finalBake);
  } catch (err) {
    if (isContinueAsNew(err)) throw err;
    const trigger: RollbackTrigger = isCancellation(err) ? 'cancel' : 'error';
    const reason = isCancellation(err) ? 'workflow cancelled' : `rollout failed: ${causeMessage(err)}`;
    log.warn('rolling back after failure', { reason });
    rollout.requestRollback(trigger, reason);
  }

  await background.stop();
  if (rollout.rollingBack) {
    await CancellationScope.nonCancellable(() => runRollback(rollout));
  } else {
    state.promoteRequested = false;
    rollout.enter('Completed', `all ${spec.steps.length} steps done`);
  }
  await rollout.settleNotifications();
  await condition(allHandlersFinished);
  return resultOf(rollout);
}

/** The preflight's problems (none: the rollout may start); its notes go into the timeline. */
async function preflight(r: Rollout): Promise<string[]> {
  const { spec, state } = r;
  try {
    const report = await preflightActivities.preflight.executeWithOptions(
      { summary: `preflight: ${spec.target.flag} and ${spec.guards.length} guard source(s)` },
      [
        {
          target: spec.target,
          baseline: spec.rollback.exposure,
          guards: spec.guards,
          ...(spec.steps.some((s) => 'shadow' in s) ? { shadow: true } : {}),
          exposures: stepExposures(spec),
        },
      ],
    );
    for (const note of report.notes) log.info('preflight', { note });
    if (report.notes.length > 0 && report.problems.length === 0)
      r.enter(state.phase, `preflight: ${report.notes.join('; ')}`);
    return report.problems;
  } catch (err) {
    return [`the preflight could not run: ${causeMessage(err)}`];
  }
}

function isContinueAsNew(err: unknown): boolean {
  return (err as Error)?.name === 'ContinueAsNew';
}

async function runSteps(r: Rollout): Promise<void> {
  const { spec, state } = r;
  while (state.step < spec.steps.length && !r.rollingBack) {
    if (state.promoteFull && patched(ROLLOUT_V6_PATCH)) {
      await runFullPromotion(r);
      return;
    }
    const step = kindOf(spec.steps[state.step]!);
    switch (step.kind) {
      case 'exposure':
        await runExposureStep(r, step.step);
        break;
      case 'approval':
        await runApprovalStep(r, step.step);
        break;
      case 'pause':
        await runPauseStep(r, step.step);
        break;
      case 'shadow':
        patched(ROLLOUT_V8_PATCH);
        await runShadowStep(r, step.step);
        break;
      default:
        assertNever(step, 'step kind');
    }
    if (r.heldByPause) await condition(() => !r.heldByPause);
    if (r.rollingBack) return;
    state.step += 1;
    state.promoteRequested = false;
    if (shouldContinueAsNew() && state.step < spec.steps.length) {
      await r.background?.stop();
      await condition(allHandlersFinished);
      await continueAsNew<typeof progressiveRollout>({
        spec: r.request,
        carried: state,
        ...(r.reportTo ? { reportPhases: true } : {}),
      });
    }
  }
}

/**
 * Continue-as-new when the server suggests it, or before the history nears 4,096 events: the server only
 * suggests it once that many are recorded, and a step adds ~13 more before the next check.
 */
const CONTINUE_AS_NEW_EVENTS = 3_500;
function shouldContinueAsNew(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > CONTINUE_AS_NEW_EVENTS;
}

function resultOf(r: Rollout): RolloutResult {
  const { spec, state } = r;
  const last = state.timeline[state.timeline.length - 1];
  const phase =
    state.phase === 'Completed' || state.phase === 'RolledBack' || state.phase === 'Aborted' || state.phase === 'Failed'
      ? state.phase
      : 'Aborted';
  return {
    name: spec.name,
    target: spec.target.flag,
    phase,
    reason: state.rollback?.reason ?? last?.cause ?? '',
    exposure: state.exposure,
    stepsCompleted: phase === 'Completed' ? spec.steps.length : state.step,
    totalSteps: spec.steps.length,
    approvals: state.approvals,
    guards: state.guards,
    measurements: state.measurements,
    windows: state.windows,
    ...(state.rollback ? { rollback: state.rollback } : {}),
    timeline: state.timeline,
  };
}

import { condition } from '@temporalio/workflow';
import type { Exposure, ExposureReading } from '../src/domain/exposure.schema.js';
import { compensationName, kindOf, pauseDuration } from '../src/domain/spec.js';
import type { ApprovalStep, ExposureStep, PauseStep, ResolvedSpec, ShadowStep } from '../src/domain/spec.schema.js';
import { toMs } from '../src/domain/time.js';
import { forwardActivities } from './activities.js';
import { rolloutMetrics } from './metrics.js';
import { observe } from './observe.js';
import { now, type Rollout } from './rollout.js';

/*
 * What each kind of step does, for `progressiveRollout`: set exposure (or a shadow share) and observe, wait for an
 * approval, pause; and the changes around them (the compensation stack, a full promotion, the final bake).
 */
/** Before the first exposure change: what rollback must undo, the hooks last and the exposure first. */
export function pushCompensations(r: Rollout): void {
  const { spec, state } = r;
  if (state.compensations.some((c) => c.kind === 'exposure')) return;
  spec.rollback.compensations.forEach((c, index) =>
    state.compensations.push({ kind: 'custom', index, name: compensationName(c) }),
  );
  state.compensations.push({ kind: 'exposure', restore: { percent: spec.rollback.exposure } });
}

/** The spec's last exposure step (where a completed run leaves the target). */
export function lastExposureStep(
  spec: ResolvedSpec,
): Extract<ReturnType<typeof kindOf>, { kind: 'exposure' }> | undefined {
  const last = [...spec.steps]
    .reverse()
    .map(kindOf)
    .find((k) => k.kind === 'exposure');
  return last?.kind === 'exposure' ? last : undefined;
}

/**
 * `promote --full` (version 6): every remaining step and window is skipped, the last exposure step's exposure is set
 * at once, and the rollout completes (no final bake). Its validator refused it while an approval lay ahead.
 */
export async function runFullPromotion(r: Rollout): Promise<void> {
  const { spec, state } = r;
  const last = lastExposureStep(spec);
  const skipped = `steps ${state.step + 1}–${spec.steps.length} skipped`;
  // a shadow in force (a promotion during a shadow step) is ended by the same change
  if (last && (state.exposure.percent !== last.step.exposure || last.step.cohort || state.exposure.shadow)) {
    const exposure: Exposure = {
      percent: last.step.exposure,
      ...(last.step.cohort ? { cohort: last.step.cohort } : {}),
    };
    r.enter(
      'Progressing',
      `full promotion: set exposure to ${last.step.exposure}% (${skipped})`,
      state.promoteFull?.actor,
    );
    pushCompensations(r);
    const reading = await forwardActivities.applyExposure.executeWithOptions(
      { summary: `set ${spec.target.flag} to ${last.step.exposure}% (full promotion)` },
      [{ target: spec.target, exposure, idempotencyKey: `${state.rolloutRunId}:promote-full:apply` }],
    );
    state.exposure = exposureOf(reading);
    rolloutMetrics.exposureChange();
    r.background?.start();
  }
  if (!r.rollingBack) state.step = spec.steps.length;
}

export async function runExposureStep(r: Rollout, step: ExposureStep): Promise<void> {
  const { spec, state } = r;
  const exposure: Exposure = { percent: step.exposure, ...(step.cohort ? { cohort: step.cohort } : {}) };
  r.enter('Progressing', `step ${state.step + 1}: set exposure to ${step.exposure}%`);
  // pushed before the first change, so rollback undoes the hooks last and the exposure first
  pushCompensations(r);
  const reading = await forwardActivities.applyExposure.executeWithOptions(
    { summary: `set ${spec.target.flag} to ${step.exposure}%` },
    [{ target: spec.target, exposure, idempotencyKey: `${state.rolloutRunId}:step-${state.step}:apply` }],
  );
  state.exposure = exposureOf(reading);
  rolloutMetrics.exposureChange();
  r.background?.start();
  if (r.rollingBack || !step.observe) return;
  const ms = toMs(step.observe);
  // the window's end is set before Observing is published, so the publication sees it
  state.windowEndsAt = new Date(Date.now() + ms).toISOString();
  r.enter('Observing', `step ${state.step + 1}: observe ${step.observe} at ${step.exposure}%`);
  await observe(r, { observe: step.observe, exposure: step.exposure }, ms);
  state.windowEndsAt = undefined;
}

/**
 * A shadow step (version 8): live exposure stays as it is, and `shadow` % of traffic also runs the new variant,
 * unserved, for the guards to compare with the live path. The next exposure change (or a rollback) ends it.
 */
export async function runShadowStep(r: Rollout, step: ShadowStep): Promise<void> {
  const { spec, state } = r;
  const live = state.exposure;
  const exposure: Exposure = { ...live, shadow: step.shadow };
  r.enter('Progressing', `step ${state.step + 1}: shadow ${step.shadow}% at ${live.percent}% live`);
  pushCompensations(r);
  const reading = await forwardActivities.applyExposure.executeWithOptions(
    { summary: `shadow ${spec.target.flag} for ${step.shadow}% (not served)` },
    [{ target: spec.target, exposure, idempotencyKey: `${state.rolloutRunId}:step-${state.step}:apply` }],
  );
  state.exposure = exposureOf(reading);
  rolloutMetrics.exposureChange();
  r.background?.start();
  if (r.rollingBack || !step.observe) return;
  const ms = toMs(step.observe);
  state.windowEndsAt = new Date(Date.now() + ms).toISOString();
  r.enter('Observing', `step ${state.step + 1}: observe ${step.observe} in shadow at ${step.shadow}%`);
  await observe(r, { observe: step.observe, exposure: live.percent }, ms);
  state.windowEndsAt = undefined;
}

/** The exposure each exposure step sets, for the preflight to put to the target. */
export function stepExposures(spec: ResolvedSpec): { step: number; exposure: Exposure }[] {
  return spec.steps.flatMap((s, step) =>
    'exposure' in s ? [{ step, exposure: { percent: s.exposure, ...(s.cohort ? { cohort: s.cohort } : {}) } }] : [],
  );
}

/** What a target read back, as the state keeps it (no idempotency key). */
export function exposureOf(reading: ExposureReading): Exposure {
  return {
    percent: reading.percent,
    ...(reading.cohort ? { cohort: reading.cohort } : {}),
    ...(reading.shadow ? { shadow: reading.shadow } : {}),
  };
}

/** After the last step: one more window at the final exposure, judged like any other (version 5). */
export async function runFinalBake(r: Rollout, bake: string): Promise<void> {
  const { state } = r;
  state.promoteRequested = false;
  const ms = toMs(bake);
  state.windowEndsAt = new Date(Date.now() + ms).toISOString();
  r.enter('Observing', `final bake: observe ${bake} at ${state.exposure.percent}%`);
  await observe(r, { observe: bake, exposure: state.exposure.percent }, ms);
  state.windowEndsAt = undefined;
  if (r.heldByPause) await condition(() => !r.heldByPause);
}

export async function runApprovalStep(r: Rollout, step: ApprovalStep): Promise<void> {
  const { state } = r;
  const approved = () => state.approvals.some((a) => a.step === state.step);
  if (approved()) return;
  r.enter('AwaitingApproval', `step ${state.step + 1}: waiting for approval`);
  const timeout = step.approval.timeout;
  const done = () => approved() || r.rollingBack;
  const inTime = timeout
    ? await condition(done, toMs(timeout), { summary: `approval of step ${state.step + 1} (timeout ${timeout})` })
    : (await condition(done), true);
  if (inTime || r.rollingBack) return;
  const why = `approval of step ${state.step + 1} timed out after ${timeout}`;
  if (step.approval.onTimeout === 'rollback') {
    r.requestRollback('approval-timeout', why);
    return;
  }
  r.addPause({ kind: 'approval-timeout', reason: why, at: now() });
  await condition(done);
  r.removePauses('approval-timeout');
}

export async function runPauseStep(r: Rollout, step: PauseStep): Promise<void> {
  const { state } = r;
  const duration = pauseDuration(step);
  r.addPause({ kind: 'step', reason: duration ? `pause step for ${duration}` : 'pause step until resumed', at: now() });
  const released = () => !state.pauseReasons.some((p) => p.kind === 'step') || r.rollingBack;
  if (duration) await condition(released, toMs(duration), { summary: `pause ${duration}` });
  else await condition(released);
  r.removePauses('step');
}

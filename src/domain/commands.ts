import { z } from 'zod';
import { isTerminal, type RolloutState } from './rollout-state.js';
import { stepKind, type RolloutSpec } from './spec.js';

const Actor = z.string().trim().min(1, 'must name who is acting').max(200);

export const PauseCommand = z.object({ reason: z.string().trim().min(1, 'must say why').max(1_000), actor: Actor }).strict();
export type PauseCommand = z.infer<typeof PauseCommand>;
export const ResumeCommand = z.object({ actor: Actor }).strict();
export type ResumeCommand = z.infer<typeof ResumeCommand>;
export const PromoteCommand = z.object({ actor: Actor }).strict();
export type PromoteCommand = z.infer<typeof PromoteCommand>;
export const ApproveCommand = z
  .object({
    /** Index of the approval step, as in the spec's `steps[i]`. */
    step: z.number().int().min(0),
    actor: Actor,
    comment: z.string().max(1_000).optional(),
  })
  .strict();
export type ApproveCommand = z.infer<typeof ApproveCommand>;
export const AbortCommand = z.object({ reason: z.string().trim().min(1, 'must say why').max(1_000), actor: Actor }).strict();
export type AbortCommand = z.infer<typeof AbortCommand>;

/** A push from an alerting system: a guard is in breach now. */
export const GuardBreach = z
  .object({
    guard: z.string().min(1),
    value: z.number().optional(),
    source: z.string().optional(),
    reason: z.string().optional(),
  })
  .strict();
export type GuardBreach = z.infer<typeof GuardBreach>;

/** What an accepted operator command returns. */
export interface CommandAck {
  accepted: true;
  phase: string;
  step: number;
}

const closed = (s: RolloutState): string | undefined => {
  if (isTerminal(s.phase)) return `the rollout has ended (${s.phase})`;
  if (s.phase === 'RollingBack') return `the rollout is rolling back (${s.rollback?.reason ?? 'rollback requested'})`;
  return undefined;
};

const waitsForApproval = (s: RolloutState, spec: RolloutSpec) => {
  const step = spec.steps[s.step];
  return (
    step !== undefined &&
    stepKind(step) === 'approval' &&
    !s.approvals.some((a) => a.step === s.step) &&
    (s.phase === 'AwaitingApproval' ||
      (s.phase === 'Paused' && s.resumePhase === 'AwaitingApproval') ||
      s.pauseReasons.some((p) => p.kind === 'approval-timeout'))
  );
};

/**
 * Why a command is illegal now, or undefined when it may run. Used by the Update validators: a rejected
 * command leaves no trace in the state or the history.
 */
export function rejectPause(s: RolloutState, cmd: PauseCommand): string | undefined {
  if (closed(s)) return `cannot pause: ${closed(s)}`;
  if (s.pauseReasons.some((p) => p.kind === 'operator' && p.actor === cmd.actor && p.reason === cmd.reason)) {
    return `cannot pause: already paused by ${cmd.actor} for the same reason`;
  }
  return undefined;
}

export function rejectResume(s: RolloutState, spec: RolloutSpec, _cmd: ResumeCommand): string | undefined {
  if (closed(s)) return `cannot resume: ${closed(s)}`;
  const resumable = s.pauseReasons.filter((p) => p.kind !== 'approval-timeout');
  if (resumable.length === 0) {
    if (waitsForApproval(s, spec)) return `cannot resume: step ${s.step} waits for approval; use approve`;
    return `cannot resume: the rollout is not paused (phase ${s.phase})`;
  }
  return undefined;
}

export function rejectPromote(s: RolloutState, spec: RolloutSpec, _cmd: PromoteCommand): string | undefined {
  if (closed(s)) return `cannot promote: ${closed(s)}`;
  if (waitsForApproval(s, spec)) return `cannot promote: step ${s.step} waits for approval; use approve`;
  if (s.phase === 'Observing' || s.pauseReasons.some((p) => p.kind !== 'approval-timeout')) return undefined;
  if (s.phase === 'Progressing') return 'cannot promote: an exposure change is in flight; promote its observation window once it starts';
  return `cannot promote: nothing to end early in phase ${s.phase}`;
}

export function rejectApprove(s: RolloutState, spec: RolloutSpec, cmd: ApproveCommand): string | undefined {
  if (closed(s)) return `cannot approve: ${closed(s)}`;
  const target = spec.steps[cmd.step];
  if (target === undefined) return `cannot approve: there is no step ${cmd.step} (the spec has ${spec.steps.length} steps, 0-${spec.steps.length - 1})`;
  if (stepKind(target) !== 'approval') return `cannot approve: step ${cmd.step} is not an approval step`;
  if (s.approvals.some((a) => a.step === cmd.step)) return `cannot approve: step ${cmd.step} is already approved`;
  if (cmd.step !== s.step || !waitsForApproval(s, spec)) {
    return `cannot approve: step ${cmd.step} is not waiting for approval (the rollout is at step ${s.step}, phase ${s.phase})`;
  }
  const approvers = 'approval' in target ? target.approval.approvers : undefined;
  if (approvers && !approvers.includes(cmd.actor)) {
    return `cannot approve: ${cmd.actor} is not among the approvers of step ${cmd.step} (${approvers.join(', ')})`;
  }
  return undefined;
}

export function rejectAbort(s: RolloutState, _cmd: AbortCommand): string | undefined {
  return closed(s) ? `cannot abort: ${closed(s)}` : undefined;
}

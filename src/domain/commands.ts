import { boundedText, MAX_ACTOR, MAX_LABEL, MAX_OPERATOR_PAUSES, MAX_SOURCE, MAX_TEXT } from './bounds.js';
import type { AbortCommand, ApproveCommand, PauseCommand, PromoteCommand, ResumeCommand } from './commands.schema.js';
import type { ResolvedSpec } from './spec.schema.js';
import type { RolloutState } from './rollout-state.schema.js';
import { asApprovalStep, stepKind } from './spec.js';
import { isTerminal } from './rollout-state.js';

/*
 * The rules behind the Update validators. Zod-free, because workflow code imports this module: the shape checks
 * below repeat, for a command sent by any Temporal SDK, what the command schemas in `commands.schema.ts` check in
 * clients, bounds included (see `bounds.ts`).
 */

type FieldCheck = (value: unknown) => string | undefined;

const text =
  (max: number, min = 1): FieldCheck =>
  (v) => {
    if (typeof v !== 'string') return 'must be a string';
    if (v.trim().length < min) return 'must not be empty';
    // the untrimmed length: the text is kept as sent (clients trim before sending; padding is no way around the bound)
    if (v.length > max) return `must be at most ${max} characters`;
    return undefined;
  };
const optional =
  (check: FieldCheck): FieldCheck =>
  (v) =>
    v === undefined ? undefined : check(v);
const stepIndex: FieldCheck = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : 'must be a step index (an integer ≥ 0)';

/** The first problem with a command's shape, as `field: problem`; unknown fields are refused as in the schemas. */
function malformed(cmd: unknown, fields: Record<string, FieldCheck>): string | undefined {
  if (typeof cmd !== 'object' || cmd === null || Array.isArray(cmd)) return 'the command must be an object';
  for (const [name, check] of Object.entries(fields)) {
    const problem = check((cmd as Record<string, unknown>)[name]);
    if (problem) return `${name}: ${problem}`;
  }
  const unknown = Object.keys(cmd).filter((k) => !(k in fields));
  return unknown.length ? `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : undefined;
}

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

const waitsForApproval = (s: RolloutState, spec: ResolvedSpec) => {
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
  const bad = malformed(cmd, { actor: text(MAX_ACTOR), reason: text(MAX_TEXT) });
  if (bad) return `cannot pause: ${bad}`;
  if (closed(s)) return `cannot pause: ${closed(s)}`;
  if (s.pauseReasons.filter((p) => p.kind === 'operator').length >= MAX_OPERATOR_PAUSES) {
    return `cannot pause: already paused by operators for ${MAX_OPERATOR_PAUSES} reasons; resume first`;
  }
  if (s.pauseReasons.some((p) => p.kind === 'operator' && p.actor === cmd.actor && p.reason === cmd.reason)) {
    return `cannot pause: already paused by ${cmd.actor} for the same reason`;
  }
  return undefined;
}

export function rejectResume(s: RolloutState, spec: ResolvedSpec, cmd: ResumeCommand): string | undefined {
  const bad = malformed(cmd, { actor: text(MAX_ACTOR) });
  if (bad) return `cannot resume: ${bad}`;
  if (closed(s)) return `cannot resume: ${closed(s)}`;
  const resumable = s.pauseReasons.filter((p) => p.kind !== 'approval-timeout');
  if (resumable.length === 0) {
    if (waitsForApproval(s, spec)) return `cannot resume: step ${s.step + 1} waits for approval; use approve`;
    return `cannot resume: the rollout is not paused (phase ${s.phase})`;
  }
  return undefined;
}

const flag: FieldCheck = (v) => (v === undefined || typeof v === 'boolean' ? undefined : 'must be true or false');

export function rejectPromote(s: RolloutState, spec: ResolvedSpec, cmd: PromoteCommand): string | undefined {
  const bad = malformed(cmd, {
    actor: text(MAX_ACTOR),
    full: flag,
    force: flag,
    reason: optional(text(MAX_TEXT)),
  });
  if (bad) return `cannot promote: ${bad}`;
  if (closed(s)) return `cannot promote: ${closed(s)}`;
  if (waitsForApproval(s, spec)) return `cannot promote: step ${s.step + 1} waits for approval; use approve`;
  if (cmd.full === true) return rejectFullPromotion(s, spec, cmd);
  if (cmd.force === true) return 'cannot promote: force applies to a full promotion (full: true)';
  if (s.phase === 'Observing' || s.pauseReasons.some((p) => p.kind !== 'approval-timeout')) return undefined;
  if (s.phase === 'Progressing')
    return 'cannot promote: an exposure change is in flight; promote its observation window once it starts';
  return `cannot promote: nothing to end early in phase ${s.phase}`;
}

/**
 * Why the rollout cannot skip to its last step now: it already is going there; an approval step lies ahead that
 * nobody approved (a required sign-off, perhaps the target's policy, is never skipped); or a guard is failing and the
 * command does not force it with a reason.
 */
function rejectFullPromotion(s: RolloutState, spec: ResolvedSpec, cmd: PromoteCommand): string | undefined {
  if (s.promoteFull) return 'cannot promote: a full promotion is already under way';
  for (let i = s.step; i < spec.steps.length; i++) {
    const step = spec.steps[i]!;
    if (stepKind(step) === 'approval' && !s.approvals.some((a) => a.step === i))
      return `cannot promote to full: step ${i + 1} is an approval nobody has given yet; approve it when it waits, or promote step by step`;
  }
  if (cmd.force === true) return cmd.reason?.trim() ? undefined : 'cannot promote: force needs a reason';
  const failing = s.guards.filter((g) => g.verdict === 'Failed' && g.dryRun !== true);
  if (failing.length > 0)
    return `cannot promote to full: guard ${failing.map((g) => g.name).join(', ')} is failing; add force with a reason to promote anyway`;
  return undefined;
}

export function rejectApprove(s: RolloutState, spec: ResolvedSpec, cmd: ApproveCommand): string | undefined {
  const bad = malformed(cmd, {
    step: stepIndex,
    actor: text(MAX_ACTOR),
    comment: optional(text(MAX_TEXT, 0)),
  });
  if (bad) return `cannot approve: ${bad}`;
  if (closed(s)) return `cannot approve: ${closed(s)}`;
  const target = spec.steps[cmd.step];
  if (target === undefined)
    return `cannot approve: there is no step ${cmd.step + 1} (the spec has ${spec.steps.length} steps, 1-${spec.steps.length})`;
  const approval = asApprovalStep(target);
  if (!approval) return `cannot approve: step ${cmd.step + 1} is not an approval step`;
  if (s.approvals.some((a) => a.step === cmd.step)) return `cannot approve: step ${cmd.step + 1} is already approved`;
  if (cmd.step !== s.step || !waitsForApproval(s, spec)) {
    return `cannot approve: step ${cmd.step + 1} is not waiting for approval (the rollout is at step ${s.step + 1}, phase ${s.phase})`;
  }
  const approvers = approval.approval.approvers;
  if (approvers && !approvers.includes(cmd.actor)) {
    return `cannot approve: ${cmd.actor} is not an approver of step ${cmd.step + 1}`;
  }
  return undefined;
}

export function rejectAbort(s: RolloutState, cmd: AbortCommand): string | undefined {
  const bad = malformed(cmd, { actor: text(MAX_ACTOR), reason: text(MAX_TEXT) });
  if (bad) return `cannot abort: ${bad}`;
  return closed(s) ? `cannot abort: ${closed(s)}` : undefined;
}

/** A pushed breach as a rollout keeps it: every field bounded, whatever shape the signal had. */
export interface BoundedBreach {
  /** The guard as shown: its name, truncated, or what was sent in its place (`undefined`, `(object)`). */
  guard: string;
  /** The name to look the guard up by: set only when the signal named one a spec could hold. */
  name?: string;
  /** Only a finite number; anything else is dropped. */
  value?: number;
  source?: string;
  reason?: string;
}

/**
 * A `guardBreach` signal's payload, bounded before it enters state. Any Temporal SDK can signal a rollout with
 * anything (not an object, fields of the wrong type, megabytes of text), and a signal handler must not throw:
 * what is missing stays missing, what is wrongly typed is described, what is too long is truncated.
 */
export function boundBreach(raw: unknown): BoundedBreach {
  const b = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const { guard, value, source, reason } = b;
  return {
    guard: boundedText(guard, MAX_LABEL),
    ...(typeof guard === 'string' && guard.length <= MAX_LABEL ? { name: guard } : {}),
    ...(typeof value === 'number' && Number.isFinite(value) ? { value } : {}),
    ...(source ? { source: boundedText(source, MAX_SOURCE) } : {}),
    ...(reason !== undefined && reason !== null ? { reason: boundedText(reason, MAX_TEXT) } : {}),
  };
}

/** An undo request as the workflow keeps it: any SDK may start a run with one, so each field is bounded here. */
export function boundUndo(raw: unknown): { of: string; actor: string; reason: string } {
  const u = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  return {
    of: boundedText(u.of, MAX_LABEL),
    actor: boundedText(u.actor, MAX_ACTOR),
    reason: boundedText(u.reason, MAX_TEXT),
  };
}

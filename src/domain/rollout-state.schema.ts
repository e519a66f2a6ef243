import { z } from 'zod';
import { GuardTally, MeasurementRecord, Verdict } from './tally.schema.js';
import { Exposure } from './exposure.schema.js';

/**
 * Where a rollout is. Terminal phases: Completed, RolledBack, Aborted, and Failed: the preflight found the rollout
 * cannot run (its target or a guard's source does not answer), and nothing was changed.
 */
export const Phase = z.enum([
  'Pending',
  'Progressing',
  'Observing',
  'AwaitingApproval',
  'Paused',
  'RollingBack',
  'Completed',
  'RolledBack',
  'Aborted',
  'Failed',
]);
export type Phase = z.infer<typeof Phase>;

/** Why the rollout holds. Pauses are a list: an operator pause and a pause step can overlap. */
export const PauseReason = z.object({
  kind: z.enum(['operator', 'step', 'approval-timeout', 'guard']),
  reason: z.string(),
  actor: z.string().optional(),
  at: z.string(),
});
export type PauseReason = z.infer<typeof PauseReason>;

export const Approval = z.object({
  step: z.number().int(),
  actor: z.string(),
  at: z.string(),
  comment: z.string().optional(),
});
export type Approval = z.infer<typeof Approval>;

/** One decision: a phase change with its cause. */
export const TimelineEntry = z.object({
  at: z.string(),
  phase: Phase,
  step: z.number().int(),
  exposure: z.number(),
  cause: z.string(),
  actor: z.string().optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** What rollback must undo, pushed as changes are made and popped in reverse. */
export const CompensationEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exposure'), restore: Exposure }),
  z.object({ kind: z.literal('custom'), index: z.number().int(), name: z.string() }),
]);
export type CompensationEntry = z.infer<typeof CompensationEntry>;

export const RollbackTrigger = z.enum(['abort', 'guard', 'approval-timeout', 'cancel', 'error', 'undo']);
export type RollbackTrigger = z.infer<typeof RollbackTrigger>;

export const RollbackState = z.object({
  trigger: RollbackTrigger,
  reason: z.string(),
  actor: z.string().optional(),
  requestedAt: z.string(),
  /** Failed attempts so far, over all compensations. */
  failedAttempts: z.number().int(),
  /** True while a compensation is failing and being retried with backoff. */
  retrying: z.boolean(),
  retryingWhat: z.string().optional(),
  lastError: z.string().optional(),
  nextRetryAt: z.string().optional(),
  done: z.array(z.string()),
  finishedAt: z.string().optional(),
});
export type RollbackState = z.infer<typeof RollbackState>;

/** The latest known state of one guard, as shown in status: its last measurement and window counts. */
export const GuardStatus = z.object({
  name: z.string(),
  verdict: Verdict,
  value: z.number().nullable(),
  threshold: z.string(),
  at: z.string(),
  detail: z.string().optional(),
  sampleSize: z.number().optional(),
  pValue: z.number().optional(),
  interval: z.tuple([z.number(), z.number()]).optional(),
  cohort: z.string().optional(),
  checks: z.number().int().optional(),
  failed: z.number().int().optional(),
  /** Failures counted against `failureLimit` so far (all windows under `budget: rollout`, and pushed breaches). */
  failures: z.number().int().optional(),
  failureLimit: z.number().int().optional(),
  unit: z.string().optional(),
  dryRun: z.boolean().optional(),
  /** `rollout` for a guard that watches the whole rollout in the background. */
  during: z.enum(['windows', 'rollout']).optional(),
});
export type GuardStatus = z.infer<typeof GuardStatus>;

/** A summary of one observation window with guards: routine checks are counted, not recorded one by one. */
export const WindowSummary = z.object({
  step: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string(),
  checks: z.number().int(),
  outcome: z.enum(['passed', 'failed', 'inconclusive', 'promoted', 'interrupted']),
  reason: z.string(),
});
export type WindowSummary = z.infer<typeof WindowSummary>;

/** Everything a rollout knows; JSON-plain so it can cross continue-as-new and queries. */
export const RolloutState = z.object({
  /** Run ID of the first run; idempotency keys derive from it so they survive continue-as-new. */
  rolloutRunId: z.string(),
  phase: Phase,
  /** Phase to return to when the last pause reason is cleared. */
  resumePhase: Phase.optional(),
  step: z.number().int(),
  totalSteps: z.number().int(),
  exposure: Exposure,
  pauseReasons: z.array(PauseReason),
  approvals: z.array(Approval),
  compensations: z.array(CompensationEntry),
  timeline: z.array(TimelineEntry),
  rollback: RollbackState.optional(),
  /** Set by promote: end the current window, pause step or operator pause now. */
  promoteRequested: z.boolean(),
  /** Set by promote with `full`: skip every remaining step and window to the last step's exposure. */
  promoteFull: z
    .object({ actor: z.string(), at: z.string(), forced: z.boolean(), reason: z.string().optional() })
    .optional(),
  windowEndsAt: z.string().optional(),
  guards: z.array(GuardStatus),
  /** Every measurement that changed a decision, exactly as judged. */
  measurements: z.array(MeasurementRecord),
  windows: z.array(WindowSummary),
  /** Push breaches counted per non-critical guard (they count as failed measurements). */
  breaches: z.record(z.string(), z.number().int()),
  /**
   * Failures per guard counted against its `failureLimit` across windows: pushed breaches, and the pulled failures
   * of finished windows for guards with `budget: rollout` (runs before version 5 of the workflow have none).
   */
  failures: z.record(z.string(), z.number().int()).optional(),
  /** Tallies of the guards that watch the whole rollout, as of their last finished segment. */
  background: z.array(GuardTally).optional(),
  /** Pushed breaches refused because they named no guard of the rollout. */
  refusedBreaches: z.number().int().optional(),
  /** An undo run (version 7): the completed run whose exposure it sets back to the spec's baseline. */
  undoOf: z.string().optional(),
  startedAt: z.string(),
  runs: z.number().int(),
});
export type RolloutState = z.infer<typeof RolloutState>;

import { z } from 'zod';

export const Verdict = z.enum(['Successful', 'Failed', 'Inconclusive', 'Error']);
export type Verdict = z.infer<typeof Verdict>;

/** One judged measurement of one guard, as recorded in status and the result. */
export const MeasurementRecord = z.object({
  guard: z.string(),
  at: z.string(),
  step: z.number().int(),
  check: z.number().int(),
  verdict: Verdict,
  value: z.number().nullable(),
  threshold: z.string(),
  sampleSize: z.number().optional(),
  pValue: z.number().optional(),
  interval: z.tuple([z.number(), z.number()]).optional(),
  cohort: z.string().optional(),
  /** How `value` prints (the guard's `unit`). */
  unit: z.string().optional(),
  /** Measured by a dry-run guard: recorded and shown, never acted on. */
  dryRun: z.boolean().optional(),
  detail: z.string(),
});
export type MeasurementRecord = z.infer<typeof MeasurementRecord>;

/** Running counts of one guard within one observation window or background segment (carried in heartbeats across retries). */
export const GuardTally = z.object({
  guard: z.string(),
  checks: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int(),
  inconclusive: z.number().int(),
  errors: z.number().int(),
  consecutiveErrors: z.number().int(),
  /** Inconclusive measurements after the first conclusive one (the first checks of a window lack data). */
  inconclusiveSinceConclusive: z.number().int(),
  /** Successful measurements in a row now, and the longest such run (for `consecutiveSuccessLimit`). */
  consecutiveSuccesses: z.number().int().optional(),
  bestStreak: z.number().int().optional(),
  /** Failures counted before this window (earlier windows under `budget: rollout`, and pushed breaches). */
  prior: z.number().int().optional(),
  last: MeasurementRecord.optional(),
});
export type GuardTally = z.infer<typeof GuardTally>;

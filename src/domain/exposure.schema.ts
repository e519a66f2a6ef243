import { z } from 'zod';
import { MAX_COHORT_VALUES, MAX_LABEL } from './bounds.js';

/** A segment of the population that a step exposes, e.g. `{ attribute: 'region', values: ['eu-west'] }`. */
export const Cohort = z
  .object({
    attribute: z
      .string()
      .min(1)
      .max(MAX_LABEL, `must be at most ${MAX_LABEL} characters`)
      .regex(/^[A-Za-z0-9_.$-]+$/, 'must be an attribute name ([A-Za-z0-9_.$-])'),
    values: z
      .array(z.string().min(1).max(MAX_LABEL, `must be at most ${MAX_LABEL} characters`))
      .min(1, 'must list at least one value')
      .max(MAX_COHORT_VALUES, `must list at most ${MAX_COHORT_VALUES} values`),
  })
  .strict();
export type Cohort = z.infer<typeof Cohort>;

/** Percentage of traffic that gets the rolled-out variant: 0..100, fractions allowed. */
export const Percent = z.number().min(0, 'must be ≥ 0').max(100, 'must be ≤ 100');
export type Percent = z.infer<typeof Percent>;

/**
 * The exposure a target is asked to hold. Absolute (never a delta), so applying it twice is harmless.
 * `cohort` absent means the whole population. `shadow` (a shadow step's) is the share of traffic that also runs the
 * new variant without being served it, through a companion flag the application reads; absent means none.
 */
export const Exposure = z
  .object({
    percent: Percent,
    cohort: Cohort.optional(),
    shadow: Percent.optional(),
  })
  .strict();
export type Exposure = z.infer<typeof Exposure>;

/** A change request: the exposure plus the key that makes a retried apply recognisable. */
export const ExposureChange = Exposure.extend({
  idempotencyKey: z.string().min(1),
}).strict();
export type ExposureChange = z.infer<typeof ExposureChange>;

/** What a target reports it currently serves. `lastKey` is the idempotency key of the change that set it, if known. */
export const ExposureReading = Exposure.extend({
  lastKey: z.string().optional(),
}).strict();
export type ExposureReading = z.infer<typeof ExposureReading>;

/** True when two exposures describe the same split (used to verify a change by reading it back). */
export function sameExposure(a: Exposure, b: Exposure): boolean {
  if (Math.abs(a.percent - b.percent) > 1e-9) return false;
  if (Math.abs((a.shadow ?? 0) - (b.shadow ?? 0)) > 1e-9) return false;
  if (!a.cohort || !b.cohort) return !a.cohort && !b.cohort;
  if (a.cohort.attribute !== b.cohort.attribute) return false;
  const av = [...a.cohort.values].sort();
  const bv = [...b.cohort.values].sort();
  return av.length === bv.length && av.every((v, i) => v === bv[i]);
}

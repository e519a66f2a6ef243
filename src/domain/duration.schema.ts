import { z } from 'zod';
import { MAX_DURATION_MS, MAX_DURATION_TEXT } from './bounds.js';
import { DURATION_FORM, formatMs, toMs } from './time.js';

const FORM = 'must be a duration like 30s, 5m, 1h or 2d';

/**
 * A duration in the `30s / 5m / 1h / 2d` form (parts may combine: `1h30m`; `ms` for tests), at most 90 days: a
 * longer window, pause or timeout is refused here rather than failing a running rollout at its timer.
 */
export const Duration = z
  .string()
  .max(MAX_DURATION_TEXT, { message: `${FORM} (at most ${MAX_DURATION_TEXT} characters)`, abort: true })
  .regex(DURATION_FORM, FORM)
  .refine((d) => !DURATION_FORM.test(d) || toMs(d) > 0, 'must be longer than 0')
  .refine((d) => !DURATION_FORM.test(d) || toMs(d) <= MAX_DURATION_MS, `must be at most ${formatMs(MAX_DURATION_MS)}`);
export type Duration = z.infer<typeof Duration>;

import { z } from 'zod';
import { DURATION_FORM, toMs } from './time.js';

/** A duration in the `30s / 5m / 1h / 2d` form (parts may combine: `1h30m`; `ms` for tests). */
export const Duration = z
  .string()
  .regex(DURATION_FORM, 'must be a duration like 30s, 5m, 1h or 2d')
  .refine((d) => !DURATION_FORM.test(d) || toMs(d) > 0, 'must be longer than 0');
export type Duration = z.infer<typeof Duration>;

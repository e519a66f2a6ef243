import { z } from 'zod';

const Actor = z.string().trim().min(1, 'must name who is acting').max(200);

export const PauseCommand = z
  .object({ reason: z.string().trim().min(1, 'must say why').max(1_000), actor: Actor })
  .strict();
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
export const AbortCommand = z
  .object({ reason: z.string().trim().min(1, 'must say why').max(1_000), actor: Actor })
  .strict();
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

import { z } from 'zod';
import { MAX_ACTOR, MAX_LABEL, MAX_SOURCE, MAX_TEXT } from './bounds.js';

/*
 * Operator commands and pushed breaches as clients check them. Every field is bounded: whatever is accepted enters
 * history, `status` and the result. The Update validators repeat these checks in `commands.ts` (zod-free).
 */

const Actor = z
  .string()
  .trim()
  .min(1, 'must name who is acting')
  .max(MAX_ACTOR, `must be at most ${MAX_ACTOR} characters`);
const Reason = z.string().trim().min(1, 'must say why').max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`);

export const PauseCommand = z.object({ reason: Reason, actor: Actor }).strict();
export type PauseCommand = z.infer<typeof PauseCommand>;
export const ResumeCommand = z.object({ actor: Actor }).strict();
export type ResumeCommand = z.infer<typeof ResumeCommand>;
export const PromoteCommand = z
  .object({
    actor: Actor,
    /** Skip every remaining step and window: straight to the last step's exposure, then Completed. */
    full: z.boolean().optional(),
    /** With `full`: promote although a guard is failing; needs a `reason`. */
    force: z.boolean().optional(),
    reason: Reason.optional(),
  })
  .strict()
  .refine((c) => !c.force || (c.full === true && c.reason !== undefined), {
    message: 'force needs full and a reason',
    path: ['force'],
  });
export type PromoteCommand = z.infer<typeof PromoteCommand>;
export const ApproveCommand = z
  .object({
    /** Index of the approval step, as in the spec's `steps[i]`. */
    step: z.number().int().min(0),
    actor: Actor,
    comment: z.string().max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`).optional(),
  })
  .strict();
export type ApproveCommand = z.infer<typeof ApproveCommand>;
export const AbortCommand = z.object({ reason: Reason, actor: Actor }).strict();
export type AbortCommand = z.infer<typeof AbortCommand>;

/** Undo a completed rollout: back to its spec's baseline (the client starts a new run; see `RolloutClient.undo`). */
export const UndoCommand = z.object({ reason: Reason, actor: Actor }).strict();
export type UndoCommand = z.infer<typeof UndoCommand>;

/** `POST /rollouts/{id}/retry` and `/undo`: why (the actor is the calling principal; a body may repeat it). */
export const RestartCommand = z.object({ reason: Reason, actor: Actor.optional() }).strict();

/**
 * A push from an alerting system: a guard is in breach now. The workflow also bounds what it keeps of a breach
 * (`boundBreach` in `commands.ts`), since a signal need not come through a client that checks this schema.
 */
export const GuardBreach = z
  .object({
    guard: z.string().min(1).max(MAX_LABEL, `must be at most ${MAX_LABEL} characters (a guard name)`),
    value: z.number({ error: 'must be a finite number' }).optional(),
    source: z.string().max(MAX_SOURCE, `must be at most ${MAX_SOURCE} characters`).optional(),
    reason: z.string().max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`).optional(),
  })
  .strict();
export type GuardBreach = z.infer<typeof GuardBreach>;

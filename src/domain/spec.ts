import type { ApprovalStep, Compensation, ExposureStep, PauseStep, ShadowStep, Step } from './spec.schema.js';

/*
 * Logic over a validated spec, apart from its schema: workflow code imports this module, so it stays free of zod.
 */

/** The kinds of step. */
export type StepKind = 'exposure' | 'approval' | 'pause' | 'shadow';
/** The keys that tell step kinds apart, for error messages. */
export const STEP_KEYS: readonly StepKind[] = ['exposure', 'approval', 'pause', 'shadow'];

/**
 * A step tagged with its kind. The spec's steps are told apart by their keys (users write `exposure: 5`, not a
 * `kind` field, and recorded histories carry them that way); this is the discriminated view code switches on.
 */
export type KindedStep =
  | { kind: 'exposure'; step: ExposureStep }
  | { kind: 'approval'; step: ApprovalStep }
  | { kind: 'pause'; step: PauseStep }
  | { kind: 'shadow'; step: ShadowStep };

/** The step with its kind, for an exhaustive `switch` without casts. */
export function kindOf(step: Step): KindedStep {
  if ('exposure' in step) return { kind: 'exposure', step };
  if ('approval' in step) return { kind: 'approval', step };
  if ('shadow' in step) return { kind: 'shadow', step };
  return { kind: 'pause', step };
}

/** Which kind a step is. */
export function stepKind(step: Step): StepKind {
  return kindOf(step).kind;
}

/** The step as an approval step, or undefined. */
export function asApprovalStep(step: Step | undefined): ApprovalStep | undefined {
  return step !== undefined && 'approval' in step ? step : undefined;
}

/** A pause step's duration, or undefined for a pause until resumed. */
export function pauseDuration(step: PauseStep): string | undefined {
  return typeof step.pause === 'string' ? step.pause : step.pause.duration;
}

/** A compensation hook's name as shown in status and reports: its `name`, or its method and URL. */
export function compensationName(c: Compensation): string {
  return c.name ?? `${c.http.method} ${c.http.url}`;
}

import type { Step } from './spec.schema.js';

/** The three kinds of step. Zod-free: workflow code imports this module. */
export type StepKind = 'exposure' | 'approval' | 'pause';
/** The keys that tell step kinds apart, for error messages. */
export const STEP_KEYS: readonly StepKind[] = ['exposure', 'approval', 'pause'];

/** Which kind a step is. */
export function stepKind(step: Step): StepKind {
  if ('exposure' in step) return 'exposure';
  if ('approval' in step) return 'approval';
  return 'pause';
}

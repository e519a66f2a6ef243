/**
 * The overhead baseline: the smallest workflow that runs the same activities and timers as a guard-less rollout
 * (per step one activity, then one timer for the window), with none of the rollout's validation, state, search
 * attributes, handlers or details. Deterministic like any workflow: no I/O, no Node built-ins.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities.js';

/** The same activity options as the rollout's forward path (`workflows/effects.ts`). */
const { baselineStep } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

export interface BaselineInput {
  steps: number;
  windowMs: number;
}

export const BASELINE_WORKFLOW_TYPE = 'baselineRollout';

/** `steps` × (empty activity, then a `windowMs` timer); returns the number of steps run. */
export async function baselineRollout(input: BaselineInput): Promise<number> {
  for (let step = 0; step < input.steps; step++) {
    await baselineStep({ step });
    await sleep(input.windowMs);
  }
  return input.steps;
}

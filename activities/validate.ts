import { ApplicationFailure } from '@temporalio/common';
import { checkDrill, type DrillSpec } from '../src/domain/drill.schema.js';
import type { RolloutSpec } from '../src/domain/spec.schema.js';
import { describeIssues } from '../src/domain/validation.js';
import { validateSpec } from '../src/spec/load.js';

/*
 * Spec checks for workflows started by any Temporal SDK, run as local activities: the schemas (zod) stay out of
 * the workflow bundle, whose modules are evaluated again for every workflow run.
 */

/** The spec with its defaults, or a non-retryable `InvalidSpec` failure listing each issue by path. */
export function checkRolloutSpec(spec: unknown): RolloutSpec {
  const result = validateSpec(spec);
  if (result.ok) return result.spec;
  throw ApplicationFailure.nonRetryable(`invalid rollout spec:\n${describeIssues(result.issues)}`, 'InvalidSpec');
}

/** A drill spec with its defaults and the rollout it runs, or a non-retryable `InvalidDrillSpec` failure. */
export function checkDrillSpec(drill: unknown): { drill: DrillSpec; spec: RolloutSpec } {
  const checked = checkDrill(drill);
  if (!checked.ok)
    throw ApplicationFailure.nonRetryable(`invalid drill spec:\n${describeIssues(checked.issues)}`, 'InvalidDrillSpec');
  return { drill: checked.drill, spec: checked.spec };
}

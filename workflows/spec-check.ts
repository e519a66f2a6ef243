import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import type { PreparedDrill } from '../src/domain/drill.schema.js';
import type { ResolvedSpec } from '../src/domain/spec.schema.js';
import { checkActivities as checks } from './activities.js';
import { ROLLOUT_V2_PATCH } from './patches.js';

/**
 * The spec resolved against the worker's catalog, defaults filled in; an invalid one fails the workflow with
 * `InvalidSpec` and each issue by path. `firstRun`: a continue-as-new is the same rollout (no allowed-hours check).
 */
export async function acceptRolloutSpec(spec: unknown, firstRun: boolean): Promise<ResolvedSpec> {
  if (!patched(ROLLOUT_V2_PATCH)) {
    const legacy = await import(/* webpackMode: "eager" */ './legacy-spec-check.js');
    return legacy.checkSpecInWorkflow(spec);
  }
  return rethrowRejection(() => checks.validateRolloutSpec(spec, firstRun));
}

/** The drill with its defaults and the rollout it runs; an invalid one fails the workflow with `InvalidDrillSpec`. */
export async function acceptDrillSpec(drill: unknown): Promise<PreparedDrill> {
  if (!patched(ROLLOUT_V2_PATCH)) {
    const legacy = await import(/* webpackMode: "eager" */ './legacy-spec-check.js');
    return legacy.checkDrillInWorkflow(drill);
  }
  return rethrowRejection(() => checks.prepareDrill(drill));
}

/** The workflow fails with the check's own failure (type and message), not a wrapped activity failure. */
async function rethrowRejection<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.nonRetryable)
      throw ApplicationFailure.nonRetryable(cause.message, cause.type);
    throw err;
  }
}

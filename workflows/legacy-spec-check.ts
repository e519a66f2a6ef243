import { ApplicationFailure } from '@temporalio/workflow';
import { buildDrillRollout, DrillSpec, type PreparedDrill } from '../src/domain/drill.schema.js';
import type { ResolvedSpec } from '../src/domain/spec.schema.js';
import { ResolvedSpec as RolloutSpecSchema } from '../src/domain/spec.schema.js';
import { describeIssues, flattenIssues } from '../src/domain/validation.js';

/*
 * How workflows checked their specs before `ROLLOUT_V2_PATCH`: in workflow code, with the zod schemas. Only
 * histories recorded before that patch run this; the workflows load it lazily (`import()` in eager mode, so it
 * stays in the one bundle), and new runs never evaluate zod.
 */

export function checkSpecInWorkflow(spec: unknown): ResolvedSpec {
  const parsed = RolloutSpecSchema.safeParse(spec);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid rollout spec:\n${describeIssues(flattenIssues(parsed.error.issues))}`,
      'InvalidSpec',
    );
  }
  return parsed.data;
}

export function checkDrillInWorkflow(drill: unknown): PreparedDrill {
  const parsed = DrillSpec.safeParse(drill);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(`invalid drill spec: ${parsed.error.message}`, 'InvalidDrillSpec');
  const built = buildDrillRollout(parsed.data);
  if (!built.ok)
    throw ApplicationFailure.nonRetryable(
      `invalid drill spec:\n${built.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`,
      'InvalidDrillSpec',
    );
  // drills recorded before the catalog wrote every part inline: the built rollout is already in its resolved shape
  const spec = checkSpecInWorkflow(built.spec);
  return { drill: { ...parsed.data, notify: parsed.data.notify as PreparedDrill['drill']['notify'] }, spec };
}

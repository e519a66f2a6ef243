import { ApplicationFailure } from '@temporalio/common';
import type { Catalog } from '../src/domain/catalog.schema.js';
import { buildDrillRollout, DrillSpec, type PreparedDrill } from '../src/domain/drill.schema.js';
import { resolveNotifiers } from '../src/domain/resolve.js';
import type { ResolvedSpec } from '../src/domain/spec.schema.js';
import { describeIssues, flattenIssues, type ValidationIssue } from '../src/domain/validation.js';
import { checkSpec } from '../src/spec/check.js';
import { TargetError, type ExposureTarget } from './targets/index.js';

/*
 * The workflow's spec check, run as a local activity for workflows started by any Temporal SDK: the same check the
 * edge runs (`checkSpec`: schema, catalog, policy), then the target's own check. Zod stays out of the workflow
 * bundle, whose modules are evaluated again for every workflow run.
 */

export interface CheckContext {
  catalog: Catalog;
  /** The target a resolved spec names, for its own check before anything is written. */
  targetOf: (spec: ResolvedSpec['target']) => ExposureTarget;
}

const invalid = (what: string, type: string, issues: readonly ValidationIssue[]) =>
  ApplicationFailure.nonRetryable(`invalid ${what}:\n${describeIssues(issues)}`, type);

/**
 * The spec resolved against the catalog, or a non-retryable failure of `type` listing each issue by path. On a first
 * run, a target that refuses the spec (an existing flag without the variant) is an issue at `target`; an unreachable
 * one is left to the preflight.
 */
async function resolveChecked(
  input: unknown,
  ctx: CheckContext,
  run: { firstRun: boolean; what: string; type: string; prefix?: string },
): Promise<ResolvedSpec> {
  const under = (issues: readonly ValidationIssue[]) =>
    run.prefix === undefined ? issues : issues.map((i) => ({ ...i, path: `${run.prefix}.${i.path}` }));
  const checked = checkSpec(input, ctx.catalog, run.firstRun ? { startingAt: new Date() } : {});
  if (!checked.ok) throw invalid(run.what, run.type, under(checked.issues));
  // A continued run (or an undo) is a rollout already under way: its target was checked when it started, and a
  // refusal now (a token revoked, a strategy someone added by hand) would end it with exposure where it stands and
  // nothing rolling it back. Its next apply fails and retries, or rolls back, instead.
  if (!run.firstRun) return checked.spec;
  try {
    await ctx.targetOf(checked.spec.target).check?.();
  } catch (err) {
    if (err instanceof TargetError && (err.code === 'CONFIG' || err.code === 'REFUSED'))
      throw invalid(run.what, run.type, under([{ path: 'target', message: err.message }]));
    // a target that cannot be reached now (a missing directory, a service down) is not a spec problem: the
    // workflow's preflight reports it and ends the rollout Failed, rather than this check retrying forever
  }
  return checked.spec;
}

/** A rollout spec, checked and resolved; a first run also checks the policy's allowed hours. */
export function validateRolloutSpec(input: unknown, ctx: CheckContext, firstRun = true): Promise<ResolvedSpec> {
  return resolveChecked(input, ctx, { firstRun, what: 'rollout spec', type: 'InvalidSpec' });
}

/** A drill spec with its defaults and the rollout it runs, resolved; or a non-retryable `InvalidDrillSpec` failure. */
export async function prepareDrill(input: unknown, ctx: CheckContext): Promise<PreparedDrill> {
  const parsed = DrillSpec.safeParse(input);
  if (!parsed.success) throw invalid('drill spec', 'InvalidDrillSpec', flattenIssues(parsed.error.issues));
  const built = buildDrillRollout(parsed.data);
  if (!built.ok) throw invalid('drill spec', 'InvalidDrillSpec', built.issues);
  const spec = await resolveChecked(built.spec, ctx, {
    firstRun: true,
    what: 'drill spec',
    type: 'InvalidDrillSpec',
    prefix: 'rollout',
  });
  const notify = resolveNotifiers(parsed.data.notify, ctx.catalog, 'notify');
  if (!notify.ok) throw invalid('drill spec', 'InvalidDrillSpec', notify.issues);
  return { drill: { ...parsed.data, notify: notify.notifiers }, spec, request: built.spec };
}

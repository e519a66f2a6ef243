import type { GuardSpec } from '../src/domain/guard-spec.schema.js';
import { isCompareGuard, isMeasured, isWebhookGuard, type MeasuredGuard } from '../src/domain/guard-spec.schema.js';
import type { Exposure } from '../src/domain/exposure.schema.js';
import type { TargetSpec } from '../src/domain/target-spec.schema.js';
import { toMs } from '../src/domain/time.js';
import { expandQuery } from './guards/evaluate-guard.js';
import type { MetricSource } from './sources/index.js';
import type { ExposureTarget } from './targets/index.js';

/** What a rollout must prove before its first exposure change. */
export interface PreflightInput {
  target: TargetSpec;
  /** The exposure the target should serve now (`rollback.exposure`). */
  baseline: number;
  guards: GuardSpec[];
  /** True when the spec has a shadow step: the target must support shadow exposure. */
  shadow?: boolean;
  /** Every exposure the spec's steps set, in order: each must be one the target can hold. */
  exposures?: { step: number; exposure: Exposure }[];
}

/**
 * The preflight's findings: `problems` stop the rollout before anything changes (it ends `Failed`); `notes` are
 * facts worth recording, such as a target that does not serve its baseline now.
 */
export interface PreflightReport {
  problems: string[];
  notes: string[];
}

/** The first query a guard runs: its threshold query, or its canary's query (or error count). */
function firstQuery(guard: MeasuredGuard): string | undefined {
  if (isWebhookGuard(guard)) return undefined;
  if (!isCompareGuard(guard)) return guard.query;
  return guard.compare.canary.query ?? guard.compare.canary.errors;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Proves, writing nothing, that a rollout can run: the target can be read and passes its own check (an existing
 * flag defines both variants, its file can be written), and every guard's source answers one query (no data is
 * fine, an error is not). Scripted synthetic sources need no proof. Never throws: each problem is one line.
 */
export async function preflight(
  input: PreflightInput,
  deps: { targetOf: (t: TargetSpec) => ExposureTarget; sourceOf: (g: MeasuredGuard) => MetricSource },
): Promise<PreflightReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const target = deps.targetOf(input.target);
  try {
    const reading = await target.read();
    if (reading.percent !== input.baseline || reading.cohort)
      notes.push(
        `target ${target.describe} serves ${reading.percent} %${reading.cohort ? ' of a cohort' : ''} now (baseline ${input.baseline} %)`,
      );
  } catch (err) {
    problems.push(`target ${target.describe} cannot be read: ${messageOf(err)}`);
  }
  if (input.shadow && !target.shadow)
    problems.push(`target ${target.describe} has no shadow exposure: remove the shadow step or use a target with one`);
  for (const { step, exposure } of input.exposures ?? []) {
    const why = target.refuses?.(exposure);
    if (why !== undefined) {
      problems.push(`step ${step + 1}: ${why}`);
      break;
    }
  }
  for (const prove of [target.check, target.writable]) {
    try {
      await prove?.call(target);
    } catch (err) {
      problems.push(`target ${target.describe}: ${messageOf(err)}`);
    }
  }
  const now = Date.now();
  await Promise.all(
    input.guards.filter(isMeasured).map(async (guard) => {
      const query = firstQuery(guard);
      if (guard.source.type === 'synthetic' || query === undefined) return;
      const source = deps.sourceOf(guard);
      const ctx = { check: 0, nowMs: now, windowStartMs: now - toMs(guard.interval) };
      try {
        await source.instant(expandQuery(query, guard, ctx), { check: 0, atMs: now });
      } catch (err) {
        problems.push(`guard ${guard.name}: ${messageOf(err)}`);
      }
    }),
  );
  return { problems, notes };
}

import { z } from 'zod';
import type { LaunchDarklyTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError } from '../port.js';

/**
 * LaunchDarkly rollout weights are thousandths of a percent and total 100,000 (0.001 % is the finest step, the same
 * resolution as the SDKs' 100,000 buckets).
 */
export const WEIGHT_TOTAL = 100_000;
const WEIGHTS_PER_PERCENT = WEIGHT_TOTAL / 100;

const Index = z.number().int().nonnegative();
const Rollout = z.object({
  variations: z.array(z.object({ variation: Index, weight: z.number().int().nonnegative() })),
  bucketBy: z.string().optional(),
  contextKind: z.string().optional(),
});
/** One environment's targeting, as `GET /api/v2/flags/{project}/{flag}?env=…` returns it (only what we read). */
const EnvironmentConfig = z.object({
  on: z.boolean(),
  offVariation: Index.optional(),
  fallthrough: z.object({ variation: Index.optional(), rollout: Rollout.optional() }).optional(),
});
export type EnvironmentConfig = z.infer<typeof EnvironmentConfig>;

/**
 * The parts of LaunchDarkly's feature flag representation this target reads; other fields are ignored, and so are
 * environments other than the target's (see {@link environmentOf}).
 */
export const LaunchDarklyFlag = z.object({
  key: z.string(),
  variations: z.array(z.object({ _id: z.string(), value: z.unknown(), name: z.string().optional() })),
  environments: z.record(z.string(), z.unknown()).optional(),
});
export type LaunchDarklyFlag = z.infer<typeof LaunchDarklyFlag>;

/** A variation of the flag: its position (what environments and SDKs refer to) and its ID (what patches name). */
export interface FlagVariation {
  index: number;
  id: string;
}

/**
 * The flag's variation called `name`: by its name, else by its value as text (a string, or a boolean or number as
 * written: `true`, `2`), so a boolean flag's variations are `true` and `false` unless they are named.
 */
export function findVariation(flag: LaunchDarklyFlag, name: string): FlagVariation | undefined {
  const asText = (value: unknown) =>
    typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? String(value) : undefined;
  let index = flag.variations.findIndex((v) => v.name === name);
  if (index < 0) index = flag.variations.findIndex((v) => asText(v.value) === name);
  const found = flag.variations[index];
  return found === undefined ? undefined : { index, id: found._id };
}

/** The variations the target needs, or a CONFIG error naming what is missing (not the flag's other variations). */
export function requireVariations(
  spec: LaunchDarklyTargetSpec,
  flag: LaunchDarklyFlag,
  needed: 'both' | 'baseline',
): { variant: FlagVariation | undefined; baseline: FlagVariation } {
  const variant = findVariation(flag, spec.variant);
  const baseline = findVariation(flag, spec.baselineVariant);
  const missing = [
    ...(variant === undefined && needed === 'both' ? [spec.variant] : []),
    ...(baseline === undefined ? [spec.baselineVariant] : []),
  ];
  if (missing.length > 0 || baseline === undefined) {
    throw new TargetError(
      `LaunchDarkly flag "${spec.flag}" in project "${spec.project}" has no variation named (or valued) ` +
        `${missing.map((m) => `"${m}"`).join(' or ')}; add it to the flag or fix the target (nothing was changed)`,
      'CONFIG',
      false,
    );
  }
  if (variant !== undefined && variant.index === baseline.index) {
    throw new TargetError(
      `LaunchDarkly flag "${spec.flag}": "${spec.variant}" and "${spec.baselineVariant}" are the same variation ` +
        `(#${variant.index}); name two different variations (nothing was changed)`,
      'CONFIG',
      false,
    );
  }
  return { variant, baseline };
}

/**
 * The environment's targeting: NOT_FOUND when the flag has none there (the environment key is wrong), UNPARSABLE
 * (retryable) when it lacks what this target reads.
 */
export function environmentOf(spec: LaunchDarklyTargetSpec, flag: LaunchDarklyFlag): EnvironmentConfig {
  const where = `LaunchDarkly flag "${spec.flag}" in project "${spec.project}"`;
  const raw = flag.environments?.[spec.environment];
  if (raw === undefined) throw new TargetError(`${where} has no environment "${spec.environment}"`, 'NOT_FOUND', false);
  const env = EnvironmentConfig.safeParse(raw);
  if (!env.success) {
    const problems = z.prettifyError(env.error).replace(/\s+/g, ' ');
    throw new TargetError(
      `${where}: environment "${spec.environment}" is not as documented: ${problems}`,
      'UNPARSABLE',
      true,
    );
  }
  return env.data;
}

/**
 * The rollout weight of `variant` for `percent`, or a REFUSED error when the percent is finer than 0.001 %: the
 * flag could not hold it, and the worker's read-back would never match.
 */
export function variantWeight(percent: number): number {
  const exact = percent * WEIGHTS_PER_PERCENT;
  const weight = Math.round(exact);
  if (Math.abs(exact - weight) > 1e-6) {
    throw new TargetError(
      `LaunchDarkly rollouts take percentages in steps of 0.001 %; ${percent} % is finer (nothing was changed)`,
      'REFUSED',
      false,
    );
  }
  return weight;
}

/**
 * The percentage of contexts the environment's default rule serves `variant` (undefined when the flag lacks it):
 * a flag that is off serves its off variation to everyone; an on flag serves its fallthrough, a fixed variation or
 * a percentage rollout. Individual targets and targeting rules, which the target never changes, are not counted.
 * Undefined when the fallthrough is neither (a shape this target cannot interpret).
 */
export function servedPercent(env: EnvironmentConfig, variant: FlagVariation | undefined): number | undefined {
  if (variant === undefined) return 0;
  if (!env.on) return env.offVariation === variant.index ? 100 : 0;
  const rollout = env.fallthrough?.rollout;
  if (rollout) {
    let mine = 0;
    let total = 0;
    for (const v of rollout.variations) {
      total += v.weight;
      if (v.variation === variant.index) mine += v.weight;
    }
    // mine * 100 / total (not mine / total * 100) keeps 500 / 100000 an exact 0.5.
    return total > 0 ? (mine * 100) / total : undefined;
  }
  const fixed = env.fallthrough?.variation;
  return fixed === undefined ? undefined : fixed === variant.index ? 100 : 0;
}

/**
 * True when the environment already serves `variant` at `weight` and everyone else `baseline`, so an apply has
 * nothing to change: an on flag whose default rule splits only these two (a fixed variation counts at 0 and 100 %),
 * or, for 0 %, a flag that is off and serves the baseline.
 */
export function holds(
  env: EnvironmentConfig,
  variant: FlagVariation | undefined,
  baseline: FlagVariation,
  weight: number,
): boolean {
  if (!env.on) return weight === 0 && env.offVariation === baseline.index;
  const fixed = env.fallthrough?.variation;
  const rollout = env.fallthrough?.rollout;
  if (rollout === undefined) {
    return fixed === (weight === 0 ? baseline.index : weight === WEIGHT_TOTAL ? variant?.index : undefined);
  }
  const weightOf = (v: FlagVariation | undefined) =>
    rollout.variations.filter((w) => w.variation === v?.index).reduce((sum, w) => sum + w.weight, 0);
  const total = rollout.variations.reduce((sum, w) => sum + w.weight, 0);
  return total === WEIGHT_TOTAL && weightOf(variant) === weight && weightOf(baseline) === WEIGHT_TOTAL - weight;
}

import {
  Cohort,
  Percent,
  sameExposure,
  type Exposure,
  type ExposureReading,
} from '../../../src/domain/exposure.schema.js';
import type { FlagdTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError } from '../port.js';
import { isObject, own, type FlagDefinition, type JsonObject } from './flag-file-io.js';

/**
 * flagd-core 4.0.1 `fractional`: weights must be integers, their sum must fit an int32, and a key lands in
 * bucket `(murmur3_32(flagKey + targetingKey) * totalWeight) >> 32`. A key gets the first entry iff
 * `hash < w1 / total * 2^32`, so only the ratio matters and raising it only adds keys (sticky).
 * We split 1e9 units: one unit is 1e-7 of a percentage point, finer than any rollout step, and the hash
 * (2^32 values, ~2.3e-8 points each) is the real limit, not our weights.
 */
const TOTAL_UNITS = 1_000_000_000;
const UNITS_PER_PERCENT = TOTAL_UNITS / 100;
/** flagd metadata values must be string, number or boolean, hence the cohort as a JSON string. */
export const META = { percent: 'rolloutPercent', cohort: 'rolloutCohort', lastKey: 'rolloutLastKey' } as const;

/** The targeting that serves `exposure`; the rolled-out variant is listed first so its bucket range grows in place. */
export function targetingFor(
  spec: FlagdTargetSpec,
  exposure: Exposure,
): { defaultVariant: string; targeting: JsonObject } {
  const units = toUnits(exposure.percent);
  const { variant, baselineVariant } = spec;
  if (units === 0) return { defaultVariant: baselineVariant, targeting: {} };
  if (units === TOTAL_UNITS && !exposure.cohort) return { defaultVariant: variant, targeting: {} };
  const split: unknown =
    units === TOTAL_UNITS
      ? variant
      : {
          fractional: [
            [variant, units],
            [baselineVariant, TOTAL_UNITS - units],
          ],
        };
  if (!exposure.cohort) return { defaultVariant: baselineVariant, targeting: split as JsonObject };
  const { attribute, values } = exposure.cohort;
  return {
    defaultVariant: baselineVariant,
    targeting: { if: [{ in: [{ var: attribute }, [...values]] }, split, baselineVariant] },
  };
}

function toUnits(percent: number): number {
  const units = Math.round(percent * UNITS_PER_PERCENT);
  // Never round a non-zero exposure to nobody, nor a partial one to everybody.
  if (percent > 0 && units === 0) return 1;
  if (percent < 100 && units === TOTAL_UNITS) return TOTAL_UNITS - 1;
  return units;
}

/** What the flag serves: the targeting is the truth; metadata adds the exact percent, cohort and lastKey when it agrees. */
export function readingOf(spec: FlagdTargetSpec, shown: string, flag: FlagDefinition): ExposureReading {
  const derived = deriveExposure(spec, flag);
  if (!derived) {
    throw new TargetError(
      `flag "${spec.flag}" in ${shown} has targeting this tool did not write and cannot interpret; ` +
        'apply an exposure to take it over, or fix the file',
      'UNPARSABLE',
      false,
    );
  }
  const meta = metadataReading(flag.metadata);
  const agrees =
    meta !== undefined &&
    Math.abs(meta.percent - derived.percent) <= 1 / UNITS_PER_PERCENT &&
    (derived.percent === 0 || sameExposure({ ...derived, percent: 0 }, { ...meta, percent: 0 }));
  if (!agrees) return derived;
  const { lastKey, ...exposure } = meta;
  return lastKey === undefined ? exposure : { ...exposure, lastKey };
}

function deriveExposure(spec: FlagdTargetSpec, flag: FlagDefinition): Exposure | undefined {
  // A variant the flag does not define is served to nobody, whatever the targeting names (flagd errors instead).
  if (!Object.hasOwn(flag.variants, spec.variant)) return { percent: 0 };
  const t = flag.targeting;
  if (!t || Object.keys(t).length === 0) return { percent: flag.defaultVariant === spec.variant ? 100 : 0 };
  const rule = own(t, 'if');
  if (Array.isArray(rule) && rule.length === 3 && splitPercent(spec, rule[2]) === 0) {
    const cohort = Cohort.safeParse(cohortOf(rule[0]));
    const percent = splitPercent(spec, rule[1]);
    return cohort.success && percent !== undefined ? { percent, cohort: cohort.data } : undefined;
  }
  const percent = splitPercent(spec, t);
  return percent === undefined ? undefined : { percent };
}

/** `{ in: [{ var: attribute }, values] }` → a cohort candidate. */
function cohortOf(condition: unknown): unknown {
  const args = isObject(condition) ? own(condition, 'in') : undefined;
  if (!Array.isArray(args) || args.length !== 2 || !isObject(args[0])) return undefined;
  return { attribute: own(args[0], 'var'), values: args[1] };
}

function splitPercent(spec: FlagdTargetSpec, node: unknown): number | undefined {
  if (node === spec.variant) return 100;
  if (node === spec.baselineVariant) return 0;
  const entries = isObject(node) && Object.keys(node).length === 1 ? own(node, 'fractional') : undefined;
  if (!Array.isArray(entries)) return undefined;
  let mine = 0;
  let total = 0;
  for (const entry of typeof entries[0] === 'string' ? entries.slice(1) : entries) {
    if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2) return undefined;
    const weight: unknown = entry.length === 2 ? entry[1] : 1;
    if (typeof weight !== 'number' || !Number.isInteger(weight)) return undefined;
    total += Math.max(0, weight);
    if (entry[0] === spec.variant) mine += Math.max(0, weight);
  }
  // mine * 100 / total (not mine / total * 100) keeps 5e6 / 1e9 an exact 0.5.
  return total > 0 ? (mine * 100) / total : undefined;
}

function metadataReading(metadata: FlagDefinition['metadata']): ExposureReading | undefined {
  if (!metadata) return undefined;
  const percent = Percent.safeParse(own(metadata, META.percent));
  if (!percent.success) return undefined;
  const lastKey = own(metadata, META.lastKey);
  const reading: ExposureReading =
    typeof lastKey === 'string' ? { percent: percent.data, lastKey } : { percent: percent.data };
  const rawCohort = own(metadata, META.cohort);
  if (rawCohort === undefined) return reading;
  try {
    const cohort = Cohort.safeParse(JSON.parse(String(rawCohort)));
    return cohort.success ? { ...reading, cohort: cohort.data } : undefined;
  } catch {
    return undefined;
  }
}

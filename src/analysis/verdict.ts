import type { CompareGuard } from '../domain/guard-spec.schema.js';

/**
 * The closed set of outcomes of one measurement (Argo Rollouts' analysis phases). `Error` means the measurement
 * itself was unusable (malformed input), not that the metric looked bad.
 */
export type Verdict = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

/** One judged measurement: plain JSON data, so it can cross activity and workflow boundaries. */
export interface Judgement {
  verdict: Verdict;
  /** The headline number: metric value, ratio, effect estimate. */
  value: number | null;
  /** What it was compared with, in words: "≤ 0.02", "ratio ≤ 1.2". */
  threshold: string;
  /** n used; for comparisons, the smaller of the two sides. */
  sampleSize?: number;
  pValue?: number;
  /** Confidence interval (or confidence sequence) for the effect. */
  interval?: [number, number];
  /** One sentence saying why. */
  detail: string;
}

/** Which way of the canary's metric is bad. */
export type Direction = CompareGuard['direction'];

/** What a missing measurement means. */
export type OnNoData = CompareGuard['onNoData'];

/** The options every comparison shares; a parsed {@link CompareGuard} has all of them. */
export interface CompareOptions {
  direction: Direction;
  /** Tolerated canary/baseline ratio; for 'decrease' the tolerated floor is 1/maxRatio. */
  maxRatio: number;
  /** 1 − the significance level of the test. */
  confidence: number;
  /** Fewer observations than this on either side is Inconclusive. */
  minSamples: number;
  /** Null or empty input; 'inconclusive' when absent. */
  onNoData?: OnNoData;
}

const severity: Record<Verdict, number> = { Successful: 0, Inconclusive: 1, Error: 2, Failed: 3 };

/**
 * The worst of several verdicts: Failed > Error > Inconclusive > Successful. An empty list is Inconclusive,
 * so missing data never passes.
 */
export function worst(verdicts: readonly Verdict[]): Verdict {
  let result: Verdict | undefined;
  for (const v of verdicts) if (result === undefined || severity[v] > severity[result]) result = v;
  return result ?? 'Inconclusive';
}

/** Up to 4 significant digits, without trailing noise: 0.0200 → "0.02", 1234567 → "1.235e+6". */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'NaN';
  return String(Number(x.toPrecision(4)));
}

/** "95%" for 0.95; "99.5%" for 0.995. */
export function formatConfidence(confidence: number): string {
  return `${formatNumber(confidence * 100)}%`;
}

/** The judgement for a measurement that has no usable data. */
export function noData(onNoData: OnNoData | undefined, threshold: string, detail: string): Judgement {
  return { verdict: onNoData === 'fail' ? 'Failed' : 'Inconclusive', value: null, threshold, detail };
}

/** The judgement for malformed input: the caller (or the metric source) has a bug to fix. */
export function invalid(threshold: string, detail: string): Judgement {
  return { verdict: 'Error', value: null, threshold, detail };
}

/** True when `x` is a real number (not null, NaN or ±Infinity). */
export function isFiniteNumber(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** The median of a non-empty array; does not modify it. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

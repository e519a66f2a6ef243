// Distribution drift between canary and baseline samples, for model rollouts where a prediction's distribution
// matters more than its mean: the two-sample Kolmogorov–Smirnov test (SciPy's `ks_2samp`, two-sided) and the
// population stability index. Written here because no maintained npm package gives SciPy's exact KS p-value.
import { finiteSamples } from './mann-whitney.js';
import { formatConfidence, formatNumber, median, noData, type CompareOptions, type Judgement } from './verdict.js';

/** Options of the drift tests; the defaults are documented on each field. */
export interface DriftOptions extends CompareOptions {
  /** KS: the largest tolerated distance between the two empirical CDFs; default {@link DEFAULT_MAX_DISTANCE}. */
  maxDistance?: number;
  /** PSI: the largest tolerated population stability index; default {@link DEFAULT_MAX_PSI}. */
  maxPsi?: number;
  /** PSI: number of baseline-quantile bins; default {@link DEFAULT_PSI_BINS}. */
  bins?: number;
}

/** KS distance tolerated by default: CDFs 10 percentage points apart somewhere. */
export const DEFAULT_MAX_DISTANCE = 0.1;
/** PSI tolerated by default: the usual rule of thumb reads < 0.1 as stable, 0.1–0.25 as moderate, > 0.25 as major. */
export const DEFAULT_MAX_PSI = 0.2;
/** Deciles of the baseline. */
export const DEFAULT_PSI_BINS = 10;
/** The exact KS distribution is used up to this many pairs n1·n2 (O(n1·n2) time); the Kolmogorov limit above. */
export const KS_EXACT_MAX_PAIRS = 1_000_000;

const ascending = (a: number, b: number): number => a - b;

/** sup |F_canary − F_baseline| over the pooled sample, ties handled as SciPy does (right-continuous ECDFs). */
export function ksStatistic(x: readonly number[], y: readonly number[]): number {
  const a = [...x].sort(ascending);
  const b = [...y].sort(ascending);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const v = Math.min(a[i] ?? 0, b[j] ?? 0);
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/**
 * P(D ≥ d) under H0 for continuous data, exactly: the share of the C(n1 + n2, n1) lattice paths from (0, 0) to
 * (n1, n2) that touch |i/n1 − j/n2| ≥ d, as SciPy's method='exact'. Computed as a probability (each path weight
 * i/(i + j), j/(i + j)), so nothing overflows, and as the outside share directly, so small p keep their digits.
 */
export function ksExactPValue(n1: number, n2: number, d: number): number {
  const h = Math.round(d * n1 * n2); // d is a multiple of 1/lcm(n1, n2), so d·n1·n2 is an integer
  if (h <= 0) return 1;
  const outside = (i: number, j: number) => Math.abs(i * n2 - j * n1) >= h;
  const row = new Float64Array(n2 + 1); // row[j] = P(a random path to (i, j) has been outside)
  for (let j = 0; j <= n2; j++) row[j] = outside(0, j) || (j > 0 && row[j - 1] === 1) ? 1 : 0;
  for (let i = 1; i <= n1; i++) {
    row[0] = outside(i, 0) || row[0] === 1 ? 1 : 0;
    for (let j = 1; j <= n2; j++) {
      row[j] = outside(i, j) ? 1 : (i / (i + j)) * (row[j] ?? 0) + (j / (i + j)) * (row[j - 1] ?? 0);
    }
  }
  return Math.min(1, Math.max(0, row[n2] ?? 1));
}

/** Kolmogorov's limit P(K > t) = 2 Σ (−1)^(k−1) exp(−2k²t²), SciPy's `kstwobign.sf(t)`. */
export function kolmogorovSf(t: number): number {
  if (t <= 0) return 1;
  if (t < 1) {
    // The alternating series converges slowly here; use the theta-function form of the CDF instead.
    const q = Math.exp(-(Math.PI * Math.PI) / (8 * t * t));
    let cdf = 0;
    for (let k = 1; k <= 7; k += 2) cdf += q ** (k * k);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / t) * cdf));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * t * t);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-300) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/**
 * Two-sided two-sample KS test. Exact (SciPy's method='exact') when n1·n2 ≤ {@link KS_EXACT_MAX_PAIRS}, else
 * the Kolmogorov limit at √(n1·n2/(n1 + n2))·D (SciPy's `kstwobign.sf`; its own 'asymp' mode uses the finite-n
 * one-sample distribution, which differs from the limit by O(1/√n)). Ties make the exact p conservative.
 */
export function ksTwoSample(x: readonly number[], y: readonly number[]): KsResult {
  const statistic = ksStatistic(x, y);
  const n1 = x.length;
  const n2 = y.length;
  if (n1 * n2 <= KS_EXACT_MAX_PAIRS) return { statistic, pValue: ksExactPValue(n1, n2, statistic), method: 'exact' };
  return { statistic, pValue: kolmogorovSf(Math.sqrt((n1 * n2) / (n1 + n2)) * statistic), method: 'asymptotic' };
}

/** numpy.quantile's default (linear) quantile of ascending values. */
function quantileSorted(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] ?? a;
  return a + (h - lo) * (b - a);
}

/** The smallest share a bin may have in the PSI, so that an empty bin costs a finite amount. */
export const PSI_FLOOR = 1e-4;

/**
 * Population stability index Σ (c_i − b_i)·ln(c_i / b_i) over `bins` bins cut at the baseline's quantiles
 * (numpy's linear quantiles, duplicates merged; bin i holds edge_i ≤ v < edge_(i+1)), with shares floored at
 * {@link PSI_FLOOR}.
 */
export function populationStabilityIndex(
  canary: readonly number[],
  baseline: readonly number[],
  bins = DEFAULT_PSI_BINS,
): number {
  const sorted = [...baseline].sort(ascending);
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, i) => quantileSorted(sorted, (i + 1) / bins)))].sort(
    ascending,
  );
  const shares = (values: readonly number[]): number[] => {
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of values) {
      let lo = 0;
      let hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((edges[mid] ?? 0) <= v) lo = mid + 1;
        else hi = mid;
      }
      counts[lo] = (counts[lo] ?? 0) + 1;
    }
    return counts.map((c) => Math.max(c / values.length, PSI_FLOOR));
  };
  const c = shares(canary);
  const b = shares(baseline);
  return c.reduce((sum, ci, i) => sum + (ci - (b[i] ?? 0)) * Math.log(ci / (b[i] ?? 1)), 0);
}

function prepared(
  canaryInput: readonly number[] | null,
  baselineInput: readonly number[] | null,
  options: DriftOptions,
  threshold: string,
): { canary: number[]; baseline: number[]; sampleSize: number } | Judgement {
  const canary = finiteSamples(canaryInput);
  const baseline = finiteSamples(baselineInput);
  if (canary.length === 0 || baseline.length === 0) {
    return noData(options.onNoData, threshold, `No samples (canary ${canary.length}, baseline ${baseline.length}).`);
  }
  const sampleSize = Math.min(canary.length, baseline.length);
  if (sampleSize < options.minSamples) {
    const detail = `Too few samples (canary ${canary.length}, baseline ${baseline.length}; need ${options.minSamples} each).`;
    return { verdict: 'Inconclusive', value: null, threshold, sampleSize, detail };
  }
  return { canary, baseline, sampleSize };
}

/**
 * Judges drift with the two-sided KS test: Failed when p < 1 − confidence and D > maxDistance (a significant
 * but small distance is tolerated, as maxRatio tolerates small shifts). `direction` and `maxRatio` do not apply:
 * any change of distribution is drift. No samples follow `onNoData`; fewer than `minSamples` is Inconclusive.
 */
export function judgeKs(
  canaryInput: readonly number[] | null,
  baselineInput: readonly number[] | null,
  options: DriftOptions,
): Judgement {
  const maxDistance = options.maxDistance ?? DEFAULT_MAX_DISTANCE;
  const threshold = `KS distance ≤ ${formatNumber(maxDistance)} at ${formatConfidence(options.confidence)}`;
  const input = prepared(canaryInput, baselineInput, options, threshold);
  if ('verdict' in input) return input;
  const { statistic, pValue, method } = ksTwoSample(input.canary, input.baseline);
  const significant = pValue < 1 - options.confidence;
  const stats = `D = ${formatNumber(statistic)}, p = ${formatNumber(pValue)} (${method})`;
  const base = { value: statistic, threshold, sampleSize: input.sampleSize, pValue };
  if (significant && statistic > maxDistance) {
    return { ...base, verdict: 'Failed', detail: `Canary distribution drifted from baseline: ${stats}.` };
  }
  const why = significant ? 'Significant but within the tolerated distance' : 'No significant drift';
  return { ...base, verdict: 'Successful', detail: `${why}: ${stats}.` };
}

/**
 * Judges drift with the population stability index over baseline-quantile bins: Failed when PSI > maxPsi. PSI
 * is descriptive (no p-value): choose minSamples so that each bin holds enough values (≥ 10 × bins is a start).
 */
export function judgePsi(
  canaryInput: readonly number[] | null,
  baselineInput: readonly number[] | null,
  options: DriftOptions,
): Judgement {
  const maxPsi = options.maxPsi ?? DEFAULT_MAX_PSI;
  const bins = options.bins ?? DEFAULT_PSI_BINS;
  const threshold = `PSI ≤ ${formatNumber(maxPsi)} over ${bins} baseline-quantile bins`;
  const input = prepared(canaryInput, baselineInput, options, threshold);
  if ('verdict' in input) return input;
  const psi = populationStabilityIndex(input.canary, input.baseline, bins);
  const stats = `PSI ${formatNumber(psi)} (median canary ${formatNumber(median(input.canary))}, baseline ${formatNumber(median(input.baseline))})`;
  const base = { value: psi, threshold, sampleSize: input.sampleSize };
  if (psi > maxPsi)
    return { ...base, verdict: 'Failed', detail: `Canary distribution drifted from baseline: ${stats}.` };
  return { ...base, verdict: 'Successful', detail: `Distribution stable: ${stats}.` };
}

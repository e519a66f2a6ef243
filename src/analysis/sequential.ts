// The mixture sequential probability ratio test (mSPRT) of Johari, Pekelis & Walsh, "Always valid inference:
// continuous monitoring of A/B tests" (Operations Research, 2022). Written here because no npm package has it.
// Each look recomputes the statistic from CUMULATIVE data, and Ville's inequality bounds the chance that the
// likelihood ratio EVER reaches 1/α under H0 by α, so a rollout may look after every request and its
// false-positive rate stays ≤ α. With a plug-in variance the guarantee is asymptotic (normal approximation);
// test/analysis/sequential.test.ts measures it at 2% error rates and 500 requests per look.
import { shiftTolerance } from './mann-whitney.js';
import { countsProblem, isCounts, type Counts } from './two-proportion.js';
import { formatConfidence, formatNumber, invalid, noData, type CompareOptions, type Judgement } from './verdict.js';

/** Options of the sequential test; `previous` carries the last look's always-valid p and interval. */
export interface SequentialOptions extends CompareOptions {
  /** τ², the variance of the N(0, τ²) prior mixed over the effect; see {@link defaultMixingSd}. */
  mixingVariance?: number;
  /** The previous look's judgement: p only falls and the interval only narrows from look to look. */
  previous?: Pick<Judgement, 'pValue' | 'interval'>;
}

/** The always-valid result at one look. */
export interface SequentialResult {
  /** canary − baseline (rate or mean). */
  estimate: number;
  /** The baseline's rate or mean, which scales the tolerance. */
  baseline: number;
  /** Its variance. */
  variance: number;
  mixingVariance: number;
  /** min(1, 1/Λ): reject at level α when ≤ α; valid at any stopping time. */
  pValue: number;
  /** The confidence sequence: covers the true effect at every look at once with probability ≥ confidence. */
  interval?: [number, number];
}

/**
 * τ, the prior spread of the effect: twice the tolerated shift, (maxRatio − 1) × scale with maxRatio − 1 floored
 * at 0.05. The mixture is most powerful for effects near τ, so a regression twice the tolerance is what it
 * catches fastest; smaller τ wastes power on effects the guard would tolerate anyway. `scale` is the pooled
 * error rate or the pooled |mean|: both arms share it under H0, so it leaks nothing about the difference.
 * Simulation (2% error rate, 20 looks of 500 requests) puts power within a few points of the best τ.
 */
export function defaultMixingSd(maxRatio: number, scale: number): number {
  return 2 * Math.max(maxRatio - 1, 0.05) * scale;
}

/**
 * The normal-mixture mSPRT for an asymptotically normal estimate θ̂ with variance V, testing θ = 0:
 * Λ = √(V / (V + τ²)) · exp(θ̂² τ² / (2V(V + τ²))), p = min(1, 1/Λ), and the confidence sequence
 * θ̂ ± √(V(V + τ²)/τ² · (2 ln(1/α) + ln((V + τ²)/V))). Without variance there is no evidence: p is 1.
 */
export function mixtureSprt(
  estimate: number,
  variance: number,
  mixingVariance: number,
  confidence: number,
): Pick<SequentialResult, 'pValue' | 'interval'> {
  if (!(variance > 0) || !(mixingVariance > 0) || !Number.isFinite(estimate)) return { pValue: 1 };
  const v = variance;
  const t = mixingVariance;
  const logLambda = 0.5 * Math.log(v / (v + t)) + (estimate * estimate * t) / (2 * v * (v + t));
  const half = Math.sqrt(((v * (v + t)) / t) * (2 * Math.log(1 / (1 - confidence)) + Math.log((v + t) / v)));
  return { pValue: Math.min(1, Math.exp(-logLambda)), interval: [estimate - half, estimate + half] };
}

// Results are built as literals, not spreads: the sequential simulation calls these 10⁵ times.
function result(
  estimate: number,
  baseline: number,
  variance: number,
  mixingVariance: number,
  confidence: number,
): SequentialResult {
  const { pValue, interval } = mixtureSprt(estimate, variance, mixingVariance, confidence);
  return interval
    ? { estimate, baseline, variance, mixingVariance, pValue, interval }
    : { estimate, baseline, variance, mixingVariance, pValue };
}

/**
 * mSPRT for canary error rate − baseline error rate from cumulative counts. V is the pooled (null) variance
 * p̄(1 − p̄)(1/n1 + 1/n2): the plug-in of Johari et al. evaluated under H0, which stays well-defined while one
 * arm has no errors yet. The confidence sequence uses the same V, so it is exact near 0, where decisions are made.
 */
export function sequentialProportions(
  canary: Counts,
  baseline: Counts,
  confidence: number,
  maxRatio: number,
  mixingVariance?: number,
): SequentialResult {
  const pooled = (canary.errors + baseline.errors) / (canary.total + baseline.total);
  const variance = pooled * (1 - pooled) * (1 / canary.total + 1 / baseline.total);
  const rate = baseline.errors / baseline.total;
  const tau2 = mixingVariance ?? defaultMixingSd(maxRatio, pooled) ** 2;
  return result(canary.errors / canary.total - rate, rate, variance, tau2, confidence);
}

function meanAndVariance(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return [mean, ss / (values.length - 1)];
}

/**
 * mSPRT for mean(canary) − mean(baseline) from all samples so far (at least 2 per side), with the plug-in
 * variance s1²/n1 + s2²/n2. When the pooled mean is 0, τ scales with the pooled standard deviation instead.
 */
export function sequentialMeans(
  canary: readonly number[],
  baseline: readonly number[],
  confidence: number,
  maxRatio: number,
  mixingVariance?: number,
): SequentialResult {
  const [m1, v1] = meanAndVariance(canary);
  const [m2, v2] = meanAndVariance(baseline);
  const pooledMean = Math.abs((m1 * canary.length + m2 * baseline.length) / (canary.length + baseline.length));
  const scale = pooledMean > 0 ? pooledMean : Math.sqrt((v1 + v2) / 2);
  const tau2 = mixingVariance ?? defaultMixingSd(maxRatio, scale) ** 2;
  return result(m1 - m2, m2, v1 / canary.length + v2 / baseline.length, tau2, confidence);
}

/** Carries the previous look forward: the running minimum p, and the intersection of the intervals. */
function withPrevious(
  look: SequentialResult,
  previous: SequentialOptions['previous'],
): [number, [number, number] | undefined] {
  const pValue = Math.min(look.pValue, previous?.pValue ?? 1);
  const now = look.interval;
  const before = previous?.interval;
  if (!now || !before) return [pValue, now ?? before];
  const lower = Math.max(now[0], before[0]);
  const upper = Math.min(now[1], before[1]);
  // Disjoint sequences happen with probability ≤ α; the newest one is then the better guess.
  return [pValue, lower <= upper ? [lower, upper] : now];
}

type Input = Counts | readonly number[] | null;

/** Counts or finite samples of both sides, or why the pair cannot be judged. */
function prepare(
  canary: Input,
  baseline: Input,
): { counts: [Counts, Counts] } | { samples: [number[], number[]] } | { problem: string } {
  if (isCounts(canary) || isCounts(baseline)) {
    const [c, b] = [canary ?? { errors: 0, total: 0 }, baseline ?? { errors: 0, total: 0 }];
    if (!isCounts(c) || !isCounts(b))
      return { problem: 'The sequential test needs counts on both sides or samples on both sides.' };
    const problem = countsProblem(c, b);
    return problem ? { problem } : { counts: [c, b] };
  }
  return { samples: [(canary ?? []).filter(Number.isFinite), (baseline ?? []).filter(Number.isFinite)] };
}

/**
 * Judges one look of a continuously monitored comparison: counts (error rates) or samples (means), cumulative
 * since the rollout step began. No data (total 0 or no samples) follows `onNoData`; fewer than `minSamples` (or
 * than 2 samples) on either side is Inconclusive. Failed when the always-valid p < 1 − confidence and the
 * estimated difference is beyond the tolerance in a bad direction: above (maxRatio − 1) × |baseline| for
 * 'increase', below −(1 − 1/maxRatio) × |baseline| for 'decrease' (for rates: canary above maxRatio × baseline,
 * or below baseline / maxRatio). Successful otherwise, and the caller may keep looking. `value` is the
 * difference, `interval` the confidence sequence; pass both back as `previous` to keep them monotone.
 */
export function judgeSequential(canary: Input, baseline: Input, options: SequentialOptions): Judgement {
  const input = prepare(canary, baseline);
  const { maxRatio, direction, confidence } = options;
  const bounds =
    direction === 'increase'
      ? `≤ ${formatNumber(maxRatio)}×`
      : direction === 'decrease'
        ? `≥ ${formatNumber(1 / maxRatio)}×`
        : `within [${formatNumber(1 / maxRatio)}, ${formatNumber(maxRatio)}]×`;
  const threshold = `${'samples' in input ? 'mean' : 'rate'} ${bounds} baseline, always-valid at ${formatConfidence(confidence)}`;
  if ('problem' in input) return invalid(threshold, input.problem);
  const sizes = 'counts' in input ? input.counts.map((c) => c.total) : input.samples.map((s) => s.length);
  const [n1 = 0, n2 = 0] = sizes;
  if (n1 === 0 || n2 === 0) return noData(options.onNoData, threshold, `No data (canary ${n1}, baseline ${n2}).`);
  const sampleSize = Math.min(n1, n2);
  if (sampleSize < Math.max(options.minSamples, 'samples' in input ? 2 : 1)) {
    return {
      verdict: 'Inconclusive',
      value: null,
      threshold,
      sampleSize,
      detail: `Too little data so far (canary ${n1}, baseline ${n2}).`,
    };
  }
  const look =
    'counts' in input
      ? sequentialProportions(...input.counts, confidence, maxRatio, options.mixingVariance)
      : sequentialMeans(...input.samples, confidence, maxRatio, options.mixingVariance);
  const [pValue, interval] = withPrevious(look, options.previous);
  const tolerance = shiftTolerance(look.baseline, maxRatio);
  const beyond =
    direction !== 'decrease' && look.estimate > tolerance.up
      ? 'higher'
      : direction !== 'increase' && look.estimate < -tolerance.down
        ? 'lower'
        : undefined;
  const significant = pValue < 1 - confidence;
  const stats = `difference ${formatNumber(look.estimate)}, always-valid p = ${formatNumber(pValue)}`;
  const why =
    significant && beyond
      ? `Canary is significantly ${beyond} than baseline beyond tolerance`
      : significant
        ? 'Significant but within tolerance or harmless'
        : 'No significant difference yet';
  const judgement: Judgement = {
    verdict: significant && beyond ? 'Failed' : 'Successful',
    value: look.estimate,
    threshold,
    sampleSize,
    pValue,
    detail: `${why}: ${stats}.`,
  };
  if (interval) judgement.interval = interval;
  return judgement;
}

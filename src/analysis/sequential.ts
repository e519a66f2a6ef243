// The mixture sequential probability ratio test (mSPRT) of Johari, Pekelis & Walsh, "Always valid inference:
// continuous monitoring of A/B tests" (Operations Research, 2022). Written here because no npm package has it.
// Each look recomputes the statistic from CUMULATIVE data, and Ville's inequality bounds the chance that the
// likelihood ratio EVER reaches 1/α under H0 by α, so a rollout may look after every request and its
// false-positive rate stays ≤ α. With a plug-in variance the guarantee is asymptotic (normal approximation);
// test/analysis/sequential.test.ts measures it at 2% error rates and 500 requests per look.
import { normalCdf } from './normal.js';
import { contrastFactor, tailAlpha } from './sides.js';
import { countsProblem, isCounts, rateContrast, type Counts } from './two-proportion.js';
import {
  formatConfidence,
  formatNumber,
  invalid,
  noData,
  type CompareOptions,
  type Direction,
  type Judgement,
} from './verdict.js';

/** Options of the sequential test; `previous` carries the last look's always-valid p and interval. */
export interface SequentialOptions extends CompareOptions {
  /** τ², the variance of the prior mixed over the effect, in the metric's units²; see {@link MIXING_SD}. */
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
  /** min(1, 1/Λ): reject at level α when ≤ α; valid at any stopping time. One-sided for 'increase'/'decrease'. */
  pValue: number;
  /** The confidence sequence: covers the true effect at every look at once with probability ≥ confidence. */
  interval?: [number, number];
  /** Set when the always-valid test of the tolerance boundary rejects: the canary is beyond it that way. */
  beyond?: 'higher' | 'lower';
}

/**
 * τ relative to the scale of the metric (the pooled error rate, or the pooled |mean|): τ = 0.5 × scale, a prior
 * spread whose mass sits on effects of half the baseline and up, i.e. the canary raising the metric by 50–100 %
 * (a 2× error rate is the regression that must be caught quickly). It is deliberately independent of maxRatio:
 * tying τ to the tolerance made a strict guard (maxRatio 1) use a tiny τ and lose most of its power (2% → 4%
 * errors at 250 requests per look: 26% caught over 20 looks instead of 89%). Simulated over 4 000 rollouts of
 * 20 looks × 250 requests at 2% → 4% (τ/scale 0.3, 0.5, 1, 1.5): power 95.6, 95.8, 94.3, 92.6 % at maxRatio
 * 1.2 and ≥ 99.8 % at maxRatio 1, with false rollbacks ≤ 1.7 % at equal rates.
 */
export const MIXING_SD = 0.5;

/** τ for a metric scale: {@link MIXING_SD} × scale. */
export function defaultMixingSd(scale: number): number {
  return MIXING_SD * scale;
}

/**
 * The normal-mixture mSPRT for an asymptotically normal estimate θ̂ with variance V, testing θ = 0 two-sided:
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

/**
 * ln Λ of the one-sided mixture: the likelihood ratio of θ = δ against θ = 0 mixed over a half-normal prior on
 * δ > 0 (density 2·N(0, τ²)): Λ = 2√(V/(V + τ²)) · exp(θ̂²τ²/(2V(V + τ²))) · Φ(θ̂τ/√(V(V + τ²))). Under any
 * θ ≤ 0 it is a supermartingale, so by Ville's inequality P(ever Λ ≥ 1/α) ≤ α: a one-sided always-valid test.
 */
export function oneSidedLogLambda(estimate: number, variance: number, mixingVariance: number): number {
  if (!(variance > 0) || !(mixingVariance > 0) || !Number.isFinite(estimate)) return Number.NEGATIVE_INFINITY;
  const v = variance;
  const t = mixingVariance;
  const z = (estimate * Math.sqrt(t)) / Math.sqrt(v * (v + t));
  let logPhi: number;
  if (z > -30) logPhi = Math.log(normalCdf(z));
  else logPhi = -0.5 * z * z - Math.log(-z * Math.sqrt(2 * Math.PI)); // Mills' ratio; exact to ~1e-3 here
  return Math.LN2 + 0.5 * Math.log(v / (v + t)) + (estimate * estimate * t) / (2 * v * (v + t)) + logPhi;
}

/** A contrast θ = canary − c·baseline, its plug-in variance and the scale τ is taken from. */
interface Contrast {
  estimate: number;
  variance: number;
  scale: number;
}

/** The always-valid p of "canary differs the bad way" and which tolerance boundary is rejected, if any. */
function judgeLook(
  difference: Contrast,
  boundary: (side: 'higher' | 'lower') => Contrast,
  baselineValue: number,
  direction: Direction,
  confidence: number,
  mixingVariance: number | undefined,
): SequentialResult {
  const tau2 = (c: Contrast) => mixingVariance ?? defaultMixingSd(c.scale) ** 2;
  const alpha = tailAlpha(direction, confidence);
  const threshold = Math.log(1 / alpha);
  const { estimate, variance } = difference;
  const t = tau2(difference);
  const twoSided = mixtureSprt(estimate, variance, t, confidence);
  let pValue = twoSided.pValue;
  if (direction !== 'either') {
    const sign = direction === 'increase' ? 1 : -1;
    pValue = Math.min(1, Math.exp(-oneSidedLogLambda(sign * estimate, variance, t)));
  }
  let beyond: 'higher' | 'lower' | undefined;
  if (direction !== 'decrease') {
    const c = boundary('higher');
    if (oneSidedLogLambda(c.estimate, c.variance, tau2(c)) >= threshold) beyond = 'higher';
  }
  if (!beyond && direction !== 'increase') {
    const c = boundary('lower');
    if (oneSidedLogLambda(-c.estimate, c.variance, tau2(c)) >= threshold) beyond = 'lower';
  }
  const result: SequentialResult = { estimate, baseline: baselineValue, variance, mixingVariance: t, pValue };
  if (twoSided.interval) result.interval = twoSided.interval;
  if (beyond) result.beyond = beyond;
  return result;
}

/**
 * mSPRT for canary error rate − baseline error rate from cumulative counts. The difference uses the pooled
 * (null) variance p̄(1 − p̄)(1/n1 + 1/n2), the plug-in of Johari et al. under H0, which stays well-defined while
 * one arm has no errors yet. The tolerance is tested on the contrast r1 − k·r2 (k = maxRatio, or 1/maxRatio for
 * 'lower') with the variance at that boundary ({@link rateContrast}), so a canary inside tolerance is failed in
 * at most ~α of rollouts however often it is looked at.
 */
export function sequentialProportions(
  canary: Counts,
  baseline: Counts,
  options: Pick<SequentialOptions, 'confidence' | 'maxRatio' | 'direction' | 'mixingVariance'>,
): SequentialResult {
  const pooled = (canary.errors + baseline.errors) / (canary.total + baseline.total);
  const variance = pooled * (1 - pooled) * (1 / canary.total + 1 / baseline.total);
  const rate = baseline.errors / baseline.total;
  const difference = { estimate: canary.errors / canary.total - rate, variance, scale: pooled };
  const boundary = (side: 'higher' | 'lower'): Contrast => {
    const c = rateContrast(canary, baseline, side === 'higher' ? options.maxRatio : 1 / options.maxRatio);
    return { estimate: c.estimate, variance: c.variance, scale: c.baseline };
  };
  return judgeLook(difference, boundary, rate, options.direction, options.confidence, options.mixingVariance);
}

function meanAndVariance(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return [mean, ss / (values.length - 1)];
}

/**
 * mSPRT for mean(canary) − mean(baseline) from all samples so far (at least 2 per side), with the plug-in
 * variance s1²/n1 + s2²/n2; the tolerance is tested on the contrast mean(canary) − c·mean(baseline) (c = maxRatio
 * up, 1/maxRatio down, for a positive baseline). τ scales with the pooled |mean|, or the pooled standard
 * deviation when that is 0.
 */
export function sequentialMeans(
  canary: readonly number[],
  baseline: readonly number[],
  options: Pick<SequentialOptions, 'confidence' | 'maxRatio' | 'direction' | 'mixingVariance'>,
): SequentialResult {
  const [m1, v1] = meanAndVariance(canary);
  const [m2, v2] = meanAndVariance(baseline);
  const pooledMean = Math.abs((m1 * canary.length + m2 * baseline.length) / (canary.length + baseline.length));
  const scale = pooledMean > 0 ? pooledMean : Math.sqrt((v1 + v2) / 2);
  const difference = { estimate: m1 - m2, variance: v1 / canary.length + v2 / baseline.length, scale };
  const boundary = (side: 'higher' | 'lower'): Contrast => {
    const c = contrastFactor(side, options.maxRatio, Math.sign(m2));
    return { estimate: m1 - c * m2, variance: v1 / canary.length + (c * c * v2) / baseline.length, scale };
  };
  return judgeLook(difference, boundary, m2, options.direction, options.confidence, options.mixingVariance);
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
 * than 2 samples) on either side is Inconclusive. Failed when the always-valid p < 1 − confidence (one-sided for
 * 'increase'/'decrease') and the always-valid test of the tolerance boundary rejects: the canary is above
 * maxRatio × baseline ('increase') or below baseline / maxRatio ('decrease') with confidence `confidence`, split
 * over both sides for 'either'. The tolerance is thus judged on the confidence bound, not the point estimate: a
 * canary inside tolerance is failed in at most ~α of rollouts. Successful otherwise, and the caller may keep
 * looking. `value` is the difference, `interval` its confidence sequence; pass both back as `previous` to keep
 * them monotone.
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
    'counts' in input ? sequentialProportions(...input.counts, options) : sequentialMeans(...input.samples, options);
  const [pValue, interval] = withPrevious(look, options.previous);
  const beyond = look.beyond;
  const significant = pValue < 1 - confidence;
  const stats = `difference ${formatNumber(look.estimate)}, always-valid p = ${formatNumber(pValue)}`;
  const why =
    significant && beyond
      ? `Canary is significantly ${beyond} than baseline beyond tolerance`
      : significant
        ? 'Significant but not confidently beyond tolerance, or harmless'
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

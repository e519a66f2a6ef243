import { describe, expect, it } from 'vitest';
import {
  judgeSequential,
  judgeTwoProportion,
  mixtureSprt,
  sequentialMeans,
  type Judgement,
  type SequentialOptions,
} from '../../../src/analysis/index.js';

/** mulberry32: a tiny seeded PRNG, so the simulation is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Binomial(n, p) draws by inverting a precomputed CDF: one uniform per draw instead of n. */
function binomialSampler(n: number, p: number, random: () => number): () => number {
  const cdf: number[] = [];
  let pmf = (1 - p) ** n;
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    sum += pmf;
    cdf.push(sum);
    pmf *= ((n - k) / (k + 1)) * (p / (1 - p));
  }
  return () => {
    const u = random() * sum;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const ROLLOUTS = 10_000;
const LOOKS = 20;
const PER_LOOK = 500;
const ALPHA = 0.05;
const options: SequentialOptions = { confidence: 1 - ALPHA, direction: 'increase', maxRatio: 1.2, minSamples: 1 };

type Judge = (canary: { errors: number; total: number }, baseline: { errors: number; total: number }, previous?: Judgement) => Judgement;

/** Share of rollouts failed at some look: each look judges the cumulative counts, as a rollout would. */
function failureRate(canaryRate: number, baselineRate: number, seed: number, judge: Judge): number {
  const random = mulberry32(seed);
  const canaryDraw = binomialSampler(PER_LOOK, canaryRate, random);
  const baselineDraw = binomialSampler(PER_LOOK, baselineRate, random);
  let failed = 0;
  for (let r = 0; r < ROLLOUTS; r++) {
    const canary = { errors: 0, total: 0 };
    const baseline = { errors: 0, total: 0 };
    let previous: Judgement | undefined;
    for (let look = 0; look < LOOKS; look++) {
      canary.errors += canaryDraw();
      baseline.errors += baselineDraw();
      canary.total += PER_LOOK;
      baseline.total += PER_LOOK;
      previous = judge(canary, baseline, previous);
      if (previous.verdict === 'Failed') {
        failed++;
        break;
      }
    }
  }
  return failed / ROLLOUTS;
}

const sequential: Judge = (c, b, previous) =>
  judgeSequential(c, b, { ...options, ...(previous ? { previous: { pValue: previous.pValue, interval: previous.interval } } : {}) } as SequentialOptions);

describe('mSPRT under continuous monitoring (10 000 simulated rollouts, 20 looks of 500 requests per arm)', () => {
  it('keeps the false-positive rate at or below alpha when both arms err at 2%', () => {
    const fpr = failureRate(0.02, 0.02, 1, sequential);
    console.log(`sequential FPR at alpha ${ALPHA}: ${fpr}`);
    expect(fpr).toBeLessThanOrEqual(ALPHA + 0.01);
  });

  it('catches a 20% relative regression (2% → 2.4%) in some rollouts', () => {
    const power = failureRate(0.024, 0.02, 2, sequential);
    console.log(`sequential power on 2% → 2.4%: ${power}`);
    expect(power).toBeGreaterThan(0.15);
  });

  it('is what makes peeking safe: the fixed-horizon test checked at every look fails far more healthy rollouts', () => {
    const peeking = failureRate(0.02, 0.02, 1, (c, b) => judgeTwoProportion(c, b, options));
    console.log(`fixed-horizon two-proportion test checked at all ${LOOKS} looks, FPR: ${peeking}`);
    expect(peeking).toBeGreaterThan(ALPHA);
  });
});

import { describe, expect, it } from 'vitest';
import {
  judgeSequential,
  judgeTwoProportion,
  mixtureSprt,
  type Judgement,
  type SequentialOptions,
} from '../../src/analysis/index.js';
import { mulberry32 } from '../helpers/prng.js';

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

type Judge = (
  canary: { errors: number; total: number },
  baseline: { errors: number; total: number },
  previous?: Judgement,
) => Judgement;

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

/** Each look hands the previous judgement back, as the guard loop does, so p only falls. */
const sequential: Judge = (c, b, previous) => {
  const withPrevious: SequentialOptions = { ...options };
  if (previous) withPrevious.previous = previous;
  return judgeSequential(c, b, withPrevious);
};

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

describe('mixture SPRT', () => {
  it('matches the closed form of Johari, Pekelis & Walsh', () => {
    // numpy, from Λ = sqrt(V/(V+τ²))·exp(θ²τ²/(2V(V+τ²))) and half-width sqrt(V(V+τ²)/τ²·(2 ln(1/α) + ln((V+τ²)/V)))
    // with V = 4e-6, τ² = 7.744e-5, α = 0.05
    const weak = mixtureSprt(0.004, 4e-6, 7.744e-5, 0.95);
    expect(weak.pValue).toBeCloseTo(0.6736921136928504, 12);
    expect(weak.interval?.[0]).toBeCloseTo(-0.0021547292171063877, 14);
    expect(weak.interval?.[1]).toBeCloseTo(0.010154729217106388, 14);
    const strong = mixtureSprt(0.012, 4e-6, 7.744e-5, 0.95);
    expect(strong.pValue).toBeCloseTo(1.663573818337336e-7, 16);
    expect(strong.interval?.[0]).toBeCloseTo(0.005845270782893612, 14);
  });

  it('has no evidence without variance', () => {
    expect(mixtureSprt(0, 0, 1e-4, 0.95)).toEqual({ pValue: 1 });
  });
});

describe('judgeSequential', () => {
  it('fails a tripled error rate and reports the difference with its confidence sequence', () => {
    const j = judgeSequential({ errors: 60, total: 2000 }, { errors: 20, total: 2000 }, options);
    expect(j).toMatchObject({
      verdict: 'Failed',
      sampleSize: 2000,
      threshold: 'rate ≤ 1.2× baseline, always-valid at 95%',
    });
    expect(j.value).toBeCloseTo(0.02, 12);
    expect(j.interval?.[0]).toBeGreaterThan(0);
  });

  it('keeps the smallest p seen so far and narrows the interval when given the previous look', () => {
    const previous = { pValue: 0.01, interval: [0.001, 0.05] as [number, number] };
    const j = judgeSequential({ errors: 30, total: 1000 }, { errors: 20, total: 1000 }, { ...options, previous });
    expect(j.pValue).toBe(0.01);
    expect(j.interval?.[0]).toBe(0.001);
    expect(j.verdict).toBe('Failed'); // p stays below α and 3% is beyond 1.2 × 2%
  });

  it('passes while there is no evidence, including before any error', () => {
    expect(judgeSequential({ errors: 0, total: 500 }, { errors: 0, total: 500 }, options)).toMatchObject({
      verdict: 'Successful',
      pValue: 1,
      value: 0,
    });
    expect(judgeSequential({ errors: 11, total: 500 }, { errors: 10, total: 500 }, options).verdict).toBe('Successful');
  });

  it('judges means from cumulative samples', () => {
    const baseline = Array.from({ length: 400 }, (_, i) => 100 + ((i * 37) % 101) / 10);
    const slower = baseline.map((v) => v * 1.3);
    expect(judgeSequential(slower, baseline, options)).toMatchObject({
      verdict: 'Failed',
      threshold: 'mean ≤ 1.2× baseline, always-valid at 95%',
    });
    expect(judgeSequential(baseline, baseline, options)).toMatchObject({ verdict: 'Successful', value: 0 });
    expect(judgeSequential(slower, baseline, { ...options, direction: 'decrease' }).verdict).toBe('Successful');
  });

  it('is no data without traffic, inconclusive with too little and an error on mixed inputs', () => {
    expect(
      judgeSequential({ errors: 0, total: 0 }, { errors: 0, total: 0 }, { ...options, onNoData: 'fail' }).verdict,
    ).toBe('Failed');
    expect(
      judgeSequential({ errors: 0, total: 50 }, { errors: 0, total: 500 }, { ...options, minSamples: 100 }).verdict,
    ).toBe('Inconclusive');
    expect(judgeSequential([1], [1, 2], options).verdict).toBe('Inconclusive');
    expect(judgeSequential({ errors: 1, total: 10 }, [1, 2], options).verdict).toBe('Error');
  });
});

// Seeded rollout simulations shared by the accuracy tests and bench/guard-accuracy.ts: each rollout draws a
// look's worth of data per arm, judges the cumulative data, and stops at the first Failed verdict (a rollback).
import type { Judgement } from '../../src/analysis/index.js';
import { mulberry32 } from '../helpers/prng.js';

export { mulberry32 };

/** Binomial(n, p) draws by inverting a precomputed CDF: one uniform per draw instead of n. */
export function binomialSampler(n: number, p: number, random: () => number): () => number {
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

/** A standard normal draw (Box–Muller). */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Log-normal latencies with median `median` and log-sd `sigma`. */
export function logNormalSampler(median: number, sigma: number, random: () => number): () => number {
  return () => median * Math.exp(sigma * gaussian(random));
}

export type CountJudge = (
  canary: { errors: number; total: number },
  baseline: { errors: number; total: number },
  previous?: Judgement,
) => Judgement;

export interface CountScenario {
  rollouts: number;
  looks: number;
  perLook: number;
  canaryRate: number;
  baselineRate: number;
  seed: number;
}

/** Share of simulated rollouts failed at some look, each look judging the cumulative counts. */
export function countFailureRate(s: CountScenario, judge: CountJudge): number {
  const random = mulberry32(s.seed);
  const canaryDraw = binomialSampler(s.perLook, s.canaryRate, random);
  const baselineDraw = binomialSampler(s.perLook, s.baselineRate, random);
  let failed = 0;
  for (let r = 0; r < s.rollouts; r++) {
    const canary = { errors: 0, total: 0 };
    const baseline = { errors: 0, total: 0 };
    let previous: Judgement | undefined;
    for (let look = 0; look < s.looks; look++) {
      canary.errors += canaryDraw();
      baseline.errors += baselineDraw();
      canary.total += s.perLook;
      baseline.total += s.perLook;
      previous = judge({ ...canary }, { ...baseline }, previous);
      if (previous.verdict === 'Failed') {
        failed++;
        break;
      }
    }
  }
  return failed / s.rollouts;
}

export type SampleJudge = (canary: readonly number[], baseline: readonly number[], previous?: Judgement) => Judgement;

export interface SampleScenario {
  rollouts: number;
  looks: number;
  perLook: number;
  /** canary / baseline median latency. */
  ratio: number;
  seed: number;
}

/** Share of simulated rollouts failed at some look, on log-normal latencies (median 100 ms, log-sd 0.5). */
export function sampleFailureRate(s: SampleScenario, judge: SampleJudge): number {
  const random = mulberry32(s.seed);
  const canaryDraw = logNormalSampler(100 * s.ratio, 0.5, random);
  const baselineDraw = logNormalSampler(100, 0.5, random);
  let failed = 0;
  for (let r = 0; r < s.rollouts; r++) {
    const canary: number[] = [];
    const baseline: number[] = [];
    let previous: Judgement | undefined;
    for (let look = 0; look < s.looks; look++) {
      for (let i = 0; i < s.perLook; i++) {
        canary.push(canaryDraw());
        baseline.push(baselineDraw());
      }
      previous = judge(canary, baseline, previous);
      if (previous.verdict === 'Failed') {
        failed++;
        break;
      }
    }
  }
  return failed / s.rollouts;
}

/**
 * Guard accuracy on simulated data (no server needed): how often each rule rolls back a rollout that is inside
 * tolerance (false rollbacks) and how often it catches a real regression (power), over 20 looks per rollout.
 *
 *   errors: baseline 2%, 250 requests per arm per look, maxRatio 1.2. Null: canary 2%; inside tolerance: 2.2%
 *           (1.1×); regression: 4% (2×).
 *   latency: log-normal, median 100 ms, log-sd 0.5, 100 samples per arm per look, maxRatio 1.1. Inside tolerance:
 *           +5%; regression: +20%.
 *
 * Rules: the sequential guard (mSPRT, `test: sequential`), the fixed-horizon guards (`two-proportion`,
 * `mann-whitney`) checked at every look, a Kayenta-style rule (two-sided test at α with the tolerance on the
 * point estimate, repeated at every look) and a Flagger-style threshold (the last look's window against a fixed
 * threshold, rollback after 2 failed checks). Sizes: BENCH_ACCURACY_ROLLOUTS (errors), BENCH_ACCURACY_LATENCY.
 */
import {
  judgeMannWhitney,
  judgeSequential,
  judgeTwoProportion,
  mannWhitneyU,
  median,
  twoProportionZTest,
  type CompareOptions,
  type Judgement,
} from '../src/analysis/index.js';
import { countFailureRate, sampleFailureRate, type CountJudge, type SampleJudge } from '../test/analysis/simulation.js';
import type { Measurement } from './context.js';
import { atMost, type Row } from './report.js';

const LOOKS = 20;
const ALPHA = 0.05;
const failed = (verdict: boolean): Judgement => ({
  verdict: verdict ? 'Failed' : 'Successful',
  value: null,
  threshold: '',
  detail: '',
});

export const guardAccuracy: Measurement = {
  name: 'guard-accuracy',
  title: 'guard accuracy: false rollbacks and power on simulated data (20 looks per rollout)',
  async run(ctx) {
    const rollouts = ctx.size('ACCURACY_ROLLOUTS', 4000, 400);
    const latencyRollouts = ctx.size('ACCURACY_LATENCY', 200, 40);
    const errors: CompareOptions = { confidence: 1 - ALPHA, direction: 'increase', maxRatio: 1.2, minSamples: 1 };
    const latency: CompareOptions = { ...errors, maxRatio: 1.1, minSamples: 10 };

    const countRules: Record<string, () => CountJudge> = {
      sequential: () => (c, b, previous) => judgeSequential(c, b, { ...errors, ...(previous ? { previous } : {}) }),
      'two-proportion at every look': () => (c, b) => judgeTwoProportion(c, b, errors),
      'Kayenta-style (two-sided, point estimate)': () => (c, b) =>
        failed(twoProportionZTest(c, b).pValue < ALPHA && c.errors / c.total > errors.maxRatio * (b.errors / b.total)),
      'Flagger-style (window rate > 2.4%, 2 checks)': () => {
        let last = { errors: 0, total: 0 };
        let strikes = 0;
        return (c) => {
          const window = { errors: c.errors - last.errors, total: c.total - last.total };
          last = { ...c };
          strikes = window.errors / window.total > 0.024 ? strikes + 1 : 0;
          return failed(strikes >= 2);
        };
      },
    };
    const sampleRules: Record<string, () => SampleJudge> = {
      sequential: () => (c, b, previous) => judgeSequential(c, b, { ...latency, ...(previous ? { previous } : {}) }),
      'mann-whitney at every look': () => (c, b) => judgeMannWhitney(c, b, latency),
      'Kayenta-style (two-sided, point estimate)': () => (c, b) =>
        failed(mannWhitneyU(c, b).pValue < ALPHA && median(c) > latency.maxRatio * median(b)),
      'Flagger-style (window median > 110 ms, 2 checks)': () => {
        let seen = 0;
        let strikes = 0;
        return (c) => {
          const window = c.slice(seen);
          seen = c.length;
          strikes = median(window) > 110 ? strikes + 1 : 0;
          return failed(strikes >= 2);
        };
      },
    };

    const rows: Row[] = [];
    const details: Record<string, unknown> = { rollouts, latencyRollouts, looks: LOOKS, alpha: ALPHA };
    const pct = (x: number) => Math.round(x * 1000) / 10;
    for (const [rule, make] of Object.entries(countRules)) {
      ctx.progress(`errors: ${rule}`);
      // A rule with state (Flagger) needs a fresh instance per rollout: wrap so each rollout's first look resets it.
      const fresh = (canaryRate: number, seed: number) => {
        let judge = make();
        return countFailureRate(
          { rollouts, looks: LOOKS, perLook: 250, canaryRate, baselineRate: 0.02, seed },
          (c, b, p) => {
            if (c.total === 250) judge = make();
            return judge(c, b, p);
          },
        );
      };
      const nullRate = fresh(0.02, 1);
      const inside = fresh(0.022, 2);
      const power = fresh(0.04, 3);
      rows.push(
        {
          metric: `errors, ${rule}: false rollbacks at 1×`,
          value: pct(nullRate),
          unit: '%',
          n: rollouts,
          target: atMost(5),
        },
        {
          metric: `errors, ${rule}: false rollbacks at 1.1× (tolerance 1.2×)`,
          value: pct(inside),
          unit: '%',
          n: rollouts,
          target: atMost(5),
        },
        {
          metric: `errors, ${rule}: power against 2× at 250 req/look`,
          value: pct(power),
          unit: '%',
          n: rollouts,
          note: 'wanted ≥ 95 %',
        },
      );
    }
    for (const [rule, make] of Object.entries(sampleRules)) {
      ctx.progress(`latency: ${rule}`);
      const fresh = (ratio: number, seed: number) => {
        let judge = make();
        return sampleFailureRate({ rollouts: latencyRollouts, looks: LOOKS, perLook: 100, ratio, seed }, (c, b, p) => {
          if (c.length === 100) judge = make();
          return judge(c, b, p);
        });
      };
      const inside = fresh(1.05, 4);
      const power = fresh(1.2, 5);
      rows.push(
        {
          metric: `latency, ${rule}: false rollbacks at +5% (tolerance +10%)`,
          value: pct(inside),
          unit: '%',
          n: latencyRollouts,
          target: atMost(5),
        },
        {
          metric: `latency, ${rule}: power against +20% at 100 samples/look`,
          value: pct(power),
          unit: '%',
          n: latencyRollouts,
        },
      );
    }
    details.rows = rows;
    return { rows, details };
  },
};

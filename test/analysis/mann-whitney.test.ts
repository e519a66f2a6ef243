import { describe, expect, it } from 'vitest';
import {
  hodgesLehmann,
  judgeMannWhitney,
  mannWhitneyU,
  shiftInterval,
  type CompareOptions,
} from '../../src/analysis/index.js';

/** Deterministic samples that Python reproduces bit for bit: ((i·mul) mod m)/10 + shift. */
const seq = (n: number, mul: number, mod: number, shift: number): number[] =>
  Array.from({ length: n }, (_, i) => ((i * mul) % mod) / 10 + shift);

/**
 * Reference values from SciPy 1.17.1:
 *   r = scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='auto', use_continuity=True)
 *   U = r.statistic, p = r.pvalue; hl = numpy.median(numpy.subtract.outer(x, y))
 * ci95 = [D(k), D(N+1-k)] over the sorted pairwise differences D (numpy), with k = R's qwilcox(0.025, n1, n2)
 * from the brute-force exact U distribution (itertools.combinations) when SciPy would use method='exact', else
 * k = floor(N/2 + scipy.stats.norm.ppf(0.025)·s + 0.5) with the tie-corrected sd s; k is clamped to ≥ 1.
 */
const cases: {
  name: string;
  x: number[];
  y: number[];
  u: number;
  p: number;
  method: string;
  hl: number;
  ci95: [number, number];
}[] = [
  { name: 'one vs one', x: [1], y: [2], u: 0, p: 1, method: 'exact', hl: -1, ci95: [-1, -1] },
  {
    name: 'three vs three, separated',
    x: [1, 2, 3],
    y: [4, 5, 6],
    u: 0,
    p: 0.1,
    method: 'exact',
    hl: -3,
    ci95: [-5, -1],
  },
  {
    name: 'four vs three, interleaved',
    x: [1.1, 2.2, 3.3, 4.4],
    y: [0.5, 1.5, 2.5],
    u: 9,
    p: 0.4,
    method: 'exact',
    hl: 1.25,
    ci95: [-1.4, 3.9],
  },
  { name: 'all tied', x: [5, 5, 5], y: [5, 5], u: 3, p: 1, method: 'asymptotic', hl: 0, ci95: [0, 0] },
  {
    name: 'small with ties',
    x: [1, 2, 2, 3],
    y: [2, 3, 3, 4, 5],
    u: 3,
    p: 0.09934224785346528,
    method: 'asymptotic',
    hl: -1,
    ci95: [-3, 0],
  },
  {
    name: 'two vs three with ties',
    x: [1, 1],
    y: [1, 2, 3],
    u: 1,
    p: 0.3329216080655659,
    method: 'asymptotic',
    hl: -1,
    ci95: [-2, 0],
  },
  {
    name: 'medium with ties',
    x: seq(20, 7, 13, 0.5),
    y: seq(25, 5, 11, 0),
    u: 421.5,
    p: 9.017960022149319e-5,
    method: 'asymptotic',
    hl: 0.5,
    ci95: [0.3, 0.8],
  },
  {
    name: '12 vs 15 without ties',
    x: seq(12, 37, 101, 0.05),
    y: seq(15, 53, 97, 0),
    u: 97,
    p: 0.7511164910310382,
    method: 'asymptotic',
    hl: 0.3,
    ci95: [-2.35, 2.95],
  },
  {
    name: '5 vs 30, exact',
    x: seq(5, 37, 101, 3.05),
    y: seq(30, 53, 97, 0),
    u: 103,
    p: 0.20158209911530592,
    method: 'exact',
    hl: 2.1,
    ci95: [-1.25, 5.05],
  },
  {
    name: '200 vs 300 with ties',
    x: seq(200, 37, 101, 0.5),
    y: seq(300, 53, 97, 0),
    u: 34251,
    p: 0.007237905710149467,
    method: 'asymptotic',
    hl: 0.7,
    ci95: [0.2, 1.3],
  },
];

describe('Mann–Whitney U against SciPy', () => {
  it.each(cases)('$name: U, two-sided p and method', ({ x, y, u, p, method }) => {
    const result = mannWhitneyU(x, y);
    expect(result.u).toBe(u);
    expect(result.pValue).toBeCloseTo(p, 12);
    expect(result.method).toBe(method);
  });

  it.each(cases)('$name: Hodges–Lehmann shift and its 95% interval', ({ x, y, hl, ci95 }) => {
    expect(hodgesLehmann(x, y)).toBeCloseTo(hl, 12);
    const { interval } = shiftInterval(x, y, 0.95, mannWhitneyU(x, y).tieTerm);
    expect(interval[0]).toBeCloseTo(ci95[0], 12);
    expect(interval[1]).toBeCloseTo(ci95[1], 12);
  });

  it('finds the median of 1.5 million pairwise differences without listing them (numpy: -24.650000000000006)', () => {
    // numpy.median(numpy.subtract.outer(x, y)) with x = seq(1000, 37, 1009, 0.05), y = seq(1500, 53, 1499, 0)
    expect(hodgesLehmann(seq(1000, 37, 1009, 0.05), seq(1500, 53, 1499, 0))).toBeCloseTo(-24.650000000000006, 12);
  });

  it('says when the samples are too small for the confidence asked', () => {
    expect(shiftInterval([1, 2, 3], [4, 5, 6], 0.95, 0).widened).toBe(true);
    expect(shiftInterval(seq(12, 37, 101, 0.05), seq(15, 53, 97, 0), 0.95, 0).widened).toBe(false);
  });
});

describe('judgeMannWhitney', () => {
  const options: CompareOptions = { confidence: 0.95, direction: 'increase', maxRatio: 1.2, minSamples: 10 };
  const baseline = seq(60, 37, 101, 10); // 10.0 … 20.0, median 14.95: tolerance +2.99 up, −2.49 down

  it('fails a canary whose latency is 50% higher', () => {
    const j = judgeMannWhitney(
      baseline.map((v) => v * 1.5),
      baseline,
      options,
    );
    expect(j.verdict).toBe('Failed');
    expect(j.value).toBeGreaterThan(3);
    expect(j.interval?.[0]).toBeGreaterThan(3);
    expect(j.pValue).toBeLessThan(0.05);
    expect(j.sampleSize).toBe(60);
    expect(j.threshold).toBe('shift ≤ +2.99 at 95%'); // (1.2 − 1) × median 14.95
  });

  it('passes a shift that is significant but within tolerance', () => {
    const big = seq(400, 37, 101, 10);
    const j = judgeMannWhitney(
      big.map((v) => v + 1),
      big,
      options,
    );
    expect(j.pValue).toBeLessThan(0.05);
    expect(j.verdict).toBe('Successful');
    expect(j.detail).toMatch(/within tolerance/);
  });

  it('passes an improvement when only increases are bad, and fails it when decreases are', () => {
    const faster = baseline.map((v) => v * 0.5);
    expect(judgeMannWhitney(faster, baseline, options).verdict).toBe('Successful');
    expect(judgeMannWhitney(faster, baseline, { ...options, direction: 'decrease' }).verdict).toBe('Failed');
    expect(judgeMannWhitney(faster, baseline, { ...options, direction: 'either' }).verdict).toBe('Failed');
  });

  it('is inconclusive below minSamples and follows onNoData without samples', () => {
    expect(judgeMannWhitney(baseline.slice(0, 5), baseline, options)).toMatchObject({
      verdict: 'Inconclusive',
      sampleSize: 5,
    });
    expect(judgeMannWhitney(null, baseline, options).verdict).toBe('Inconclusive');
    expect(judgeMannWhitney([], baseline, { ...options, onNoData: 'fail' }).verdict).toBe('Failed');
    expect(
      judgeMannWhitney([Number.NaN, Number.POSITIVE_INFINITY], baseline, { ...options, onNoData: 'fail' }).verdict,
    ).toBe('Failed');
  });

  it('fails 0/1 outcomes whose shift is degenerate because of ties (50% vs 10%), judging the means', () => {
    // Before: Hodges–Lehmann shift 0, lower bound 0, "Significant in the harmless direction".
    const canary = [...Array<number>(50).fill(0), ...Array<number>(50).fill(1)];
    const base = [...Array<number>(90).fill(0), ...Array<number>(10).fill(1)];
    const defaults: CompareOptions = { confidence: 0.95, direction: 'increase', maxRatio: 1.2, minSamples: 10 };
    const j = judgeMannWhitney(canary, base, defaults);
    expect(j.verdict).toBe('Failed');
    expect(j.pValue).toBeCloseTo(3.7504380915943043e-10, 20); // scipy mannwhitneyu(alternative='greater')
    expect(j.value).toBeCloseTo(0.4, 12); // mean difference
    expect(j.detail).toMatch(/judged on means/);
    expect(judgeMannWhitney(base, canary, defaults).verdict).toBe('Successful');
    expect(judgeMannWhitney(base, canary, { ...defaults, direction: 'decrease' }).verdict).toBe('Failed');
    // 12% vs 10% on 0/1 outcomes is inside tolerance 1.2 and not significant.
    const close = [...Array<number>(88).fill(0), ...Array<number>(12).fill(1)];
    expect(judgeMannWhitney(close, base, defaults).verdict).toBe('Successful');
  });

  it('judges tie-free samples on the Hodges–Lehmann bound as before', () => {
    const slower = baseline.map((v) => v * 1.5);
    const j = judgeMannWhitney(slower, baseline, options);
    expect(j.verdict).toBe('Failed');
    expect(j.value).toBeCloseTo(hodgesLehmann(slower, baseline), 12);
    expect(j.detail).toMatch(/beyond tolerance: shift /);
    const within = judgeMannWhitney(
      baseline.map((v) => v + 0.5),
      baseline,
      options,
    );
    expect(within).toMatchObject({
      verdict: 'Successful',
      value: hodgesLehmann(
        baseline.map((v) => v + 0.5),
        baseline,
      ),
    });
  });

  it('uses one-sided p-values when one direction is bad (SciPy alternative=greater/less)', () => {
    expect(mannWhitneyU([1.1, 2.2, 3.3, 4.4], [0.5, 1.5, 2.5], undefined, 'greater').pValue).toBeCloseTo(0.2, 12);
    expect(mannWhitneyU([1.1, 2.2, 3.3, 4.4], [0.5, 1.5, 2.5], undefined, 'less').pValue).toBeCloseTo(
      0.8857142857142858,
      12,
    );
    expect(mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4, 5], undefined, 'less').pValue).toBeCloseTo(0.04967112392673264, 12);
  });

  it('ignores NaN samples instead of ranking them', () => {
    const j = judgeMannWhitney([...baseline, Number.NaN], baseline, options);
    expect(j).toMatchObject({ verdict: 'Successful', value: 0, sampleSize: 60 });
  });
});

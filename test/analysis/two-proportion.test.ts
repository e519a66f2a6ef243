import { describe, expect, it } from 'vitest';
import { countFailureRate } from './simulation.js';
import {
  fisherExact,
  judgeTwoProportion,
  newcombeInterval,
  twoProportionZTest,
  type CompareOptions,
} from '../../src/analysis/index.js';

/**
 * Reference values from statsmodels 0.15.0:
 *   z, p = statsmodels.stats.proportion.proportions_ztest([e1, e2], [n1, n2])
 *   lo, hi = statsmodels.stats.proportion.confint_proportions_2indep(e1, n1, e2, n2, method='newcomb', compare='diff', alpha=0.05)
 */
const zCases: { c: [number, number]; b: [number, number]; z: number; p: number; ci95: [number, number] }[] = [
  {
    c: [20, 1000],
    b: [15, 1000],
    z: 0.8526478526309365,
    p: 0.39385461733475957,
    ci95: [-0.006891487012497706, 0.017204785227826383],
  },
  {
    c: [30, 1000],
    b: [10, 1000],
    z: 3.1943828249996993,
    p: 0.0014013015809602137,
    ci95: [0.007819328386507701, 0.033308722153987703],
  },
  {
    c: [5, 50],
    b: [40, 60],
    z: -6.018963384829669,
    p: 1.7553756720551906e-9,
    ci95: [-0.6868316492730691, -0.3969427968769726],
  },
  {
    c: [240, 10000],
    b: [200, 10000],
    z: 1.928253932283215,
    p: 0.053823548844750255,
    ci95: [-7.076259181472422e-5, 0.008091542110989074],
  },
  {
    c: [50, 2000],
    b: [30, 3000],
    z: 4.141182227806746,
    p: 3.4552031305250354e-5,
    ci95: [0.007665079513058277, 0.023358447354657384],
  },
  {
    c: [7, 400],
    b: [0, 400],
    z: 2.657402993215001,
    p: 0.007874524929853768,
    ci95: [0.004406394353548936, 0.03567707292555804],
  },
  {
    c: [999, 1000],
    b: [1000, 1000],
    z: -1.0002500937891357,
    p: 0.31718949224672377,
    ci95: [-0.005642558597957925, 0.0029143526139703323],
  },
];

/** Reference values from SciPy 1.17.1: scipy.stats.fisher_exact(table).pvalue (two-sided). */
const fisherCases: { table: [[number, number], [number, number]]; p: number }[] = [
  {
    table: [
      [8, 2],
      [1, 5],
    ],
    p: 0.034965034965034975,
  },
  {
    table: [
      [0, 10],
      [0, 10],
    ],
    p: 1,
  },
  {
    table: [
      [3, 997],
      [0, 1000],
    ],
    p: 0.24962481240620307,
  },
  {
    table: [
      [1, 0],
      [0, 1],
    ],
    p: 1,
  },
  {
    table: [
      [6, 2],
      [1, 4],
    ],
    p: 0.10256410256410256,
  },
  {
    table: [
      [2, 99998],
      [9, 99991],
    ],
    p: 0.06542243655943938,
  },
  {
    table: [
      [10, 10],
      [10, 10],
    ],
    p: 1,
  },
  {
    table: [
      [1, 9],
      [11, 3],
    ],
    p: 0.0027594561852200836,
  },
  {
    table: [
      [0, 5],
      [5, 0],
    ],
    p: 0.007936507936507938,
  },
  {
    table: [
      [12, 1988],
      [3, 1997],
    ],
    p: 0.03482341623939986,
  },
];

const counts = ([errors, total]: [number, number]) => ({ errors, total });

describe('two-proportion z-test and Newcombe interval against statsmodels', () => {
  it.each(zCases)('$c vs $b', ({ c, b, z, p, ci95 }) => {
    const result = twoProportionZTest(counts(c), counts(b));
    expect(result.z).toBeCloseTo(z, 12);
    expect(result.pValue).toBeCloseTo(p, 14);
    const [lo, hi] = newcombeInterval(counts(c), counts(b), 0.95);
    expect(lo).toBeCloseTo(ci95[0], 12);
    expect(hi).toBeCloseTo(ci95[1], 12);
  });

  it('gives p = 1 where both rates are 0 (statsmodels returns NaN)', () => {
    expect(twoProportionZTest({ errors: 0, total: 100 }, { errors: 0, total: 100 })).toEqual({ z: 0, pValue: 1 });
  });
});

describe("Fisher's exact test against SciPy", () => {
  it.each(fisherCases)('$table', ({ table: [[a, b], [c, d]], p }) => {
    expect(fisherExact(a, b, c, d)).toBeCloseTo(p, 12);
  });

  it('handles a table of ten million requests with a handful of errors', () => {
    // scipy.stats.fisher_exact([[3, 4999997], [1, 4999999]]).pvalue is 0.6249999248046366; its log-gamma
    // hypergeometric loses ~2e-10 at this size. The exact value, summed in Python's fractions.Fraction over the
    // same pmf ratios, is 0.6249999249999812.
    const p = fisherExact(3, 4_999_997, 1, 4_999_999);
    expect(p).toBeCloseTo(0.6249999249999812, 12);
    expect(p).toBeCloseTo(0.6249999248046366, 9);
  });
});

describe('judgeTwoProportion', () => {
  const options: CompareOptions = { confidence: 0.95, direction: 'increase', maxRatio: 1.2, minSamples: 100 };

  it('fails a canary whose error rate tripled, reporting the difference and its interval', () => {
    const j = judgeTwoProportion({ errors: 30, total: 1000 }, { errors: 10, total: 1000 }, options);
    expect(j).toMatchObject({ verdict: 'Failed', sampleSize: 1000, threshold: 'rate ≤ 1.2× baseline at 95%' });
    expect(j.value).toBeCloseTo(0.02, 12);
    // one-sided: scipy.stats.norm.sf(3.1943828249996993), half the two-sided p of the z-test above
    expect(j.pValue).toBeCloseTo(0.0007006507904801069, 14);
    expect(j.interval?.[0]).toBeCloseTo(0.007819328386507701, 12);
    expect(j.detail).toMatch(/ratio 3, ≥ 1\.669/); // the ratio's one-sided 95% lower bound, beyond 1.2
    expect(j.detail).toMatch(/z-test/);
  });

  it('switches to Fisher when an expected cell is below 5', () => {
    const j = judgeTwoProportion({ errors: 8, total: 10 }, { errors: 1, total: 6 }, { ...options, minSamples: 1 });
    // scipy.stats.fisher_exact([[8, 2], [1, 5]], alternative='greater').pvalue: one-sided for 'increase'
    expect(j.pValue).toBeCloseTo(0.024475524475524483, 12);
    expect(j.detail).toMatch(/Fisher/);
    expect(j.verdict).toBe('Failed');
  });

  it('passes a difference that is not significant, or not in the bad direction', () => {
    expect(judgeTwoProportion({ errors: 20, total: 1000 }, { errors: 15, total: 1000 }, options).verdict).toBe(
      'Successful',
    );
    expect(judgeTwoProportion({ errors: 10, total: 1000 }, { errors: 30, total: 1000 }, options).verdict).toBe(
      'Successful',
    );
    expect(
      judgeTwoProportion(
        { errors: 10, total: 1000 },
        { errors: 30, total: 1000 },
        { ...options, direction: 'decrease' },
      ).verdict,
    ).toBe('Failed');
  });

  it('passes a significant increase within maxRatio', () => {
    const j = judgeTwoProportion({ errors: 11_000, total: 1_000_000 }, { errors: 10_000, total: 1_000_000 }, options);
    expect(j.pValue).toBeLessThan(1e-6);
    expect(j.verdict).toBe('Successful');
  });

  it('treats zero traffic as no data, little traffic as inconclusive and impossible counts as an error', () => {
    expect(judgeTwoProportion({ errors: 0, total: 0 }, { errors: 1, total: 500 }, options).verdict).toBe(
      'Inconclusive',
    );
    expect(
      judgeTwoProportion({ errors: 0, total: 0 }, { errors: 1, total: 500 }, { ...options, onNoData: 'fail' }).verdict,
    ).toBe('Failed');
    expect(judgeTwoProportion({ errors: 1, total: 50 }, { errors: 1, total: 500 }, options)).toMatchObject({
      verdict: 'Inconclusive',
      sampleSize: 50,
    });
    expect(judgeTwoProportion({ errors: 5, total: 4 }, { errors: 1, total: 500 }, options).verdict).toBe('Error');
    expect(judgeTwoProportion({ errors: Number.NaN, total: 4 }, { errors: 1, total: 500 }, options).verdict).toBe(
      'Error',
    );
  });
});

describe('judgeTwoProportion judges the tolerance on the confidence bound', () => {
  const options: CompareOptions = { confidence: 0.95, direction: 'increase', maxRatio: 1.2, minSamples: 1 };
  // One look per rollout (the fixed-horizon use): 4 000 seeded rollouts of 20 000 requests per arm at 2%.
  const once = { rollouts: 4000, looks: 1, perLook: 20_000, baselineRate: 0.02 };

  it('rolls back a canary at 1.1× (inside tolerance 1.2) in at most alpha of rollouts', () => {
    // Before: the point estimate was judged, and ~37% of these rollouts were failed.
    const rate = countFailureRate({ ...once, canaryRate: 0.022, seed: 21 }, (c, b) =>
      judgeTwoProportion(c, b, options),
    );
    console.log(`two-proportion, 1.1× inside tolerance 1.2, rollback rate: ${rate}`);
    expect(rate).toBeLessThanOrEqual(0.05 + 0.01);
  });

  it('still catches a doubled error rate', () => {
    const rate = countFailureRate({ ...once, perLook: 3000, canaryRate: 0.04, seed: 22 }, (c, b) =>
      judgeTwoProportion(c, b, options),
    );
    expect(rate).toBeGreaterThan(0.9);
  });

  it('mirrors the rule for decreases', () => {
    const lower = judgeTwoProportion(
      { errors: 10, total: 1000 },
      { errors: 30, total: 1000 },
      {
        ...options,
        direction: 'decrease',
      },
    );
    expect(lower.verdict).toBe('Failed');
    expect(lower.detail).toMatch(/≤ 0\.\d+/);
    // 0.95× (inside the floor 1/1.2) on a million requests is significant but not beyond tolerance.
    const inside = judgeTwoProportion(
      { errors: 9500, total: 1_000_000 },
      { errors: 10_000, total: 1_000_000 },
      {
        ...options,
        direction: 'decrease',
      },
    );
    expect(inside.pValue).toBeLessThan(0.05);
    expect(inside.verdict).toBe('Successful');
  });
});

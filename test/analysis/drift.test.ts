import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  judgeCompare,
  judgeKs,
  judgePsi,
  kolmogorovSf,
  ksTwoSample,
  populationStabilityIndex,
  type DriftOptions,
} from '../../src/analysis/index.js';

/** Seeded samples and SciPy/numpy results from test/fixtures/analysis/ks_reference.py. */
interface Reference {
  name: string;
  x: number[];
  y: number[];
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
  psi: number;
}
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/analysis/ks-reference.json', import.meta.url), 'utf8'),
) as { cases: Reference[] };

describe('two-sample Kolmogorov–Smirnov against SciPy', () => {
  it.each(reference.cases)('$name: D, p and method', ({ x, y, statistic, pValue, method }) => {
    const r = ksTwoSample(x, y);
    expect(r.statistic).toBeCloseTo(statistic, 14);
    expect(r.method).toBe(method);
    expect(Math.abs(r.pValue - pValue)).toBeLessThanOrEqual(1e-10 * Math.max(1, pValue));
  });

  it('matches the Kolmogorov limit at both ends of its range (scipy.stats.kstwobign.sf)', () => {
    expect(kolmogorovSf(0.5)).toBeCloseTo(0.9639452436648751, 12);
    expect(kolmogorovSf(1)).toBeCloseTo(0.26999967167735456, 12);
    expect(kolmogorovSf(2)).toBeCloseTo(0.0006709252557796953, 14);
  });
});

describe('population stability index against numpy', () => {
  it.each(reference.cases)('$name', ({ x, y, psi }) => {
    expect(populationStabilityIndex(x, y)).toBeCloseTo(psi, 12);
  });
});

describe('drift judgements', () => {
  const options: DriftOptions = { confidence: 0.95, direction: 'increase', maxRatio: 1.2, minSamples: 20 };
  const byName = (name: string) => reference.cases.find((c) => c.name.startsWith(name))!;

  it('fails a shifted distribution on KS and PSI, passes the same distribution', () => {
    const shifted = byName('30 vs 30');
    expect(judgeKs(shifted.x, shifted.y, options)).toMatchObject({
      verdict: 'Failed',
      threshold: 'KS distance ≤ 0.1 at 95%',
    });
    expect(judgePsi(shifted.x, shifted.y, options).verdict).toBe('Failed');
    const same = byName('1500 vs 1500');
    expect(judgeKs(same.x, same.y, options).verdict).toBe('Successful');
    expect(judgePsi(same.x, same.y, options).verdict).toBe('Successful');
  });

  it('tolerates a significant but small KS distance', () => {
    const wider = byName('400 vs 500'); // D 0.1055, p 0.013
    expect(judgeKs(wider.x, wider.y, options).verdict).toBe('Failed');
    expect(judgeKs(wider.x, wider.y, { ...options, maxDistance: 0.15 })).toMatchObject({ verdict: 'Successful' });
    expect(judgePsi(wider.x, wider.y, { ...options, maxPsi: 0.25 }).verdict).toBe('Successful');
  });

  it('is wired into judgeCompare, with no-data, minSamples and wrong-shape handling', () => {
    const shifted = byName('30 vs 30');
    expect(judgeCompare('ks', shifted.x, shifted.y, options).verdict).toBe('Failed');
    expect(judgeCompare('psi', shifted.x, shifted.y, options).verdict).toBe('Failed');
    expect(judgeCompare('ks', [1, 2], [1, 2, 3], options).verdict).toBe('Inconclusive');
    expect(judgeCompare('psi', null, [1, 2, 3], { ...options, onNoData: 'fail' }).verdict).toBe('Failed');
    expect(judgeCompare('ks', { errors: 1, total: 2 }, [1], options).verdict).toBe('Error');
  });
});

import { describe, expect, it } from 'vitest';
import { judgeCompare, judgeRatio, judgeThreshold, worst, type CompareOptions } from '../../src/analysis/index.js';

describe('worst', () => {
  it('ranks Failed over Error over Inconclusive over Successful', () => {
    expect(worst(['Successful', 'Inconclusive', 'Failed', 'Error'])).toBe('Failed');
    expect(worst(['Successful', 'Error', 'Inconclusive'])).toBe('Error');
    expect(worst(['Successful', 'Inconclusive', 'Successful'])).toBe('Inconclusive');
    expect(worst(['Successful'])).toBe('Successful');
  });

  it('never lets missing data pass: no verdicts is Inconclusive', () => {
    expect(worst([])).toBe('Inconclusive');
  });
});

describe('judgeThreshold', () => {
  it('passes values within inclusive bounds and fails beyond them', () => {
    expect(judgeThreshold(0.02, { max: 0.02, onNoData: 'inconclusive' })).toMatchObject({
      verdict: 'Successful',
      value: 0.02,
      threshold: '≤ 0.02',
    });
    expect(judgeThreshold(0.0201, { max: 0.02, onNoData: 'inconclusive' })).toMatchObject({
      verdict: 'Failed',
      detail: '0.0201 is above the maximum 0.02.',
    });
    expect(judgeThreshold(0.89, { min: 0.9, onNoData: 'inconclusive' })).toMatchObject({
      verdict: 'Failed',
      threshold: '≥ 0.9',
    });
    expect(judgeThreshold(1, { min: 0.9, max: 1.1, onNoData: 'inconclusive' })).toMatchObject({
      verdict: 'Successful',
      threshold: 'within [0.9, 1.1]',
    });
  });

  it.each([null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('treats %s as no data', (value) => {
    expect(judgeThreshold(value, { max: 1, onNoData: 'inconclusive' })).toMatchObject({
      verdict: 'Inconclusive',
      value: null,
    });
    expect(judgeThreshold(value, { max: 1, onNoData: 'fail' })).toMatchObject({ verdict: 'Failed', value: null });
  });
});

describe('judgeRatio', () => {
  const increase = { maxRatio: 1.2, direction: 'increase', onNoData: 'inconclusive' } as const;

  it('fails an increase beyond maxRatio and passes one at it', () => {
    expect(judgeRatio(130, 100, increase)).toMatchObject({ verdict: 'Failed', value: 1.3, threshold: 'ratio ≤ 1.2' });
    expect(judgeRatio(120, 100, increase).verdict).toBe('Successful');
    expect(judgeRatio(50, 100, increase).verdict).toBe('Successful');
  });

  it('fails a decrease below 1/maxRatio, and either way for "either"', () => {
    const decrease = { ...increase, direction: 'decrease' } as const;
    const either = { ...increase, direction: 'either' } as const;
    expect(judgeRatio(80, 100, decrease)).toMatchObject({ verdict: 'Failed', threshold: 'ratio ≥ 0.8333' });
    expect(judgeRatio(84, 100, decrease).verdict).toBe('Successful');
    expect(judgeRatio(130, 100, decrease).verdict).toBe('Successful');
    expect(judgeRatio(80, 100, either)).toMatchObject({ verdict: 'Failed', threshold: 'ratio within [0.8333, 1.2]' });
    expect(judgeRatio(130, 100, either).verdict).toBe('Failed');
    expect(judgeRatio(100, 100, either).verdict).toBe('Successful');
  });

  it('defines a zero baseline: 0/0 is no change, x/0 is an unbounded increase', () => {
    expect(judgeRatio(0, 0, { ...increase, direction: 'either' })).toMatchObject({ verdict: 'Successful', value: 1 });
    expect(judgeRatio(3, 0, increase)).toMatchObject({ verdict: 'Failed', value: null });
    expect(judgeRatio(3, 0, increase).detail).toMatch(/unbounded/);
    expect(judgeRatio(3, 0, { ...increase, direction: 'decrease' }).verdict).toBe('Successful');
  });

  it('treats a missing or non-finite side as no data and a negative side as an error', () => {
    expect(judgeRatio(null, 1, increase).verdict).toBe('Inconclusive');
    expect(judgeRatio(1, Number.NaN, { ...increase, onNoData: 'fail' }).verdict).toBe('Failed');
    expect(judgeRatio(-1, 1, increase).verdict).toBe('Error');
  });
});

describe('judgeCompare', () => {
  const options: CompareOptions = {
    confidence: 0.95,
    direction: 'increase',
    maxRatio: 1.2,
    minSamples: 1,
    onNoData: 'fail',
  };

  it('dispatches on the test', () => {
    expect(judgeCompare('ratio', 130, 100, options).threshold).toBe('ratio ≤ 1.2');
    expect(judgeCompare('mann-whitney', [3, 4, 5], [1, 2, 3], options).threshold).toMatch(/^shift/);
    expect(
      judgeCompare('two-proportion', { errors: 1, total: 100 }, { errors: 1, total: 100 }, options).threshold,
    ).toMatch(/^rate ≤/);
    expect(judgeCompare('sequential', { errors: 1, total: 100 }, { errors: 1, total: 100 }, options).threshold).toMatch(
      /always-valid/,
    );
    expect(judgeCompare('sequential', [1, 2, 3], [1, 2, 3], options).threshold).toMatch(/^mean/);
  });

  it('returns an Error judgement for inputs of the wrong shape', () => {
    expect(judgeCompare('ratio', [1, 2], [1, 2], options).verdict).toBe('Error');
    expect(judgeCompare('mann-whitney', { errors: 1, total: 2 }, [1], options).verdict).toBe('Error');
    expect(judgeCompare('two-proportion', 1, 2, options).verdict).toBe('Error');
    expect(judgeCompare('sequential', 1, 2, options).verdict).toBe('Error');
  });

  it('follows onNoData for null inputs', () => {
    expect(judgeCompare('ratio', null, null, options).verdict).toBe('Failed');
    expect(judgeCompare('mann-whitney', null, null, options).verdict).toBe('Failed');
    expect(judgeCompare('sequential', null, null, options).verdict).toBe('Failed');
  });
});

describe('judgeThreshold: gray zone and units', () => {
  it('a value between the pass bound and the fail bound is Inconclusive, neither a pass nor a failure', () => {
    const opts = { max: 0.05, warnMax: 0.02, unit: 'ratio' as const, onNoData: 'inconclusive' as const };
    expect(judgeThreshold(0.01, opts)).toMatchObject({ verdict: 'Successful', threshold: '≤ 5 % (passes ≤ 2 %)' });
    expect(judgeThreshold(0.03, opts)).toMatchObject({
      verdict: 'Inconclusive',
      detail: '3 % is in the gray zone: above 2 %, not above the maximum 5 %.',
    });
    expect(judgeThreshold(0.33172209679999864, opts)).toMatchObject({
      verdict: 'Failed',
      detail: '33.2 % is above the maximum 5 %.',
    });
    const low = { min: 0.9, warnMin: 0.95, onNoData: 'inconclusive' as const };
    expect(judgeThreshold(0.92, low).verdict).toBe('Inconclusive');
    expect(judgeThreshold(0.96, low).verdict).toBe('Successful');
    expect(judgeThreshold(0.89, low).verdict).toBe('Failed');
  });
  it('prints latency in ms when the unit is seconds', () => {
    expect(judgeThreshold(0.3321, { max: 0.2, unit: 's', onNoData: 'inconclusive' }).detail).toBe(
      '332 ms is above the maximum 200 ms.',
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  assessGuard,
  emptyTally,
  measuredValue,
  tallyMeasurement,
  windowVerdict,
  worstVerdict,
  type GuardLimits,
} from '../../src/domain/tally.js';
import { type MeasurementRecord, type Verdict } from '../../src/domain/tally.schema.js';
import { formatValue } from '../../src/domain/units.js';

const m = (verdict: Verdict, value: number | null = 1): MeasurementRecord => ({
  guard: 'g',
  at: 't',
  step: 0,
  check: 0,
  verdict,
  value,
  threshold: '≤ 1',
  detail: verdict,
});
const limits: GuardLimits = { failureLimit: 1, consecutiveErrorLimit: 2, critical: false, inconclusiveLimit: 0 };

/** The assessment after each measurement, and the tally at the end. */
function run(verdicts: Verdict[], l: GuardLimits = limits, prior = 0) {
  let t = emptyTally('g', prior);
  const decisions: string[] = [];
  for (const v of verdicts) {
    t = tallyMeasurement(t, m(v));
    decisions.push(assessGuard(t, l, 'check').verdict);
  }
  return { t, decisions };
}

describe('guard assessment: one function owns every limit', () => {
  it('fails once failures exceed failureLimit (Argo semantics)', () => {
    expect(run(['Failed', 'Successful', 'Failed']).decisions).toEqual(['Running', 'Running', 'Failed']);
  });
  it('counts failures from before the window (budget: rollout, pushed breaches) against the same limit', () => {
    const { decisions, t } = run(['Successful', 'Failed'], limits, 1);
    expect(decisions).toEqual(['Running', 'Failed']);
    expect(assessGuard(t, limits, 'check').message).toBe(
      'guard g failed 2× (1 before this window) (limit 1): 1 vs ≤ 1',
    );
  });
  it('a critical guard fails on its first failed measurement', () => {
    expect(run(['Failed'], { ...limits, critical: true }).decisions).toEqual(['Failed']);
  });
  it('counts the guard as failed after more source errors in a row than allowed', () => {
    expect(run(['Error', 'Error', 'Successful', 'Error', 'Error', 'Error']).decisions).toEqual([
      'Running',
      'Running',
      'Running',
      'Running',
      'Running',
      'Failed',
    ]);
  });
  it('never passes missing data at the end of a window', () => {
    expect(windowVerdict(run(['Inconclusive', 'Inconclusive']).t, limits)).toBe('Inconclusive');
    expect(windowVerdict(run(['Successful', 'Error']).t, limits)).toBe('Inconclusive');
    expect(windowVerdict(run([]).t, limits)).toBe('Inconclusive');
    expect(windowVerdict(run(['Inconclusive', 'Successful', 'Successful']).t, limits)).toBe('Successful');
    expect(windowVerdict(run(['Successful', 'Inconclusive', 'Successful']).t, limits)).toBe('Inconclusive');
    expect(
      windowVerdict(run(['Successful', 'Inconclusive', 'Successful']).t, { ...limits, inconclusiveLimit: 1 }),
    ).toBe('Successful');
  });
  it('consecutiveSuccessLimit: a window passes only after that many successes in a row', () => {
    const l = { ...limits, consecutiveSuccessLimit: 3 };
    expect(windowVerdict(run(['Successful', 'Successful', 'Failed', 'Successful', 'Successful']).t, l)).toBe(
      'Inconclusive',
    );
    expect(assessGuard(run(['Successful', 'Successful']).t, l, 'end').message).toBe(
      'g: 3 successes in a row needed, 2 seen',
    );
    expect(windowVerdict(run(['Failed', 'Successful', 'Successful', 'Successful']).t, l)).toBe('Successful');
  });
  it('the worst verdict wins', () => {
    expect(worstVerdict(['Successful', 'Inconclusive', 'Error'])).toBe('Error');
    expect(worstVerdict(['Error', 'Failed', 'Successful'])).toBe('Failed');
    expect(worstVerdict([])).toBe('Inconclusive');
  });
});

describe('measured values as a human reads them', () => {
  it('rounds to four significant digits, and says when there is no data', () => {
    expect(measuredValue(0.17033964220897072)).toBe('0.1703');
    expect(measuredValue(1234567)).toBe('1235000');
    expect(measuredValue(0.05)).toBe('0.05');
    expect(measuredValue(null)).toBe('no data');
  });

  it('prints a guard’s unit: ratios and percents as %, seconds below 1 as ms', () => {
    expect(formatValue(0.33172209679999864, 'ratio')).toBe('33.2 %');
    expect(formatValue(0.05, 'ratio')).toBe('5 %');
    expect(formatValue(33.17, 'percent')).toBe('33.2 %');
    expect(formatValue(0.3321, 's')).toBe('332 ms');
    expect(formatValue(2.5, 's')).toBe('2.5 s');
    expect(formatValue(1500, 'ms')).toBe('1.5 s');
    expect(formatValue(200, 'ms')).toBe('200 ms');
    expect(formatValue(12, 'count')).toBe('12');
    expect(measuredValue(0.332, 'ratio')).toBe('33.2 %');
  });

  it('a failing guard’s reason shows the rounded value, not the raw float', () => {
    const t = tallyMeasurement(emptyTally('g'), { ...m('Failed', 0.17033964220897072), threshold: '≤ 0.05' });
    expect(assessGuard(t, { ...limits, critical: true }, 'check')).toEqual({
      verdict: 'Failed',
      message: 'critical guard g failed: 0.1703 vs ≤ 0.05',
    });
    const withUnit = tallyMeasurement(emptyTally('g'), {
      ...m('Failed', 0.33172209679999864),
      unit: 'ratio',
      threshold: '≤ 5 %',
    });
    expect(assessGuard(withUnit, { ...limits, critical: true }, 'check').message).toBe(
      'critical guard g failed: 33.2 % vs ≤ 5 %',
    );
  });
});

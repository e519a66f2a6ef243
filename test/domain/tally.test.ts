import { describe, expect, it } from 'vitest';
import { emptyTally, measuredValue, tallyMeasurement, windowVerdict, worstVerdict } from '../../src/domain/tally.js';
import { type MeasurementRecord, type Verdict } from '../../src/domain/tally.schema.js';

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
const limits = { failureLimit: 1, consecutiveErrorLimit: 2, critical: false, inconclusiveLimit: 0 };

function run(verdicts: Verdict[], l = limits) {
  let t = emptyTally('g');
  const decisions: string[] = [];
  for (const v of verdicts) {
    const r = tallyMeasurement(t, m(v), l);
    t = r.tally;
    decisions.push(r.decision.kind);
  }
  return { t, decisions };
}

describe('guard assessment', () => {
  it('fails once failures exceed failureLimit (Argo semantics)', () => {
    expect(run(['Failed', 'Successful', 'Failed']).decisions).toEqual(['none', 'none', 'fail']);
  });
  it('a critical guard fails on its first failed measurement', () => {
    expect(run(['Failed'], { ...limits, critical: true }).decisions).toEqual(['fail']);
  });
  it('counts the guard as failed after more source errors in a row than allowed', () => {
    expect(run(['Error', 'Error', 'Successful', 'Error', 'Error', 'Error']).decisions).toEqual([
      'none',
      'none',
      'none',
      'none',
      'none',
      'fail',
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

  it('a failing guard’s reason shows the rounded value, not the raw float', () => {
    const r = tallyMeasurement(
      emptyTally('g'),
      { ...m('Failed', 0.17033964220897072), threshold: '≤ 0.05' },
      {
        ...limits,
        critical: true,
      },
    );
    expect(r.decision).toEqual({ kind: 'fail', reason: 'critical guard g failed: 0.1703 vs ≤ 0.05' });
  });
});

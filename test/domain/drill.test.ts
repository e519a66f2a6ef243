import { describe, expect, it } from 'vitest';
import { judgeDrill } from '../../src/domain/drill.js';
import { DrillSpec } from '../../src/domain/drill.schema.js';

const drill = DrillSpec.parse({ name: 'd', rollout: {}, inject: { atStep: 0 } });
const judged = (actual: number | undefined) =>
  judgeDrill({
    drill,
    rolloutWorkflowId: 'drill-d/rollout',
    finalPhase: 'RolledBack',
    injectedAtMs: 1_000,
    detectedAtMs: 1_100,
    rolledBackAtMs: 1_500,
    baseline: { expected: 0, actual },
    compensations: [],
  });

describe('drill verdict', () => {
  it('passes when the target reads its baseline, with the measured times', () => {
    expect(judged(0)).toMatchObject({ passed: true, reasons: [], timeToDetectMs: 100, timeToRollbackMs: 400 });
  });

  it('says what the target reads when it is off its baseline', () => {
    expect(judged(5).reasons).toEqual(['the target reads 5%, expected its baseline 0%']);
  });

  it('says the target could not be read, never "nothing%" or "undefined%"', () => {
    const { passed, reasons, baselineVerified } = judged(undefined);
    expect({ passed, baselineVerified }).toEqual({ passed: false, baselineVerified: false });
    expect(reasons).toEqual(['the target could not be read back, expected its baseline 0%']);
  });
});

import type { ReportStatus } from '../../src/report/index.js';

const T0 = Date.parse('2025-03-04T10:00:00.000Z');
/** ISO time `minutes` after the fixture's start. */
export const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

export const HOSTILE_ACTOR = '<script>alert("actor")</script>';
export const HOSTILE_CAUSE = 'error-rate 0.08 > 0.02 <img src=x onerror=alert(1)>';

/**
 * A hand-made status of a rollout that went 5% → approval → 25%, was paused by an operator with a hostile name,
 * and rolled back when a guard failed at step 2.
 */
export function rolledBackStatus(): ReportStatus {
  return {
    name: 'ranker-v2',
    target: 'flagd:flags.json#ranker',
    phase: 'RolledBack',
    step: 2,
    totalSteps: 5,
    stepDescription: 'exposure 25%, observe 15m',
    steps: [
      'exposure 5%, observe 10m',
      'approval (timeout 1h, then rollback)',
      'exposure 25%, observe 15m',
      'pause 10m',
      'exposure 100%',
    ],
    exposure: { percent: 0 },
    pauseReasons: [],
    approvals: [{ step: 1, actor: 'ana', at: at(20), comment: 'dashboards look fine' }],
    guards: [
      { name: 'error-rate', verdict: 'Failed', value: 0.08, threshold: '≤ 0.02', at: at(35), checks: 90, failed: 2 },
      {
        name: 'latency-p99',
        verdict: 'Successful',
        value: 0.21,
        threshold: 'within [0.05, 0.5]',
        at: at(34.9),
        checks: 90,
        failed: 0,
      },
      {
        name: 'conversion',
        verdict: 'Successful',
        value: -0.002,
        threshold: 'rate ≥ 0.8× baseline at 95%',
        at: at(34.8),
        checks: 45,
        failed: 0,
      },
    ],
    measurements: [
      {
        guard: 'latency-p99',
        at: at(9.9),
        step: 0,
        check: 59,
        verdict: 'Inconclusive',
        value: null,
        threshold: 'within [0.05, 0.5]',
        detail: 'No usable value (null).',
      },
      {
        guard: 'error-rate',
        at: at(33),
        step: 2,
        check: 70,
        verdict: 'Failed',
        value: 0.05,
        threshold: '≤ 0.02',
        detail: '0.05 is above the maximum 0.02.',
      },
      {
        guard: 'error-rate',
        at: at(35),
        step: 2,
        check: 90,
        verdict: 'Failed',
        value: 0.08,
        threshold: '≤ 0.02',
        detail: HOSTILE_CAUSE,
      },
    ],
    windows: [
      { step: 0, startedAt: at(0.1), endedAt: at(10), checks: 60, outcome: 'passed', reason: 'all guards passed' },
      { step: 2, startedAt: at(20.1), endedAt: at(35), checks: 90, outcome: 'failed', reason: HOSTILE_CAUSE },
    ],
    rollback: {
      trigger: 'guard',
      reason: `guard error-rate failed 2× (limit 1): ${HOSTILE_CAUSE}`,
      requestedAt: at(35),
      failedAttempts: 1,
      retrying: false,
      done: ['exposure'],
      finishedAt: at(36),
    },
    timeline: [
      { at: at(0), phase: 'Pending', step: 0, exposure: 0, cause: 'rollout started' },
      { at: at(0.05), phase: 'Progressing', step: 0, exposure: 0, cause: 'step 1: set exposure to 5%' },
      { at: at(0.1), phase: 'Observing', step: 0, exposure: 5, cause: 'step 1: observe 10m at 5%' },
      { at: at(10), phase: 'AwaitingApproval', step: 1, exposure: 5, cause: 'step 2: waiting for approval' },
      {
        at: at(12),
        phase: 'Paused',
        step: 1,
        exposure: 5,
        cause: 'checking <dashboards> & logs',
        actor: HOSTILE_ACTOR,
      },
      { at: at(16), phase: 'AwaitingApproval', step: 1, exposure: 5, cause: 'resumed', actor: HOSTILE_ACTOR },
      { at: at(20), phase: 'Progressing', step: 2, exposure: 5, cause: 'step 3: set exposure to 25%' },
      { at: at(20.1), phase: 'Observing', step: 2, exposure: 25, cause: 'step 3: observe 15m at 25%' },
      {
        at: at(35),
        phase: 'RollingBack',
        step: 2,
        exposure: 25,
        cause: `guard error-rate failed 2× (limit 1): ${HOSTILE_CAUSE}`,
      },
      { at: at(36), phase: 'RolledBack', step: 2, exposure: 0, cause: 'back at 0%: guard error-rate failed' },
    ],
    startedAt: at(0),
    run: 1,
  };
}

import { describe, expect, it } from 'vitest';
import { exposureBar, renderStatus } from '../../src/view/render.js';
import type { RolloutStatus } from '../../workflows/messages.js';

const NOW = Date.parse('2026-01-05T10:00:00.000Z');
const STEPS = ['exposure 5%, observe 1.5s', 'exposure 50%, observe 1.5s', 'exposure 100%'];

/** A status as the workflow reports it, at step 0 with 5 % exposure, with one field set per test. */
function status(over: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    name: 'ranker-v2',
    target: 'new-ranker',
    phase: 'Observing',
    step: 0,
    totalSteps: STEPS.length,
    stepDescription: STEPS[0]!,
    steps: STEPS,
    exposure: { percent: 5 },
    pauseReasons: [],
    approvals: [],
    guards: [],
    measurements: [],
    windows: [],
    timeline: [
      { at: '2026-01-05T09:59:58.500Z', phase: 'Observing', step: 0, exposure: 5, cause: 'exposure 5% applied' },
    ],
    startedAt: '2026-01-05T09:59:58.000Z',
    run: 1,
    ...over,
  };
}

describe('the status view (rollout status, rollout watch, the demo)', () => {
  it('shows the step bar at 5 % with the window time left, the current step marked', () => {
    const lines = renderStatus(
      'rollout/new-ranker',
      status({ windowEndsAt: new Date(NOW + 1_200).toISOString() }),
      NOW,
    );

    expect(lines).toEqual([
      'ranker-v2 · rollout/new-ranker · Observing · step 1/3',
      '[█░░░░░░░░░░░░░░░░░░░]     5%   window: 1s left',
      ' ▶  1 exposure 5%, observe 1.5s',
      '    2 exposure 50%, observe 1.5s',
      '    3 exposure 100%',
      'last: 09:59:58 Observing — exposure 5% applied',
    ]);
  });

  it('fills the bar in proportion: 50 % is half, 100 % is full, 0 % is empty', () => {
    expect(exposureBar(50)).toBe(`[${'█'.repeat(10)}${'░'.repeat(10)}]    50%`);
    expect(exposureBar(100)).toBe(`[${'█'.repeat(20)}]   100%`);
    expect(exposureBar(0)).toBe(`[${'░'.repeat(20)}]     0%`);
  });

  it('a completed rollout ticks every step and shows no window', () => {
    const lines = renderStatus(
      'rollout/new-ranker',
      status({ phase: 'Completed', step: 3, exposure: { percent: 100 } }),
      NOW,
    );

    expect(lines.slice(0, 5)).toEqual([
      'ranker-v2 · rollout/new-ranker · Completed · step 3/3',
      `[${'█'.repeat(20)}]   100%`,
      ' ✔  1 exposure 5%, observe 1.5s',
      ' ✔  2 exposure 50%, observe 1.5s',
      ' ✔  3 exposure 100%',
    ]);
  });

  it('a rolled-back rollout marks no step as current and says why it rolled back', () => {
    const lines = renderStatus(
      'rollout/new-ranker',
      status({
        phase: 'RolledBack',
        step: 1,
        exposure: { percent: 0 },
        guards: [
          {
            name: 'error-rate',
            verdict: 'Failed',
            value: 0.170339642,
            threshold: '≤ 0.05',
            at: '2026-01-05T09:59:59.000Z',
            checks: 2,
          },
        ],
        rollback: {
          trigger: 'guard',
          reason: 'guard error-rate failed 2× (limit 1)',
          requestedAt: '2026-01-05T09:59:59.000Z',
          failedAttempts: 0,
          retrying: false,
          done: ['exposure'],
        },
      }),
      NOW,
    );

    expect(lines).toContain(' ✔  1 exposure 5%, observe 1.5s');
    expect(lines).toContain('    2 exposure 50%, observe 1.5s');
    expect(lines).toContain(`guards:`);
    expect(lines).toContain(
      `  ${'error-rate'.padEnd(22)} ${'0.1703'.padStart(10)}  ${'≤ 0.05'.padEnd(24)} Failed (2 checks)`,
    );
    expect(lines).toContain('rollback: guard error-rate failed 2× (limit 1)');
  });

  it('prints a guard with its unit, and says when it runs dry, watches the whole rollout, and its failures so far', () => {
    const lines = renderStatus(
      'rollout/new-ranker',
      status({
        guards: [
          {
            name: 'error-rate',
            verdict: 'Failed',
            value: 0.33172209679999864,
            unit: 'ratio',
            threshold: '≤ 5 %',
            at: '2026-01-05T09:59:59.000Z',
            checks: 3,
            failures: 1,
            failureLimit: 2,
            during: 'rollout',
          },
          {
            name: 'p99',
            verdict: 'Failed',
            value: 0.332,
            unit: 's',
            threshold: '≤ 200 ms',
            at: '2026-01-05T09:59:59.000Z',
            dryRun: true,
          },
        ],
      }),
      NOW,
    );
    expect(lines).toContain(
      `  ${'error-rate'.padEnd(22)} ${'33.2 %'.padStart(10)}  ${'≤ 5 %'.padEnd(24)} Failed (3 checks) [whole rollout; 1 failure(s) over the rollout, limit 2]`,
    );
    expect(lines).toContain(
      `  ${'p99'.padEnd(22)} ${'332 ms'.padStart(10)}  ${'≤ 200 ms'.padEnd(24)} Failed [dry run]`,
    );
  });

  it('shows live guard values with their time, a cohort, pauses and a retrying rollback', () => {
    const lines = renderStatus(
      'rollout/new-ranker',
      {
        ...status({
          phase: 'RollingBack',
          exposure: { percent: 25, cohort: { attribute: 'region', values: ['eu-west', 'eu-north'] } },
          guards: [
            {
              name: 'latency',
              verdict: 'Inconclusive',
              value: null,
              threshold: '≤ 0.2',
              at: '2026-01-05T09:59:59.000Z',
              cohort: 'eu-west',
            },
          ],
          pauseReasons: [
            { kind: 'operator', reason: 'checking dashboards', actor: 'ana', at: '2026-01-05T09:59:59.000Z' },
          ],
          rollback: {
            trigger: 'abort',
            reason: 'aborted by ana',
            requestedAt: '2026-01-05T09:59:59.000Z',
            failedAttempts: 3,
            retrying: true,
            retryingWhat: 'exposure',
            lastError: 'ECONNREFUSED',
            done: [],
          },
        }),
        guardsAsOf: '2026-01-05T09:59:59.250Z',
      },
      NOW,
    );

    expect(lines[1]).toBe('[█████░░░░░░░░░░░░░░░]    25% of region in eu-west,eu-north');
    expect(lines).toContain('guards (live, 09:59:59):');
    expect(lines).toContain(
      `  ${'latency'.padEnd(22)} ${'no data'.padStart(10)}  ${'≤ 0.2'.padEnd(24)} Inconclusive worst cohort eu-west`,
    );
    expect(lines).toContain('paused: checking dashboards (by ana)');
    expect(lines).toContain('rollback: aborted by ana — RETRYING exposure after 3 failures: ECONNREFUSED');
  });
});

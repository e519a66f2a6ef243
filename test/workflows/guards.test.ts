import { describe, expect, it } from 'vitest';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

type Guard = NonNullable<RolloutSpecInput['guards']>[number];
const synthetic = (series: Record<string, (number | number[] | null | 'error')[]>) => ({
  type: 'synthetic' as const,
  series,
});

async function runRollout(spec: RolloutSpecInput) {
  const h = await rolloutHarness(suite.env, suite.bundle);
  try {
    const { workflowId } = await suite.client.start(spec, { taskQueue: h.taskQueue });
    return { result: await suite.client.result(workflowId), h };
  } finally {
    await h.stop();
  }
}

describe('guards in observation windows (synthetic sources)', () => {
  it('a healthy threshold guard lets the rollout complete and reports its last value', async () => {
    const guard: Guard = {
      name: 'error-rate',
      source: synthetic({ err: [0.001, 0.004, 0.002] }),
      query: 'err',
      max: 0.02,
      interval: '100ms',
    };
    const { result } = await runRollout(
      flagdSpec(uniqueFlag('healthy'), [{ exposure: 10, observe: '600ms' }, { exposure: 100 }], { guards: [guard] }),
    );
    expect(result.phase).toBe('Completed');
    expect(result.guards).toEqual([
      expect.objectContaining({ name: 'error-rate', verdict: 'Successful', value: 0.002, threshold: '≤ 0.02' }),
    ]);
    expect(result.windows).toEqual([
      expect.objectContaining({ step: 0, outcome: 'passed', checks: expect.any(Number) }),
    ]);
    expect(result.windows[0]!.checks).toBeGreaterThanOrEqual(5);
  });

  it('a breach beyond failureLimit rolls back, and the result names the guard and its value', async () => {
    const guard: Guard = {
      name: 'error-rate',
      source: synthetic({ err: [0.01, 0.09, 0.08] }),
      query: 'err',
      max: 0.02,
      interval: '100ms',
      failureLimit: 1,
    };
    const flag = uniqueFlag('breach');
    const { result } = await runRollout(
      flagdSpec(flag, [{ exposure: 5, observe: '100ms' }, { exposure: 25, observe: '5s' }, { exposure: 100 }], {
        guards: [guard],
      }),
    );
    expect(result.phase).toBe('RolledBack');
    expect(result.exposure.percent).toBe(0);
    expect(result.reason).toMatch(/guard error-rate failed 2× \(limit 1\): 0.08 vs ≤ 0.02/);
    expect(result.measurements).toEqual([
      expect.objectContaining({ guard: 'error-rate', verdict: 'Failed', value: 0.08, step: 1 }),
    ]);
  });

  it('a critical guard rolls back on its first failure and a dead source never passes', async () => {
    const critical: Guard = {
      name: 'latency',
      source: synthetic({ p99: [0.2, 0.9] }),
      query: 'p99',
      max: 0.5,
      interval: '100ms',
      failureLimit: 5,
      critical: true,
    };
    const first = await runRollout(
      flagdSpec(uniqueFlag('critical'), [{ exposure: 5, observe: '3s' }], { guards: [critical] }),
    );
    expect(first.result.phase).toBe('RolledBack');
    expect(first.result.reason).toMatch(/critical guard latency failed: 0.9/);

    const dead: Guard = {
      name: 'err',
      source: synthetic({ e: ['error'] }),
      query: 'e',
      max: 0.1,
      interval: '100ms',
      consecutiveErrorLimit: 2,
    };
    const second = await runRollout(
      flagdSpec(uniqueFlag('dead'), [{ exposure: 5, observe: '3s' }], { guards: [dead] }),
    );
    expect(second.result.phase).toBe('RolledBack');
    expect(second.result.reason).toMatch(/3 source errors in a row \(limit 2\)/);
  });

  it('missing data pauses for a human after the window (never passes); promote continues', async () => {
    const guard: Guard = { name: 'err', source: synthetic({ e: [null] }), query: 'e', max: 0.1, interval: '100ms' };
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const { workflowId: id } = await suite.client.start(
        flagdSpec(uniqueFlag('nodata'), [{ exposure: 5, observe: '400ms' }, { exposure: 100 }], { guards: [guard] }),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Paused');
      const status = await suite.client.status(id);
      expect(status.pauseReasons).toEqual([
        expect.objectContaining({ kind: 'guard', reason: expect.stringMatching(/inconclusive guards: err/) }),
      ]);
      expect(status.exposure.percent).toBe(5);
      await suite.client.promote(id, { actor: 'ana' });
      expect((await suite.client.result(id)).phase).toBe('Completed');
    } finally {
      await h.stop();
    }
  });

  it('extends the window while data is insufficient, then rolls back per analysis.onInconclusive', async () => {
    const guard: Guard = { name: 'err', source: synthetic({ e: [null] }), query: 'e', max: 0.1, interval: '100ms' };
    const { result } = await runRollout(
      flagdSpec(uniqueFlag('extend'), [{ exposure: 5, observe: '300ms' }], {
        guards: [guard],
        analysis: { extendBy: '300ms', maxExtensions: 2, onInconclusive: 'rollback' },
      }),
    );
    expect(result.phase).toBe('RolledBack');
    expect(result.timeline.filter((t) => /window extended/.test(t.cause))).toHaveLength(2);
    expect(result.windows.map((w) => w.outcome)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
  });

  it('catches a regression in one cohort only (the worst cohort wins)', async () => {
    const guard: Guard = {
      name: 'err-by-region',
      source: {
        type: 'synthetic',
        cohorts: { label: 'region', series: { e: { 'eu-west': [0.01, 0.3], 'us-east': [0.01] } } },
      },
      query: 'e',
      max: 0.05,
      interval: '100ms',
      perCohort: 'region',
    };
    const { result } = await runRollout(
      flagdSpec(uniqueFlag('cohort'), [{ exposure: 5, observe: '3s' }], { guards: [guard] }),
    );
    expect(result.phase).toBe('RolledBack');
    expect(result.measurements[0]).toMatchObject({ cohort: 'eu-west', value: 0.3, verdict: 'Failed' });
  });

  it('shows live guard values in status while the window runs, at no history cost per check', async () => {
    const guard: Guard = { name: 'err', source: synthetic({ e: [0.001] }), query: 'e', max: 0.02, interval: '20ms' };
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const { workflowId: id } = await suite.client.start(
        flagdSpec(uniqueFlag('cost'), [{ exposure: 5, observe: '14s' }], { guards: [guard] }),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => ((await suite.client.status(id)).guards[0]?.checks ?? 0) > 3);
      const live = await suite.client.status(id);
      expect(live.guardsAsOf).toBeDefined();
      expect(live.guards[0]).toMatchObject({ name: 'err', verdict: 'Successful', value: 0.001 });
      const result = await suite.client.result(id);
      const checks = result.windows.reduce((n, w) => n + w.checks, 0);
      const events = (await suite.client.handle(id).fetchHistory()).events?.length ?? 0;
      console.log(
        `history cost: ${events} events for ${checks} guard checks (${(events / checks).toFixed(3)} per check)`,
      );
      expect(checks).toBeGreaterThanOrEqual(500);
      expect(events / checks).toBeLessThanOrEqual(1);
    } finally {
      await h.stop();
    }
  }, 60_000);
});

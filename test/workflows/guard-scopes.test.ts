import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { buildReportModel, renderReportHtml } from '../../src/report/index.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

type Guard = NonNullable<RolloutSpecInput['guards']>[number];
type Script = (number | number[] | null | 'error')[];
const synthetic = (series: Record<string, Script>, steps?: Record<string, Record<string, Script>>) => ({
  type: 'synthetic' as const,
  series,
  ...(steps ? { steps } : {}),
});

async function start(spec: RolloutSpecInput) {
  const h = await rolloutHarness(suite.env, suite.bundle);
  const { workflowId } = await suite.client.start(spec, { taskQueue: h.taskQueue });
  return { h, id: workflowId };
}

async function runRollout(spec: RolloutSpecInput) {
  const { h, id } = await start(spec);
  try {
    return { result: await suite.client.result(id), h, id };
  } finally {
    await h.stop();
  }
}

/** Activity types the rollout scheduled, in order. */
const scheduled = async (id: string) =>
  ((await suite.client.handle(id).fetchHistory()).events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((name): name is string => typeof name === 'string');

/** The payloads of every completed activity, as JSON text (what the history records). */
const completedResults = async (id: string) =>
  ((await suite.client.handle(id).fetchHistory()).events ?? [])
    .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
    .filter((d): d is Uint8Array => d instanceof Uint8Array)
    .map((d) => Buffer.from(d).toString('utf8'));

describe('guards over the whole rollout (during: rollout)', () => {
  it('a regression while the rollout waits for approval rolls it back', async () => {
    const guard: Guard = {
      name: 'error-rate',
      source: synthetic({ e: [0.001, 0.001, 0.001, 0.001, 0.3] }),
      query: 'e',
      max: 0.05,
      unit: 'ratio',
      interval: '200ms',
      during: 'rollout',
    };
    const flag = uniqueFlag('bg-approval');
    const { result, id } = await runRollout(
      flagdSpec(flag, [{ exposure: 10 }, { approval: {} }, { exposure: 100 }], { guards: [guard] }),
    );
    expect(result.phase).toBe('RolledBack');
    expect(result.exposure.percent).toBe(0);
    expect(result.reason).toBe('guard error-rate failed 1× (limit 0): 30 % vs ≤ 5 %');
    const phases = result.timeline.map((t) => t.phase);
    expect(phases.indexOf('AwaitingApproval')).toBeGreaterThan(-1);
    expect(phases.indexOf('AwaitingApproval')).toBeLessThan(phases.indexOf('RollingBack'));
    // no window ran: the background activity caught it, after the first exposure change
    expect(result.windows).toEqual([]);
    const activities = await scheduled(id);
    expect(activities.indexOf('watchGuards')).toBeGreaterThan(activities.indexOf('applyExposure'));
    expect(result.guards).toEqual([
      expect.objectContaining({ name: 'error-rate', verdict: 'Failed', during: 'rollout', unit: 'ratio', value: 0.3 }),
    ]);
  });

  it('a regression after 100 % within the final bake rolls back; a healthy bake completes', async () => {
    const regressing: Guard = {
      name: 'latency',
      // step 1 is the bake (after the only step): its third check regresses
      source: synthetic({ p99: [0.1] }, { '1': { p99: [0.1, 0.1, 0.9] } }),
      query: 'p99',
      max: 0.5,
      unit: 's',
      interval: '200ms',
    };
    const baked = await runRollout(
      flagdSpec(uniqueFlag('bake-fail'), [{ exposure: 100, observe: '400ms' }], {
        guards: [regressing],
        analysis: { finalBake: '5s' },
      }),
    );
    expect(baked.result.phase).toBe('RolledBack');
    expect(baked.result.reason).toBe('guard latency failed 1× (limit 0): 900 ms vs ≤ 500 ms');
    expect(baked.result.timeline.map((t) => t.cause)).toContain('final bake: observe 5s at 100%');
    expect(baked.result.windows.map((w) => [w.step, w.outcome])).toEqual([
      [0, 'passed'],
      [1, 'failed'],
    ]);

    const healthy = await runRollout(
      flagdSpec(uniqueFlag('bake-pass'), [{ exposure: 100 }], {
        guards: [{ ...regressing, source: synthetic({ p99: [0.1] }) }],
        analysis: { finalBake: '600ms' },
      }),
    );
    expect(healthy.result.phase).toBe('Completed');
    expect(healthy.result.windows).toEqual([expect.objectContaining({ step: 1, outcome: 'passed' })]);
  });
});

describe('one tally per guard: budget over the rollout or per window', () => {
  // F,S,F,S,S across five windows: a failing window fails its first check, then passes the rest
  const F: Script = [0.5, 0, 0];
  const S: Script = [0];
  const spec = (budget: 'rollout' | 'window') =>
    flagdSpec(
      uniqueFlag(`budget-${budget}`),
      [
        { exposure: 1, observe: '600ms' },
        { exposure: 5, observe: '600ms' },
        { exposure: 10, observe: '600ms' },
        { exposure: 25, observe: '600ms' },
        { exposure: 50, observe: '600ms' },
        { exposure: 100 },
      ],
      {
        guards: [
          {
            name: 'errors',
            source: synthetic({ e: S }, { '0': { e: F }, '1': { e: S }, '2': { e: F }, '3': { e: S }, '4': { e: S } }),
            query: 'e',
            max: 0.1,
            interval: '200ms',
            failureLimit: 1,
            budget,
          },
        ],
      },
    );

  it('F,S,F,S,S with failureLimit 1 rolls back under budget: rollout (the default, as Flagger)', async () => {
    const { result } = await runRollout(spec('rollout'));
    expect(result.phase).toBe('RolledBack');
    expect(result.reason).toBe('guard errors failed 2× (1 before this window) (limit 1): 0.5 vs ≤ 0.1');
    expect(result.windows.map((w) => w.outcome)).toEqual(['passed', 'passed', 'failed']);
    expect(result.guards).toEqual([expect.objectContaining({ name: 'errors', failures: 2, failureLimit: 1 })]);
  });

  it('the same run passes under budget: window (each window starts an empty tally, as Argo)', async () => {
    const { result } = await runRollout(spec('window'));
    expect(result.phase).toBe('Completed');
    expect(result.windows.map((w) => w.outcome)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
  });

  it('pushed and pulled failures add up in one tally', async () => {
    const guard: Guard = {
      name: 'errors',
      source: synthetic({ e: [0, 0.5, 0] }),
      query: 'e',
      max: 0.1,
      interval: '200ms',
      failureLimit: 1,
    };
    const { h, id } = await start(
      flagdSpec(uniqueFlag('push-pull'), [{ exposure: 10, observe: '800ms' }, { approval: {} }, { exposure: 100 }], {
        guards: [guard],
      }),
    );
    try {
      // one pulled failure (within the limit) in the window, which passes
      await waitFor(async () => (await suite.client.status(id)).phase === 'AwaitingApproval', 30_000);
      const waiting = await suite.client.status(id);
      expect(waiting.windows).toEqual([expect.objectContaining({ outcome: 'passed' })]);
      expect(waiting.guards).toEqual([expect.objectContaining({ name: 'errors', failures: 1, failureLimit: 1 })]);
      // one pushed breach makes two
      await suite.client.breach(id, { guard: 'errors', value: 0.4, source: 'alertmanager' });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toBe(
        'guard errors breached (value 0.4) per alertmanager: failed 2× (limit 1), 1 pushed and 1 measured',
      );
    } finally {
      await h.stop();
    }
  });
});

describe('guard semantics', () => {
  it('a failing dry-run guard changes nothing, and shows in status, history and the report', async () => {
    const dry: Guard = {
      name: 'new-latency-slo',
      source: synthetic({ p99: [0.9] }),
      query: 'p99',
      max: 0.2,
      unit: 's',
      interval: '200ms',
      dryRun: true,
    };
    const live: Guard = { name: 'errors', source: synthetic({ e: [0] }), query: 'e', max: 0.1, interval: '200ms' };
    const { h, id } = await start(
      flagdSpec(uniqueFlag('dry-run'), [{ exposure: 10, observe: '600ms' }, { exposure: 100 }], {
        guards: [live, dry],
      }),
    );
    const result = await suite.client.result(id);
    // the report reads status, which a worker answers
    const status = await suite.client.status(id).finally(() => h.stop());
    expect(result.phase).toBe('Completed');
    expect(result.windows).toEqual([
      expect.objectContaining({
        outcome: 'passed',
        reason: 'all guards successful (dry run, not acted on: new-latency-slo Failed)',
      }),
    ]);
    expect(result.guards).toEqual([
      expect.objectContaining({ name: 'errors', verdict: 'Successful' }),
      expect.objectContaining({ name: 'new-latency-slo', verdict: 'Failed', dryRun: true, value: 0.9 }),
    ]);
    expect(result.measurements).toEqual([
      expect.objectContaining({
        guard: 'new-latency-slo',
        dryRun: true,
        detail: 'dry run: guard new-latency-slo failed 1× (limit 0): 900 ms vs ≤ 200 ms',
      }),
    ]);
    // history: the window's recorded result carries the dry-run verdict
    expect((await completedResults(id)).some((r) => r.includes('"dryRun":true') && r.includes('new-latency-slo'))).toBe(
      true,
    );
    const html = renderReportHtml(status, { id, generatedAt: new Date().toISOString() });
    expect(html).toContain('Guard new-latency-slo (dry run)');
    expect(html).toContain('dry run: measured and shown, never acted on');
    expect(
      buildReportModel(status, { id, generatedAt: new Date().toISOString() }).guards.find(
        (g) => g.name === 'new-latency-slo',
      )?.bounds,
    ).toEqual({
      max: 0.2,
    });
  });

  it('a source error is checked again after errorInterval, off schedule, so a blip at the window end passes', async () => {
    const guard: Guard = {
      name: 'errors',
      // the only scheduled check lands on the window end and errors; the retry 200 ms later answers
      source: synthetic({ e: ['error', 0.01] }),
      query: 'e',
      max: 0.1,
      interval: '1s',
      errorInterval: '200ms',
    };
    const { result } = await runRollout(
      flagdSpec(uniqueFlag('error-retry'), [{ exposure: 10, observe: '1s' }, { exposure: 100 }], { guards: [guard] }),
    );
    expect(result.phase).toBe('Completed');
    expect(result.windows).toEqual([expect.objectContaining({ outcome: 'passed', checks: 2 })]);
  });

  it('a value in the gray zone holds the window: neither a pass nor a failure', async () => {
    const guard: Guard = {
      name: 'errors',
      source: synthetic({ e: [0.03] }),
      query: 'e',
      max: 0.05,
      warnMax: 0.02,
      unit: 'ratio',
      interval: '200ms',
    };
    const { result } = await runRollout(
      flagdSpec(uniqueFlag('gray'), [{ exposure: 10, observe: '400ms' }, { exposure: 100 }], {
        guards: [guard],
        analysis: { onInconclusive: 'rollback' },
      }),
    );
    expect(result.phase).toBe('RolledBack');
    expect(result.reason).toBe(
      'inconclusive guards: errors: 3 % is in the gray zone: above 2 %, not above the maximum 5 %.',
    );
  });

  it('a status-code guard calls its webhook with the rollout’s context and fails on an unexpected status', async () => {
    const bodies: unknown[] = [];
    let answer = 204;
    const server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        bodies.push({ method: req.method, body: JSON.parse(text || 'null') });
        res.writeHead(answer).end(answer === 204 ? '' : 'load test failed: p99 1.2 s');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/load-test`;
    try {
      const guard: Guard = {
        name: 'load-test',
        source: { type: 'webhook', url },
        webhook: {},
        interval: '200ms',
      };
      const passed = await runRollout(
        flagdSpec(uniqueFlag('webhook-pass'), [{ exposure: 10, observe: '400ms' }, { exposure: 100 }], {
          guards: [guard],
        }),
      );
      expect(passed.result.phase).toBe('Completed');
      expect(passed.result.guards).toEqual([
        expect.objectContaining({ name: 'load-test', verdict: 'Successful', value: 204, threshold: 'status 2xx' }),
      ]);
      expect(bodies[0]).toEqual({
        method: 'POST',
        body: expect.objectContaining({
          guard: 'load-test',
          step: 0,
          check: 0,
          rollout: 'test-rollout',
          exposure: 10,
          target: expect.stringMatching(/^webhook-pass-/),
        }),
      });
      answer = 500;
      const failed = await runRollout(
        flagdSpec(uniqueFlag('webhook-fail'), [{ exposure: 10, observe: '400ms' }, { exposure: 100 }], {
          guards: [guard],
        }),
      );
      expect(failed.result.phase).toBe('RolledBack');
      expect(failed.result.reason).toBe('guard load-test failed 1× (limit 0): 500 vs status 2xx');
      expect(failed.result.measurements[0]?.detail).toBe(
        'POST answered 500, expected status 2xx: load test failed: p99 1.2 s',
      );
    } finally {
      server.close();
    }
  });
});

import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { observeWindow, type ObserveWindowInput, type WindowReport } from '../../activities/guards/observe-window.js';
import { createSyntheticSource } from '../../activities/sources/index.js';
import { MeasuredGuard } from '../../src/domain/guard-spec.schema.js';

type Script = (number | null | 'error')[];

/** A threshold guard (max 0.1) over a scripted series: check n reads element n, the last repeats. */
const guard = (name: string, script: Script, extra: Record<string, unknown> = {}): MeasuredGuard =>
  MeasuredGuard.parse({
    name,
    source: { type: 'synthetic', series: { e: script } },
    query: 'e',
    max: 0.1,
    interval: '100ms',
    ...extra,
  });

async function run(
  guards: MeasuredGuard[],
  windowMs: number,
  extra: Partial<ObserveWindowInput> = {},
): Promise<WindowReport> {
  const start = Date.now();
  const input: ObserveWindowInput = { guards, step: 0, windowStartMs: start, windowEndMs: start + windowMs, ...extra };
  return (await new MockActivityEnvironment().run(
    (i: ObserveWindowInput) =>
      observeWindow(i, (g) => createSyntheticSource(g.source as Parameters<typeof createSyntheticSource>[0])),
    input,
  )) as WindowReport;
}

describe('observeWindow: one activity applies every guard rule', () => {
  it('initialDelay moves the first check: 2 checks in a 400 ms window instead of 4', async () => {
    const plain = await run([guard('g', [0])], 400);
    const delayed = await run([guard('g', [0], { initialDelay: '300ms' })], 400);
    expect(plain.tallies[0]!.checks).toBe(4);
    expect(delayed.tallies[0]!.checks).toBe(2);
    expect(delayed.outcome).toBe('passed');
  });

  it('failures from before the window count against the limit at once', async () => {
    const report = await run([guard('g', [0.5, 0], { failureLimit: 1 })], 400, { prior: [1] });
    expect(report.outcome).toBe('failed');
    expect(report.tallies[0]).toMatchObject({ checks: 1, failed: 1, prior: 1 });
    expect(report.reason).toBe('guard g failed 2× (1 before this window) (limit 1): 0.5 vs ≤ 0.1');
    expect(report.verdicts).toEqual([expect.objectContaining({ guard: 'g', verdict: 'Failed' })]);
  });

  it('a failing dry-run guard never ends the window; it is recorded once, marked, and the window passes', async () => {
    const report = await run([guard('live', [0]), guard('dry', [0.5], { dryRun: true })], 400);
    expect(report.outcome).toBe('passed');
    expect(report.tallies.map((t) => t.checks)).toEqual([4, 4]);
    expect(report.decisive).toEqual([expect.objectContaining({ guard: 'dry', dryRun: true, check: 0 })]);
    expect(report.verdicts).toEqual([
      { guard: 'live', verdict: 'Successful' },
      expect.objectContaining({ guard: 'dry', verdict: 'Failed', dryRun: true }),
    ]);
  });

  it('a source error is retried after errorInterval, past the window end, until the error limit says failed', async () => {
    const report = await run([guard('g', ['error'], { errorInterval: '50ms', consecutiveErrorLimit: 2 })], 100);
    expect(report.outcome).toBe('failed');
    expect(report.tallies[0]).toMatchObject({ checks: 3, errors: 3, consecutiveErrors: 3 });
    expect(report.reason).toMatch(/^guard g: 3 source errors in a row \(limit 2\): source error: /);
  });

  it('the failing guard is the one named failed, whatever its name contains (no matching by text)', async () => {
    const report = await run([guard('errors', [0]), guard('errors-2', [0.5])], 300);
    expect(report.verdicts.map((v) => [v.guard, v.verdict])).toEqual([
      ['errors', 'Successful'],
      ['errors-2', 'Failed'],
    ]);
  });

  it('a background segment starts from the tallies it is given and judges no missing data at its end', async () => {
    const first = await run([guard('g', [0, null])], 200, { mode: 'background' });
    expect(first.outcome).toBe('passed');
    expect(first.tallies[0]!.checks).toBe(2);
    const second = await run([guard('g', [0, null, 0.5])], 300, { mode: 'background', tallies: first.tallies });
    // check 2 of the script (the third over both segments) fails
    expect(second.outcome).toBe('failed');
    expect(second.tallies[0]!.checks).toBe(3);
  });
});

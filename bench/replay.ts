/**
 * Replay cost: `Worker.runReplayHistories` over the checked-in histories of the current workflow version
 * (`test/replay/histories/<CURRENT_HISTORY_SET>/`, every recorded scenario) repeated to N, against the bench's
 * pre-built bundle. The headline divides the whole call, replay-worker start-up included, by N; the steady rate
 * leaves the first history out. Older sets (recorded before a patch) are replayed too, as a separate row: they
 * take the legacy branches.
 */
import { performance } from 'node:perf_hooks';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { CURRENT_HISTORY_SET, historySets, loadHistories, type RecordedHistory } from '../test/helpers/histories.js';
import type { BenchContext, Measurement } from './context.js';
import { createSharedWorker, runOne, type Kind } from './overhead.js';
import { atMost, percentile, type Row } from './report.js';

interface ReplayRun {
  n: number;
  totalMs: number;
  steadyMs: number;
  firstMs: number;
  gaps: number[];
  failures: { name: string; error: string }[];
}

async function replayCycling(
  bundle: WorkflowBundleWithSourceMap,
  recorded: RecordedHistory[],
  n: number,
): Promise<ReplayRun> {
  const queue = Array.from({ length: n }, (_, i) => recorded[i % recorded.length]!);
  const gaps: number[] = [];
  const failures: { name: string; error: string }[] = [];
  const t0 = performance.now();
  let last = t0;
  let firstAt = Number.NaN;
  let i = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: bundle },
    queue.map((r) => ({ workflowId: r.workflowId, history: r.history })),
  )) {
    const now = performance.now();
    if (i === 0) firstAt = now;
    else gaps.push(now - last);
    last = now;
    if (result.error) failures.push({ name: `${queue[i]!.set}/${queue[i]!.name}`, error: result.error.message });
    i += 1;
  }
  const totalMs = performance.now() - t0;
  return { n: i, totalMs, steadyMs: (last - firstAt) / Math.max(1, i - 1), firstMs: firstAt - t0, gaps, failures };
}

/**
 * Same-shape histories recorded in this run, on the overhead measurement's shared worker: rollouts of 5 exposure
 * steps with 10 ms windows (memory target, no guards) beside the overhead baseline (5 empty activities + 5
 * timers), so replay cost can be read against what the SDK itself costs for the same activities and timers.
 */
async function recordSameShape(ctx: BenchContext, count: number): Promise<Record<Kind, RecordedHistory[]>> {
  const running = await createSharedWorker(ctx, `bench-replay-shape-${ctx.tag}`);
  try {
    const record = async (kind: Kind, i: number): Promise<RecordedHistory> => {
      const workflowId = await runOne(ctx, running.taskQueue, kind, `${ctx.tag}-replay-${kind}-${i}`, 10);
      if (workflowId.includes(': ')) throw new Error(`same-shape ${kind}: ${workflowId}`);
      const history = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
      return { set: 'this run', name: kind, workflowId, history, events: history.events?.length ?? 0 };
    };
    const idx = Array.from({ length: count }, (_, i) => i);
    return {
      rollout: await Promise.all(idx.map((i) => record('rollout', i))),
      baseline: await Promise.all(idx.map((i) => record('baseline', i))),
    };
  } finally {
    await running.stop();
  }
}

export const replay: Measurement = {
  name: 'replay',
  title: 'Replay: Worker.runReplayHistories over recorded histories',
  async run(ctx) {
    const n = ctx.size('REPLAY_N', 100, 20);
    const recorded = await loadHistories(CURRENT_HISTORY_SET);
    if (recorded.length === 0) throw new Error(`no histories in set ${CURRENT_HISTORY_SET}`);
    const events = (rs: RecordedHistory[], k: number) =>
      Array.from({ length: k }, (_, i) => rs[i % rs.length]!.events).reduce((a, b) => a + b, 0);
    ctx.progress(
      `${n} replays cycling ${recorded.length} histories of set ${CURRENT_HISTORY_SET} (${events(recorded, n)} events in all)`,
    );
    const run = await replayCycling(ctx.bundle, recorded, n);
    const older = (await historySets()).filter((s) => s !== CURRENT_HISTORY_SET);
    const legacy = older.length ? (await Promise.all(older.map((s) => loadHistories(s)))).flat() : [];
    const legacyRun = legacy.length ? await replayCycling(ctx.bundle, legacy, Math.min(n, 40)) : undefined;
    ctx.progress('recording same-shape histories: 5-step rollouts and the minimal baseline workflow');
    const shape = await recordSameShape(ctx, 3);
    const shapeN = Math.min(n, 60);
    const rolloutShape = await replayCycling(ctx.bundle, shape.rollout, shapeN);
    const baselineShape = await replayCycling(ctx.bundle, shape.baseline, shapeN);
    const failures = [
      ...run.failures,
      ...(legacyRun?.failures ?? []),
      ...rolloutShape.failures,
      ...baselineShape.failures,
    ];
    const rows: Row[] = [
      {
        metric: `ms per history (whole call / ${run.n})`,
        value: run.totalMs / run.n,
        unit: 'ms',
        n: run.n,
        target: atMost(20),
      },
      { metric: 'ms per history after the first (steady)', value: run.steadyMs, unit: 'ms', n: run.n - 1 },
      {
        metric: 'slowest single replay (after the first)',
        value: run.gaps.length ? Math.max(...run.gaps) : Number.NaN,
        unit: 'ms',
      },
      { metric: 'first replay incl. replay-worker start-up', value: run.firstMs, unit: 'ms' },
      ...(legacyRun
        ? [
            {
              metric: `older sets (${older.join(', ')}): ms per history, steady`,
              value: legacyRun.steadyMs,
              unit: 'ms',
              n: legacyRun.n - 1,
              note: 'legacy branches (patched() false)',
            } satisfies Row,
          ]
        : []),
      {
        metric: `5-step rollout (${shape.rollout[0]!.events} events): ms per history, steady`,
        value: rolloutShape.steadyMs,
        unit: 'ms',
        n: rolloutShape.n - 1,
      },
      {
        metric: `minimal workflow, same activities + timers (${shape.baseline[0]!.events} events): ms, steady`,
        value: baselineShape.steadyMs,
        unit: 'ms',
        n: baselineShape.n - 1,
        note: "the SDK's own replay cost for the same activities and timers: a floor no workflow code removes",
      },
      {
        metric: 'same-shape replay ratio, rollout / minimal',
        value: rolloutShape.steadyMs / baselineShape.steadyMs,
        unit: '×',
      },
      {
        metric: 'replays that failed (nondeterminism)',
        value: failures.length,
        unit: 'histories',
        target: atMost(0),
        ...(failures.length
          ? { note: `${[...new Set(failures.map((f) => f.name))].join(', ')}: ${failures[0]!.error.slice(0, 120)}` }
          : {}),
      },
    ];
    return {
      rows,
      details: {
        n: run.n,
        set: CURRENT_HISTORY_SET,
        distinct: recorded.map((r) => ({ name: r.name, events: r.events })),
        totalMs: run.totalMs,
        gapP50: percentile(run.gaps, 50),
        ...(legacyRun ? { olderSets: older, olderSteadyMs: legacyRun.steadyMs, olderN: legacyRun.n } : {}),
        sameShape: {
          rolloutEvents: shape.rollout[0]!.events,
          baselineEvents: shape.baseline[0]!.events,
          rolloutSteadyMs: rolloutShape.steadyMs,
          baselineSteadyMs: baselineShape.steadyMs,
        },
        failures: failures.slice(0, 20),
        bundle: 'bench/bench-workflows.ts, built once before the measurement (bundling not timed)',
      },
    };
  },
};

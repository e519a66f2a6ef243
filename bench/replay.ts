/**
 * Replay cost: `Worker.runReplayHistories` over the checked-in histories (`test/replay/histories/*.json`, every
 * recorded scenario) repeated to N, against the bench's pre-built bundle. The headline divides the whole call,
 * replay-worker start-up included, by N; the steady rate leaves the first history out.
 */
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Measurement } from './context.js';
import { atMost, percentile, type Row } from './report.js';

const HISTORIES = new URL('../test/replay/histories/', import.meta.url);

interface Recorded {
  name: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
  events: number;
}

/** Each checked-in history under the workflow ID it was recorded with (`ids.json`), as the replay test does. */
async function loadRecorded(): Promise<Recorded[]> {
  const ids = JSON.parse(await readFile(new URL('ids.json', HISTORIES), 'utf8').catch(() => '{}')) as Record<string, string>;
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json') && f !== 'ids.json').sort();
  return Promise.all(
    files.map(async (file) => {
      const name = file.replace(/\.json$/, '');
      const history = historyFromJSON(JSON.parse(await readFile(new URL(file, HISTORIES), 'utf8')));
      return { name, workflowId: ids[name] ?? name, history, events: history.events?.length ?? 0 };
    }),
  );
}

export const replay: Measurement = {
  name: 'replay',
  title: 'Replay: Worker.runReplayHistories over recorded histories',
  async run(ctx) {
    const n = ctx.size('REPLAY_N', 100, 20);
    const recorded = await loadRecorded();
    if (recorded.length === 0) throw new Error(`no histories in ${HISTORIES.pathname}`);
    const queue = Array.from({ length: n }, (_, i) => recorded[i % recorded.length]!);
    ctx.progress(`${n} replays cycling ${recorded.length} checked-in histories (${queue.reduce((s, r) => s + r.events, 0)} events in all)`);

    const gaps: number[] = [];
    const failures: { name: string; error: string }[] = [];
    const t0 = performance.now();
    let last = t0;
    let firstAt = Number.NaN;
    let i = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: ctx.bundle }, queue.map((r) => ({ workflowId: r.workflowId, history: r.history })))) {
      const now = performance.now();
      if (i === 0) firstAt = now;
      else gaps.push(now - last);
      last = now;
      if (result.error) failures.push({ name: queue[i]!.name, error: result.error.message });
      i += 1;
    }
    const totalMs = performance.now() - t0;
    const rows: Row[] = [
      { metric: `ms per history (whole call / ${i})`, value: totalMs / i, unit: 'ms', n: i, target: atMost(20) },
      { metric: 'ms per history after the first (steady)', value: (last - firstAt) / Math.max(1, i - 1), unit: 'ms', n: i - 1 },
      { metric: 'slowest single replay (after the first)', value: gaps.length ? Math.max(...gaps) : Number.NaN, unit: 'ms' },
      { metric: 'first replay incl. replay-worker start-up', value: firstAt - t0, unit: 'ms' },
      {
        metric: 'replays that failed (nondeterminism)',
        value: failures.length,
        unit: 'histories',
        target: atMost(0),
        ...(failures.length ? { note: `${[...new Set(failures.map((f) => f.name))].join(', ')}: ${failures[0]!.error.slice(0, 120)}` } : {}),
      },
    ];
    return {
      rows,
      details: {
        n: i,
        distinct: recorded.map((r) => ({ name: r.name, events: r.events })),
        totalMs,
        gapP50: percentile(gaps, 50),
        failures: failures.slice(0, 20),
        bundle: 'bench/bench-workflows.ts, built once before the measurement (bundling not timed)',
      },
    };
  },
};

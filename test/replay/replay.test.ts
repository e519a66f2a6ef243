import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { installRuntime } from '../../src/worker/runtime.js';
import {
  ROLLOUT_V2_PATCH,
  ROLLOUT_V3_PATCH,
  ROLLOUT_V4_PATCH,
  ROLLOUT_V5_PATCH,
  ROLLOUT_V6_PATCH,
  ROLLOUT_V7_PATCH,
  ROLLOUT_V8_PATCH,
} from '../../workflows/patches.js';
import {
  CURRENT_HISTORY_SET,
  hasPatchMarker,
  historySets,
  loadHistories,
  type RecordedHistory,
} from '../helpers/histories.js';
import { bundle } from '../helpers/temporal.js';

async function replayAll(workflowBundle: WorkflowBundleWithSourceMap, histories: RecordedHistory[]) {
  const failures: { workflowId: string; error: string }[] = [];
  let count = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
    count += 1;
    if (result.error)
      failures.push({ workflowId: result.workflowId, error: String(result.error.message ?? result.error) });
  }
  return { count, failures };
}

describe('replay of checked-in histories', () => {
  let current: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    installRuntime(createLogger({ level: 'error' }));
    current = await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname);
  });

  it('keeps a set recorded before each patch and one after the last', async () => {
    expect(CURRENT_HISTORY_SET).toBe('v8');
    const sets = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8'];
    expect(await historySets()).toEqual(expect.arrayContaining(sets));
    const [v1, v2, v3, v4, v5, v6, v7, v8] = await Promise.all(sets.map((set) => loadHistories(set)));
    expect(v1!.length).toBeGreaterThanOrEqual(11);
    expect(v2!.length).toBeGreaterThanOrEqual(12);
    expect(v3!.length).toBeGreaterThanOrEqual(14);
    expect(v4!.length).toBeGreaterThanOrEqual(15);
    expect(v5!.length).toBeGreaterThanOrEqual(19);
    expect(v6!.length).toBeGreaterThanOrEqual(20);
    expect(v7!.length).toBeGreaterThanOrEqual(21);
    expect(v8!.length).toBeGreaterThanOrEqual(22);
    const names = (hs: RecordedHistory[], patch: string) =>
      hs.filter((h) => hasPatchMarker(h.history, patch)).map((h) => h.name);
    // so replay takes the legacy branch for every v1 history and the patched branch for every later one
    expect(names(v1!, ROLLOUT_V2_PATCH)).toEqual([]);
    expect(v2!.filter((h) => !hasPatchMarker(h.history, ROLLOUT_V2_PATCH)).map((h) => h.name)).toEqual([]);
    expect(v3!.filter((h) => !hasPatchMarker(h.history, ROLLOUT_V2_PATCH)).map((h) => h.name)).toEqual([]);
    // v2 runs never published a command's in-phase decision; v3 runs that promoted a window or approved a step did
    expect(names(v2!, ROLLOUT_V3_PATCH)).toEqual([]);
    expect(names(v3!, ROLLOUT_V3_PATCH)).toEqual(
      expect.arrayContaining([
        'approval-wrong-then-right',
        'pause-resume-promote',
        'promote-and-approve-notified',
        'promote-twice-then-cancel',
      ]),
    );
    // v3 runs ran no preflight; every v4 rollout that got past its spec check did (a drill's own history records
    // its child's preflight in the child's history, not its own)
    expect(names(v3!, ROLLOUT_V4_PATCH)).toEqual([]);
    expect(
      v4!
        .filter((h) => !hasPatchMarker(h.history, ROLLOUT_V4_PATCH))
        .map((h) => h.name)
        .sort(),
    ).toEqual(['drill-signal-pass']);
    // v4 runs kept per-window tallies; every v5 rollout that got past its spec check decided guards the v5 way
    expect(names(v4!, ROLLOUT_V5_PATCH)).toEqual([]);
    expect(
      v5!
        .filter((h) => !hasPatchMarker(h.history, ROLLOUT_V5_PATCH))
        .map((h) => h.name)
        .sort(),
    ).toEqual(['drill-signal-pass']);
    // only a run that promoted to full took the v6 branch
    expect(names(v5!, ROLLOUT_V6_PATCH)).toEqual([]);
    expect(names(v6!, ROLLOUT_V6_PATCH)).toEqual(['promote-full']);
    // only an undo run took the v7 branch
    expect(names(v6!, ROLLOUT_V7_PATCH)).toEqual([]);
    expect(names(v7!, ROLLOUT_V7_PATCH)).toEqual(['undo-completed']);
    // only a run with a shadow step took the v8 branch
    expect(names(v7!, ROLLOUT_V8_PATCH)).toEqual([]);
    expect(names(v8!, ROLLOUT_V8_PATCH)).toEqual(['shadow-step']);
  });

  it('v8: a shadow step set the companion share at 0 % live, and the next step ended it', async () => {
    const [h] = (await loadHistories('v8')).filter((x) => x.name === 'shadow-step');
    const applied = (h!.history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'applyExposure')
      .map(
        (a) =>
          (JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')) as { exposure: object }).exposure,
      );
    expect(applied).toEqual([{ percent: 0, shadow: 10 }, { percent: 10 }, { percent: 100 }]);
  });

  it('v6: a full promotion made one exposure change to the last step and completed', async () => {
    const [h] = (await loadHistories('v6')).filter((x) => x.name === 'promote-full');
    const scheduled = (h!.history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => name !== undefined && name !== null);
    expect(scheduled).toEqual(['preflight', 'applyExposure', 'applyExposure']);
    const completed = (h!.history.events ?? []).find((e) => e.workflowExecutionCompletedEventAttributes);
    const result = JSON.parse(
      Buffer.from(completed!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!.data!).toString('utf8'),
    ) as { phase: string; exposure: { percent: number } };
    expect(result).toMatchObject({ phase: 'Completed', exposure: { percent: 100 } });
  });

  it('v5: a background guard failed during an approval wait, in its own activity, after the first exposure change', async () => {
    const [h] = (await loadHistories('v5')).filter((x) => x.name === 'background-guard-approval-rollback');
    const scheduled = (h!.history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => name !== undefined && name !== null);
    expect(scheduled.slice(0, 3)).toEqual(['preflight', 'applyExposure', 'watchGuards']);
    expect(scheduled).not.toContain('observeWindow');
    const completed = (h!.history.events ?? []).find((e) => e.workflowExecutionCompletedEventAttributes);
    const result = JSON.parse(
      Buffer.from(completed!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!.data!).toString('utf8'),
    ) as { phase: string; reason: string; timeline: { phase: string }[] };
    expect(result.phase).toBe('RolledBack');
    expect(result.reason).toBe('guard error-rate failed 1× (limit 0): 30 % vs ≤ 5 %');
    expect(result.timeline.map((t) => t.phase)).toContain('AwaitingApproval');
  });

  it('v4: a rollout whose guard source does not answer ends Failed in its preflight, before any exposure change', async () => {
    const [h] = (await loadHistories('v4')).filter((x) => x.name === 'preflight-failed');
    const scheduled = (h!.history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => name !== undefined && name !== null);
    expect(scheduled).toEqual(['preflight']);
    const completed = (h!.history.events ?? []).find((e) => e.workflowExecutionCompletedEventAttributes);
    const result = JSON.parse(
      Buffer.from(completed!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!.data!).toString('utf8'),
    ) as { phase: string; reason: string };
    expect(result.phase).toBe('Failed');
    expect(result.reason).toMatch(
      /^preflight failed, nothing was changed: guard errors: Prometheus http:\/\/127\.0\.0\.1:9\//,
    );
  });

  it('v3: the approval and the promotion of a notified rollout each scheduled their own notification', async () => {
    const [h] = (await loadHistories('v3')).filter((x) => x.name === 'promote-and-approve-notified');
    const causes = (h!.history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'notify')
      .map(
        (a) =>
          (JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')) as { event: { cause: string } })
            .event.cause,
      );
    expect(causes).toContain('promoted by ana: window ended early');
    expect(causes).toContain('step 1 approved by ana');
  });

  it('replays every recorded scenario of every set against the current workflow code without nondeterminism', async () => {
    const histories = await loadHistories();
    const { count, failures } = await replayAll(current, histories);
    expect(count).toBe(histories.length);
    expect(failures).toEqual([]);
  });

  it('replays every set against the compiled workflows too (dist, what `rollout worker` bundles), legacy branch included', async () => {
    // tsc must keep the eager-import hint, or webpack would split the legacy spec check into a chunk the sandbox cannot load
    const compiled = fileURLToPath(new URL('../../dist/workflows/index.js', import.meta.url));
    expect(existsSync(compiled), 'npm test builds dist first').toBe(true);
    const histories = await loadHistories();
    const { count, failures } = await replayAll(await bundle(compiled), histories);
    expect(count).toBe(histories.length);
    expect(failures).toEqual([]);
  });

  it('detects a workflow whose command sequence drifted (the check can fail)', async () => {
    const histories = await loadHistories();
    const { count, failures } = await replayAll(
      await bundle(new URL('../fixtures/drifted-workflows.ts', import.meta.url).pathname),
      histories,
    );
    expect(count).toBe(histories.length);
    expect(failures.length).toBe(count);
  });
});

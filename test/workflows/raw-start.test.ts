import type { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { MemoryTargetRegistry } from '../../activities/targets/index.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { createLogger } from '../../src/logger.js';
import { pauseUpdate, statusQuery, WORKFLOW_TYPE } from '../../workflows/messages.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const suite = useRolloutSuite();

/** A worker whose spec check waits for `open()`: the window before the workflow knows its spec is held open. */
async function gatedWorker() {
  const taskQueue = uniqueTaskQueue('raw');
  const memory = new MemoryTargetRegistry();
  const real = createActivities({ logger: createLogger({ level: 'warn' }), memory });
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let checks = 0;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.bundle,
    activities: {
      ...real,
      validateRolloutSpec: async (spec: unknown) => {
        checks += 1;
        await gate;
        return real.validateRolloutSpec(spec);
      },
    },
  });
  const run = worker.run();
  return {
    taskQueue,
    memory,
    open: () => open(),
    checks: () => checks,
    stop: async () => (worker.shutdown(), await run),
  };
}

const memorySpec = (flag: string, steps: unknown[]) => ({
  name: 'raw',
  target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
  steps,
});

/** The search attribute values each upsert in a history wrote, in order. */
function upserts(history: ReturnType<typeof historyFromJSON>): Record<string, unknown>[] {
  return (history.events ?? []).flatMap((e) => {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (!fields) return [];
    return [
      Object.fromEntries(
        Object.entries(fields).map(([k, p]) => [k, JSON.parse(Buffer.from(p.data!).toString('utf8')) as unknown]),
      ),
    ];
  });
}

describe('a rollout started by workflow type name, as any Temporal SDK would', () => {
  it('answers status while its spec is being checked, and holds an Update until the handlers exist', async () => {
    const w = await gatedWorker();
    try {
      const flag = uniqueFlag('raw');
      const handle = await suite.env.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: w.taskQueue,
        workflowId: rolloutIdForFlag(flag),
        args: [{ spec: memorySpec(flag, [{ exposure: 5, observe: '1h' }, { exposure: 100 }]) }],
      });
      await waitFor(() => w.checks() > 0, 20_000, 'the spec check to start');
      const early = await handle.query(statusQuery);
      expect(early).toMatchObject({
        name: 'raw',
        target: flag,
        phase: 'Pending',
        step: 0,
        totalSteps: 2,
        steps: ['checking the spec', 'checking the spec'],
      });

      const paused = handle.executeUpdate(pauseUpdate, { args: [{ reason: 'hold on', actor: 'ana' }] });
      w.open();
      await expect(paused).resolves.toMatchObject({ accepted: true });
      await waitFor(async () => (await handle.query(statusQuery)).pauseReasons.length === 1, 20_000, 'the pause');
      const status = await handle.query(statusQuery);
      expect(status.steps).toEqual(['exposure 5%, observe 1h', 'exposure 100%']);
      await handle.terminate('test done');
    } finally {
      w.open();
      await w.stop();
    }
  });

  it('writes its own search attributes when a listed value changes, not for states that last under a second', async () => {
    const w = await gatedWorker();
    w.open();
    try {
      const flag = uniqueFlag('raw-sa');
      const handle = await suite.env.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: w.taskQueue,
        workflowId: rolloutIdForFlag(flag),
        args: [
          {
            spec: memorySpec(flag, [
              { exposure: 5, observe: '1200ms' },
              { exposure: 25, observe: '10ms' },
              { exposure: 100 },
            ]),
          },
        ],
      });
      await handle.result();
      const written = upserts(await handle.fetchHistory()).filter((u) => !('TemporalChangeVersion' in u));
      expect(written).toEqual([
        // Progressing is never written; the 10 ms window at 25 % is not worth a write; Completed always is
        { RolloutPhase: 'Observing', RolloutTarget: flag, RolloutExposure: 5, RolloutStep: 0 },
        { RolloutPhase: 'Completed', RolloutExposure: 100, RolloutStep: 3 },
      ]);
      const described = await handle.describe();
      expect(described.searchAttributes).toMatchObject({
        RolloutPhase: ['Completed'],
        RolloutExposure: [100],
        RolloutStep: [3],
        RolloutTarget: [flag],
      });
    } finally {
      await w.stop();
    }
  });
});

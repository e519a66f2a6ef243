import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { RolloutClient } from '../../src/client/rollout-client.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { connectTestEnv, uniqueTaskQueue } from '../helpers/temporal.js';
import { spawnWorkerProcess, writeWorkflowBundle } from '../helpers/worker-process.js';

/**
 * Two worker processes share a task queue; one is SIGKILLed in the middle of observation windows. Its cached
 * workflows move to the survivor once the sticky queue times out (5 s), and its in-flight guard activities are
 * retried there once their heartbeat times out (20 s). So every rollout must finish within
 * BOUND_MS = remaining window (≤ 8 s) + heartbeat timeout (20 s) + retry and sticky slack (≤ 17 s) of the kill.
 */
const BOUND_MS = 45_000;
const ROLLOUTS = 6;
// the workers load one pre-built bundle file (WORKFLOW_BUNDLE) instead of each bundling on start
const suite = {} as { env: TestWorkflowEnvironment; client: RolloutClient; bundlePath: string };
beforeAll(async () => {
  suite.env = await connectTestEnv();
  suite.client = new RolloutClient(suite.env.client);
  suite.bundlePath = await writeWorkflowBundle(await mkdtemp(join(tmpdir(), 'two-workers-bundle-')));
});
afterAll(async () => {
  await suite.env?.teardown();
});

const startWorker = (taskQueue: string, baseDir: string): Promise<ChildProcess> =>
  spawnWorkerProcess({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    taskQueue,
    baseDir,
    bundlePath: suite.bundlePath,
    inheritStderr: true,
  });

/** Half the rollouts watch a guard (an activity runs through the window), half wait on a plain durable timer. */
function spec(flag: string, i: number): RolloutSpecInput {
  return {
    name: 'two-workers',
    // one flag file per rollout: two processes must not read-modify-write the same file
    target: { type: 'flagd', path: `flags-${i}.json`, flag, variant: 'on', baselineVariant: 'off' },
    steps: [{ exposure: 5, observe: '8s' }, { exposure: 50, observe: '2s' }, { exposure: 100 }],
    guards:
      i % 2 === 0
        ? [
            {
              name: 'latency',
              source: { type: 'synthetic', series: { p99: [0.1] } },
              query: 'p99',
              max: 1,
              interval: '500ms',
            },
          ]
        : [],
  };
}

describe('two workers on one task queue, one SIGKILLed mid-window', () => {
  it(`completes all ${ROLLOUTS} rollouts within ${BOUND_MS / 1000} s of the kill; none stalls`, async () => {
    const taskQueue = uniqueTaskQueue('two-workers');
    const baseDir = await mkdtemp(join(tmpdir(), 'two-workers-'));
    const workers = await Promise.all([startWorker(taskQueue, baseDir), startWorker(taskQueue, baseDir)]);
    try {
      const flags = Array.from({ length: ROLLOUTS }, () => uniqueFlag('two-workers'));
      const ids = await Promise.all(
        flags.map(async (flag, i) => (await suite.client.start(spec(flag, i), { taskQueue })).workflowId),
      );
      await waitFor(
        async () =>
          (await Promise.all(ids.map((id) => suite.client.status(id)))).every(
            (s) => s.phase === 'Observing' && s.step === 0,
          ),
        30_000,
        'every rollout observing step 0',
      );
      // both workers must hold guard activities, so the kill hits work in flight: find who runs each one
      const runnerOf = async (id: string) =>
        (await suite.client.handle(id).describe()).raw.pendingActivities?.find(
          (a) => a.activityType?.name === 'observeWindow',
        )?.lastWorkerIdentity ?? undefined;
      await waitFor(
        async () => (await Promise.all(ids.filter((_, i) => i % 2 === 0).map(runnerOf))).every(Boolean),
        10_000,
        'guard activities started',
      );
      const runners = await Promise.all(ids.map(runnerOf));
      const counts = workers.map((w) => runners.filter((r) => r?.startsWith(`${w.pid}@`)).length);
      const victim = counts[0]! >= counts[1]! ? 0 : 1;
      expect(counts[victim]).toBeGreaterThanOrEqual(1);

      workers[victim]!.kill('SIGKILL');
      await once(workers[victim]!, 'exit');
      const killedAt = Date.now();
      const finished = await Promise.all(
        ids.map(async (id) => {
          const result = await suite.client.result(id);
          return { result, afterKillMs: Date.now() - killedAt };
        }),
      );
      const slowest = Math.max(...finished.map((f) => f.afterKillMs));
      process.stderr.write(
        `[two-workers] victim ran ${counts[victim]} guard windows; last rollout finished ${slowest} ms after the kill\n`,
      );
      expect(slowest).toBeLessThan(BOUND_MS);
      for (const [i, { result }] of finished.entries()) {
        expect(result.phase).toBe('Completed');
        expect(result.timeline.filter((t) => t.phase === 'Observing').map((t) => t.step)).toEqual([0, 1]);
        const read = createFlagdFileTarget(
          { type: 'flagd', path: `flags-${i}.json`, flag: flags[i]!, variant: 'on', baselineVariant: 'off' },
          { baseDir },
        );
        expect((await read.read()).percent).toBe(100);
      }
    } finally {
      for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    }
  }, 150_000);
});

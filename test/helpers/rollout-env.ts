import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/index.js';
import { createRolloutWorker, type WorkerDeployment } from '../../src/worker/worker.js';
import { MemoryTargetRegistry } from '../../activities/targets/index.js';
import { startRollout } from '../../src/client/start.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { createLogger } from '../../src/logger.js';
import { testCatalog } from './catalog.js';
import { uniqueTaskQueue } from './temporal.js';

/** A worker on its own task queue plus what a test needs to start and inspect rollouts. */
export interface RolloutHarness {
  taskQueue: string;
  dir: string;
  memory: MemoryTargetRegistry;
  worker: Worker;
  run: Promise<void>;
  start(spec: RolloutSpecInput): ReturnType<typeof startRollout>;
  flagFile(name?: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function rolloutHarness(
  env: TestWorkflowEnvironment,
  workflowBundle: WorkflowBundleWithSourceMap,
  deps: Partial<ActivityDeps> = {},
  /** Worker options the test varies: the sticky cache's size, a task queue shared with another harness, versioning. */
  options: { maxCachedWorkflows?: number; taskQueue?: string; deployment?: WorkerDeployment } = {},
): Promise<RolloutHarness> {
  const taskQueue = options.taskQueue ?? uniqueTaskQueue('rollout');
  const dir = await mkdtemp(join(tmpdir(), 'rollout-'));
  const memory = deps.memory ?? new MemoryTargetRegistry();
  // the production worker factory, so tests run with the same options (heartbeat throttling, …)
  const worker = await createRolloutWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle,
    ...options,
    deps: { logger: createLogger({ level: 'warn' }), memory, baseDir: dir, catalog: testCatalog(dir), ...deps },
  });
  const run = worker.run();
  return {
    taskQueue,
    dir,
    memory,
    worker,
    run,
    start: (spec) => startRollout(env.client, spec, { taskQueue }),
    flagFile: async (name = 'flags.json') =>
      JSON.parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown>,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
    },
  };
}

/** A flag name no other test uses, so workflow IDs (`rollout/<flag>`) never collide. */
export const uniqueFlag = (prefix = 'flag') => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A minimal valid flagd spec over `flags.json` in the harness directory. */
export function flagdSpec(
  flag: string,
  steps: RolloutSpecInput['steps'],
  extra: Partial<RolloutSpecInput> = {},
): RolloutSpecInput {
  return {
    name: 'test-rollout',
    target: { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
    steps,
    ...extra,
  };
}

/** Polls until `predicate` holds (a status query, a file) or fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

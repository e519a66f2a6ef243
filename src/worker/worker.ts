import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { TASK_QUEUE } from '../temporal/connection.js';

/** Path of the workflows entry: compiled `.js` next to dist, or the `.ts` source under tsx/vitest. */
export function workflowsPath(): string {
  const js = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
}

export interface RolloutWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueue?: string;
  /** Pre-built bundle (tests bundle once per file); by default the worker bundles `workflowsPath()`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
  /** Payload codecs (encryption, see `src/temporal/codec.ts`); must match the clients'. */
  dataConverter?: DataConverter;
}

/** Creates the worker that runs rollout workflows and their activities on the `rollouts` task queue. */
export function createRolloutWorker(options: RolloutWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    activities: createActivities(options.deps),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    // guard progress travels in heartbeats; send them often so `status` is live
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '1s',
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
}

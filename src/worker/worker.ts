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
  /**
   * Worker Deployment versioning: this worker is version `buildId` of deployment `name`, and the runs it starts keep
   * `behavior` (PINNED by default: a rollout finishes on the build it started on; AUTO_UPGRADE moves it to the
   * deployment's current version at its next task, which then must replay it: `patched()` territory).
   */
  deployment?: WorkerDeployment;
  /** Payload codecs (encryption, see `src/temporal/codec.ts`); must match the clients'. */
  dataConverter?: DataConverter;
}

export interface WorkerDeployment {
  name: string;
  buildId: string;
  behavior?: 'PINNED' | 'AUTO_UPGRADE';
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
    ...(options.deployment
      ? {
          workerDeploymentOptions: {
            version: { deploymentName: options.deployment.name, buildId: options.deployment.buildId },
            useWorkerVersioning: true,
            defaultVersioningBehavior: options.deployment.behavior ?? 'PINNED',
          },
        }
      : {}),
  });
}

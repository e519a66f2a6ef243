import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { installRuntime } from '../../src/worker/runtime.js';

/** Connects to the run's shared dev server (started by global-setup); installs the runtime first. */
export async function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  installRuntime(createLogger({ level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'warn' }));
  return TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
  });
}

/** Bundles a workflows file once (per test file); bundling takes seconds, workers take milliseconds. */
export function bundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

const noop = () => {};
const quietBundlerLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

/** A fresh task queue per test keeps tests from stealing each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

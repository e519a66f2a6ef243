/**
 * What every measurement shares: the embedded dev server (temp SQLite file), a client, one native connection for
 * in-process workers, the workflow bundle (built once), flag-file helpers, progress output and sizes.
 */
import { randomUUID } from 'node:crypto';
import { watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createFlagdFileTarget } from '../activities/targets/index.js';
import type { RolloutClient } from '../src/client/rollout-client.js';
import type { FlagdTargetSpec } from '../src/domain/target-spec.schema.js';
import type { PinoLogger } from '../src/logger.js';
import type { ResolvedCli } from '../src/temporal/cli-provision.js';
import type { DevServer } from '../src/temporal/dev-server.js';
import { createRolloutWorker } from '../src/worker/worker.js';
import { testCatalog } from '../test/helpers/catalog.js';
import type { MeasurementResult } from './report.js';

export interface BenchContext {
  quick: boolean;
  /** Temp directory: the SQLite file, the bundle file, and the workers' `baseDir` for flag files. */
  dir: string;
  /** Prefix that keeps this run's workflow IDs apart from any earlier run's. */
  tag: string;
  cli: ResolvedCli;
  server: DevServer;
  client: Client;
  rollouts: RolloutClient;
  connection: NativeConnection;
  /** `bench/bench-workflows.ts`: the production workflows plus the overhead baseline. */
  bundle: WorkflowBundleWithSourceMap;
  /** The same bundle on disk, for worker processes (`WORKFLOW_BUNDLE`). */
  bundlePath: string;
  logger: PinoLogger;
  progress(message: string): void;
  /** A size: `BENCH_<NAME>` from the environment, else `full`, or `quick` under `--quick`. */
  size(name: string, full: number, quick: number): number;
}

/** One measurement: a separate module, run by `bench/run.ts` by name. */
export interface Measurement {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<Omit<MeasurementResult, 'name' | 'title' | 'durationMs'>>;
}

export interface RunningWorker {
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The production worker factory in this process, on a task queue of its own. */
export async function startRolloutWorker(ctx: BenchContext, label: string): Promise<RunningWorker> {
  const taskQueue = `bench-${label}-${randomUUID().slice(0, 8)}`;
  const worker = await createRolloutWorker({
    connection: ctx.connection,
    namespace: ctx.server.namespace,
    taskQueue,
    workflowBundle: ctx.bundle,
    deps: { logger: ctx.logger, baseDir: ctx.dir, catalog: testCatalog(ctx.dir) },
  });
  return runWorker(worker, taskQueue);
}

/** Runs a created worker until `stop()`. */
export function runWorker(worker: Worker, taskQueue: string): RunningWorker {
  const running = worker.run();
  return {
    taskQueue,
    worker,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** A flagd target in `<dir>/flags/<flag>.json`: one file per rollout, so rollouts never share a file. */
export function flagdTarget(flag: string): FlagdTargetSpec {
  return { type: 'flagd', path: `flags/${flag}.json`, flag, variant: 'on', baselineVariant: 'off' };
}

export async function ensureFlagDir(ctx: BenchContext): Promise<string> {
  const dir = join(ctx.dir, 'flags');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Polls `predicate` every `intervalMs` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(predicate)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Waits until the rollout's status query reports `phase`. */
export function waitForPhase(ctx: BenchContext, workflowId: string, phase: string, timeoutMs = 60_000): Promise<void> {
  return waitFor(
    async () => (await ctx.rollouts.status(workflowId)).phase === phase,
    timeoutMs,
    `${workflowId} in ${phase}`,
    25,
  );
}

export interface ExposureWatch {
  /** `performance.now()` when the file was first read with the awaited exposure. */
  seen: Promise<number>;
  close(): void;
}

/**
 * Watches a flag file until its exposure satisfies `accept`: inotify (fs.watch on the directory, since writes are
 * atomic renames) wakes a read at once, and a 5 ms poll covers any missed event. Arm it before the trigger.
 */
export function watchExposure(
  ctx: BenchContext,
  target: FlagdTargetSpec,
  accept: (percent: number) => boolean,
  timeoutMs = 60_000,
): ExposureWatch {
  const reader = createFlagdFileTarget(target, { baseDir: ctx.dir });
  const watcher = watch(join(ctx.dir, 'flags'));
  let busy = false;
  let again = false;
  let settle: (at: number) => void = () => {};
  let fail: (err: Error) => void = () => {};
  const seen = new Promise<number>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const deadline = Date.now() + timeoutMs;
  const close = () => {
    watcher.close();
    clearInterval(timer);
  };
  const check = async () => {
    if (busy) return void (again = true);
    busy = true;
    try {
      do {
        again = false;
        const got = await reader.read().catch(() => undefined);
        if (got && accept(got.percent)) {
          const at = performance.now();
          close();
          return settle(at);
        }
      } while (again);
      if (Date.now() > deadline) {
        close();
        fail(new Error(`${target.path}: exposure not reached within ${timeoutMs} ms`));
      }
    } finally {
      busy = false;
    }
  };
  watcher.on('change', () => void check());
  watcher.on('error', () => {});
  const timer = setInterval(() => void check(), 5);
  return { seen, close };
}

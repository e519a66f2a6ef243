import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const repoRoot = new URL('../..', import.meta.url).pathname;
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Bundles the real workflows once into `dir/workflows.js`, so worker processes start without bundling. */
export async function writeWorkflowBundle(dir: string): Promise<string> {
  const path = join(dir, 'workflows.js');
  await writeFile(
    path,
    (await bundleWorkflowCode({ workflowsPath: join(repoRoot, 'workflows/index.ts'), logger: silent })).code,
  );
  return path;
}

export interface WorkerProcessOptions {
  address: string;
  taskQueue: string;
  namespace?: string;
  /** Where relative flag-file paths resolve. */
  baseDir?: string;
  /** A bundle from {@link writeWorkflowBundle}; without it the worker bundles on start (seconds). */
  bundlePath?: string;
  logLevel?: string;
  /** Resolve once the worker polls (default), or at once (a supervisor that restarts it blindly). */
  waitReady?: boolean;
  /** Pass the worker's stderr through instead of keeping its tail for error messages. */
  inheritStderr?: boolean;
  /** The worker's sticky cache size (SDK default otherwise). */
  maxCachedWorkflows?: number;
}

/**
 * `test/fixtures/worker-process.ts` as its own process, so tests and benchmarks can SIGKILL a worker
 * mid-rollout. A worker that exits before it polls rejects with the tail of its stderr.
 */
export async function spawnWorkerProcess(opts: WorkerProcessOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/worker-process.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.address,
      TASK_QUEUE: opts.taskQueue,
      ...(opts.namespace ? { TEMPORAL_NAMESPACE: opts.namespace } : {}),
      ...(opts.baseDir ? { BASE_DIR: opts.baseDir } : {}),
      ...(opts.bundlePath ? { WORKFLOW_BUNDLE: opts.bundlePath } : {}),
      ...(opts.logLevel ? { LOG_LEVEL: opts.logLevel } : {}),
      ...(opts.maxCachedWorkflows !== undefined ? { MAX_CACHED_WORKFLOWS: String(opts.maxCachedWorkflows) } : {}),
    },
    stdio: ['ignore', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2_000)));
  if (opts.waitReady === false) return child;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('worker-ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it was ready:\n${errors}`)));
  });
  return child;
}

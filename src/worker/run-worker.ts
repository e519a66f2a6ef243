import type { DataConverter } from '@temporalio/common';
import { createLogger, type LineRedactor, type PinoLogger } from '../logger.js';
import { catalogFromOptions, CONFIG_ENV, emptyCatalog, type LoadedCatalog } from '../catalog/load.js';
import { SecretStore } from '../catalog/secrets.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectWorker, loadTemporalSettings, TASK_QUEUE, type TemporalSettings } from '../temporal/connection.js';
import { workflowBuild } from './build-id.js';
import { parseAddress, startHealthServer } from './health.js';
import { installRuntime } from './runtime.js';
import { createRolloutWorker, type WorkerDeployment } from './worker.js';
import { loadTargetModules } from './target-modules.js';
import { checkCatalogTargets } from '../../activities/targets/check-catalog.js';
import { targetRegistry, type TargetDefinition } from '../../activities/targets/index.js';

/** Why a run stops: a process signal, or a caller's own request (the demo's quit key). */
export type StopReason = NodeJS.Signals | 'quit key';

/** A stop request shared by everything a process runs; the first request wins. */
export interface StopControl {
  /** Aborted once a stop was requested. */
  readonly signal: AbortSignal;
  stop(reason: StopReason): void;
  /** Removes the SIGINT/SIGTERM handlers. */
  dispose(): void;
}

/** Requests a stop on SIGINT or SIGTERM (and on `stop`), logging the first reason. */
export function stopOnSignals(logger: PinoLogger): StopControl {
  const controller = new AbortController();
  const stop = (reason: StopReason) => {
    if (controller.signal.aborted) return;
    logger.info({ signal: reason }, 'shutting down');
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    stop,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

export interface RunRolloutWorkerOptions {
  logger: PinoLogger;
  /** Where to connect: `loadTemporalSettings()`, or those settings pointed at an embedded server. */
  target: TemporalSettings;
  namespace: string;
  /** Task queue to poll (default: `rollouts`). */
  taskQueue?: string;
  /** Runs kept in the worker's sticky cache; an idle rollout beyond it is evicted and replayed when it next acts. */
  maxCachedWorkflows?: number;
  /** `host:port` of the health endpoint (`/livez`, `/readyz`); none without it. */
  healthAddress?: string;
  /** Worker Deployment versioning, with the bundle its build ID was computed from. */
  deployment?: WorkerDeployment & { code?: string };
  /** Payload codecs (see `src/temporal/codec.ts`); must match the clients'. */
  dataConverter?: DataConverter;
  /** The operator's catalog (default: an empty one) and its secret store, shared with the logger's redactor. */
  catalog?: LoadedCatalog;
  secrets?: SecretStore;
  /** Target kinds added to the built-ins (`defineTarget`). */
  targets?: readonly TargetDefinition[];
  /** Aborted to stop the run. */
  signal: AbortSignal;
  /** Runs once the worker polls, before the stop signal is watched: starts what lives beside the worker. */
  onRunning?: () => Promise<void>;
  /** Awaited after the stop signal and before the worker drains, so what runs beside it stops first. */
  beforeShutdown?: () => Promise<void>;
}

/**
 * The worker's run loop: connects, runs the rollout worker until `signal` aborts, then lets it finish its
 * in-flight tasks and closes the connection. The native runtime must be installed first (`installRuntime`).
 */
export async function runRolloutWorker(options: RunRolloutWorkerOptions): Promise<void> {
  const { logger, signal } = options;
  const connection = await connectWorker(options.target);
  const worker = await createRolloutWorker({
    connection,
    namespace: options.namespace,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.deployment
      ? {
          deployment: {
            name: options.deployment.name,
            buildId: options.deployment.buildId,
            ...(options.deployment.behavior ? { behavior: options.deployment.behavior } : {}),
          },
          ...(options.deployment.code ? { workflowBundle: { code: options.deployment.code } } : {}),
        }
      : {}),
    deps: {
      logger,
      ...(options.catalog ? { catalog: options.catalog } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...(options.targets ? { targets: options.targets } : {}),
    },
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
  const running = worker.run();
  const health = options.healthAddress
    ? await startHealthServer({
        address: options.healthAddress,
        worker,
        taskQueue: options.taskQueue ?? TASK_QUEUE,
        ...(options.deployment ? { buildId: `${options.deployment.name}.${options.deployment.buildId}` } : {}),
        logger,
      }).catch(async (err: unknown) => {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        throw new Error(`cannot serve the health endpoint at ${options.healthAddress}: ${(err as Error).message}`);
      })
    : undefined;
  await options.onRunning?.();
  const shutdown = () => void (options.beforeShutdown?.() ?? Promise.resolve()).then(() => worker.shutdown());
  signal.addEventListener('abort', shutdown, { once: true });
  // a stop requested while `onRunning` ran has already fired its event
  if (signal.aborted) shutdown();
  try {
    await running;
  } finally {
    await health?.close();
    await connection.close();
  }
}

/**
 * The catalog the worker runs with: `--config`, else `ROLLOUT_CONFIG`, else an empty one (with a warning), and its
 * secret store, preloaded so the logger redacts every secret's value from the first line on.
 */
export async function workerCatalog(
  config: string | undefined,
  logger: PinoLogger,
  redactor?: LineRedactor,
): Promise<{ catalog: LoadedCatalog; secrets: SecretStore }> {
  const loaded = await catalogFromOptions(config);
  if (!loaded)
    logger.warn(
      `no catalog (--config or ${CONFIG_ENV}): specs may name nothing, and only memory targets and synthetic sources run`,
    );
  const catalog = loaded ?? emptyCatalog();
  const secrets = new SecretStore(catalog);
  await secrets.preload();
  if (redactor) redactor.redact = (line) => secrets.redact(line);
  if (loaded) logger.info({ catalog: loaded.file }, 'catalog loaded');
  return { catalog, secrets };
}

/** A process's logger, every line redacted of the catalog's secrets, with the catalog it runs with. */
export async function redactingLoggerAndCatalog(
  config: string | undefined,
): Promise<{ logger: PinoLogger; redactor: LineRedactor; catalog: LoadedCatalog; secrets: SecretStore }> {
  const redactor: LineRedactor = {};
  const logger = createLogger({ redactor });
  return { logger, redactor, ...(await workerCatalog(config, logger, redactor)) };
}

/** Resolves at the first SIGINT or SIGTERM (logged): for commands that serve until stopped. */
export async function untilStopSignal(logger: PinoLogger): Promise<void> {
  const stop = stopOnSignals(logger);
  if (!stop.signal.aborted)
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  stop.dispose();
}

/** `rollout worker`: runs a rollout worker against the configured Temporal until SIGINT or SIGTERM. */
export async function runWorker(options: {
  logger: PinoLogger;
  config?: string;
  taskQueue?: string;
  maxCachedWorkflows?: number;
  /** `host:port` for Prometheus metrics (the SDK's and the rollouts' counters). */
  metricsAddress?: string;
  /** `host:port` for `/livez` and `/readyz`. */
  healthAddress?: string;
  /** Worker Deployment versioning: the deployment's name; the build ID defaults to {@link workflowBuild}'s. */
  deployment?: { name: string; buildId?: string; behavior?: 'PINNED' | 'AUTO_UPGRADE' };
  /** Modules exporting target kinds (`defineTarget`) for the catalog's `extension` targets. */
  targetModules?: readonly string[];
  redactor?: LineRedactor;
}): Promise<void> {
  const { logger } = options;
  // a bad ROLLOUT_PAYLOAD_KEY or catalog fails here, before the native runtime (which keeps the process alive) starts
  const dataConverter = dataConverterFromEnv();
  const { catalog, secrets } = await workerCatalog(options.config, logger, options.redactor);
  const targets = await loadTargetModules(options.targetModules ?? []);
  checkCatalogTargets(catalog, targetRegistry(targets));
  if (options.metricsAddress) parseAddress(options.metricsAddress);
  if (options.healthAddress) parseAddress(options.healthAddress);
  installRuntime(logger, options.metricsAddress ? { metricsAddress: options.metricsAddress } : {});
  if (options.metricsAddress) logger.info({ address: options.metricsAddress }, 'worker metrics on /metrics');
  const target = loadTemporalSettings();
  await (await import('../setup/worker-check.js')).warnIfNotSetUp(target, logger);
  let deployment: RunRolloutWorkerOptions['deployment'];
  if (options.deployment) {
    const build = options.deployment.buildId === undefined ? await workflowBuild(logger) : undefined;
    deployment = {
      name: options.deployment.name,
      buildId: options.deployment.buildId ?? build!.buildId,
      ...(options.deployment.behavior ? { behavior: options.deployment.behavior } : {}),
      ...(build ? { code: build.code } : {}),
    };
  }
  const stop = stopOnSignals(logger);
  try {
    await runRolloutWorker({
      logger,
      target,
      namespace: target.namespace,
      signal: stop.signal,
      catalog,
      secrets,
      targets,
      ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
      ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
      ...(options.healthAddress ? { healthAddress: options.healthAddress } : {}),
      ...(deployment ? { deployment } : {}),
      ...(dataConverter ? { dataConverter } : {}),
      onRunning: async () =>
        logger.info(
          {
            address: target.address,
            namespace: target.namespace,
            taskQueue: options.taskQueue ?? TASK_QUEUE,
            ...(deployment
              ? { deployment: deployment.name, buildId: deployment.buildId, behavior: deployment.behavior ?? 'PINNED' }
              : {}),
          },
          'rollout worker running',
        ),
    });
  } finally {
    stop.dispose();
    logger.info('stopped');
  }
}

import type { Client } from '@temporalio/client';
import type { PinoLogger } from '../logger.js';
import { resolveTemporalCli } from '../temporal/cli-provision.js';
import { serveApi } from '../api/start.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectClient, connectWorker, loadTemporalSettings, TASK_QUEUE } from '../temporal/connection.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { installRuntime } from '../worker/runtime.js';
import { createRolloutWorker } from '../worker/worker.js';

export interface OrchestratorOptions {
  logger: PinoLogger;
  /** Start (or reuse) the embedded dev server instead of connecting to the configured one. */
  embedded: boolean;
  dbFile?: string;
  port?: number;
  uiPort?: number;
  /** Also serve the HTTP API (dev generates a token into `.rollout/api-token` when none is set). */
  api?: { host: string; port: number; tokenFile?: string };
  /** Called once everything is up; for the demo and tests. */
  onReady?: (info: { address: string; namespace: string; uiUrl: string | undefined }) => void;
  /** Something to run beside the worker for as long as the orchestrator runs (the demo); stopped before the worker. */
  companion?: (ctx: CompanionContext) => Promise<Companion>;
}

/** What a companion gets: a client of the same Temporal, the Web UI, and a way to stop everything (a quit key). */
export interface CompanionContext {
  client: Client;
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  logger: PinoLogger;
  requestStop: () => void;
}

/** A running companion. */
export interface Companion {
  stop(): Promise<void>;
}

/**
 * Runs the orchestrator until SIGINT/SIGTERM: optionally the embedded Temporal server, then the worker (and a
 * companion such as the demo). Shutdown order is companion, then worker (finishes in-flight tasks), server last,
 * so no task is lost.
 */
export async function runOrchestrator(options: OrchestratorOptions): Promise<void> {
  const { logger } = options;
  // a bad ROLLOUT_PAYLOAD_KEY fails here, before the native runtime (which keeps the process alive) or a server starts
  const dataConverter = dataConverterFromEnv();
  installRuntime(logger);
  const settings = loadTemporalSettings();
  let server: DevServer | undefined;
  let stopping = false;
  const stopSignals = new AbortController();
  const onSignal = (signal: NodeJS.Signals | 'quit key') => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stopSignals.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    if (options.embedded) {
      const cli = await resolveTemporalCli({ log: (m) => logger.info(m) });
      server = await startDevServer({
        cliPath: cli.path,
        port: options.port ?? 7233,
        uiPort: options.uiPort ?? 8233,
        dbFile: options.dbFile ?? '.rollout/temporal.db',
        readyTimeoutMs: Number(process.env.TEMPORAL_READY_TIMEOUT_MS ?? 180_000),
        log: (m) => logger.info(m),
      });
    }
    if (stopSignals.signal.aborted) return;
    const address = server?.address ?? settings.address;
    const namespace = server?.namespace ?? settings.namespace;
    // the embedded server is plain local gRPC; a configured one keeps its TLS, API key and profile
    const target = server ? { ...settings, address, connectionOptions: { address } } : settings;
    const connection = await connectWorker(target);
    const worker = await createRolloutWorker({ connection, namespace, deps: { logger }, ...(dataConverter ? { dataConverter } : {}) });
    const running = worker.run();
    if (options.api) {
      const client = await connectClient(target);
      const { app, url } = await serveApi({
        client,
        logger,
        host: options.api.host,
        port: options.api.port,
        ...(options.api.tokenFile ? { tokenFile: options.api.tokenFile } : {}),
        ...(server?.uiUrl ? { uiUrl: server.uiUrl } : {}),
      });
      process.stderr.write(`HTTP API: ${url}${options.api.tokenFile ? ` (bearer token in ${options.api.tokenFile})` : ''}\n`);
      stopSignals.signal.addEventListener('abort', () => void app.close().then(() => client.connection.close()), { once: true });
    }
    logger.info({ address, namespace, taskQueue: TASK_QUEUE, ui: server?.uiUrl }, 'rollout worker running');
    if (server?.uiUrl) process.stderr.write(`\nTemporal Web UI: ${server.uiUrl}\nPress Ctrl-C to stop.\n\n`);
    options.onReady?.({ address, namespace, uiUrl: server?.uiUrl });
    const companion = options.companion
      ? startCompanion(options.companion, {
          connect: () => connectClient(target),
          context: { address, namespace, uiUrl: server?.uiUrl, logger, requestStop: () => onSignal('quit key') },
          onFailure: () => onSignal('quit key'),
        })
      : undefined;
    // the companion stops first, so nothing it does (status queries, load) races the worker's drain
    const shutdownWorker = () => void (companion?.stop() ?? Promise.resolve()).then(() => worker.shutdown());
    stopSignals.signal.addEventListener('abort', shutdownWorker, { once: true });
    if (stopSignals.signal.aborted) shutdownWorker();
    await running;
    await connection.close();
    if (companion?.error() !== undefined) throw companion.error();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.stop();
    logger.info('stopped');
  }
}

/**
 * Starts a companion with its own client, without blocking the worker. A companion that fails to start is
 * logged and stops the orchestrator (`onFailure`); its error is rethrown once everything has stopped.
 */
function startCompanion(
  start: (ctx: CompanionContext) => Promise<Companion>,
  opts: { connect: () => Promise<Client>; context: Omit<CompanionContext, 'client'>; onFailure: () => void },
): { stop(): Promise<void>; error(): unknown } {
  let failure: unknown;
  const started = opts.connect().then(async (client) => {
    try {
      return { client, companion: await start({ ...opts.context, client }) };
    } catch (err) {
      await client.connection.close();
      throw err;
    }
  });
  started.catch((err: unknown) => {
    failure = err;
    opts.context.logger.error({ err }, 'the companion failed to start');
    opts.onFailure();
  });
  let stopping: Promise<void> | undefined;
  return {
    error: () => failure,
    stop: () =>
      (stopping ??= started.then(
        async ({ client, companion }) => {
          await companion.stop().catch((err: unknown) => opts.context.logger.error({ err }, 'the companion failed to stop cleanly'));
          await client.connection.close();
        },
        () => undefined,
      )),
  };
}

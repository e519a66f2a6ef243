import type { Client } from '@temporalio/client';
import type { PinoLogger } from '../logger.js';
import { emptyCatalog, type LoadedCatalog } from '../catalog/load.js';
import { SecretStore } from '../catalog/secrets.js';
import { resolveTemporalCli } from '../temporal/cli-provision.js';
import { serveApi } from '../api/start.js';
import { startCodecServer, type RunningCodecServer } from '../codec-server/server.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectClient, loadTemporalSettings, TASK_QUEUE, type TemporalSettings } from '../temporal/connection.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { runRolloutWorker, stopOnSignals } from '../worker/run-worker.js';
import { installRuntime } from '../worker/runtime.js';

export interface OrchestratorOptions {
  logger: PinoLogger;
  /** Start (or reuse) the embedded dev server instead of connecting to the configured one. */
  embedded: boolean;
  dbFile?: string;
  port?: number;
  uiPort?: number;
  /** Where the Temporal CLI provisioning lines go (one per phase); defaults to `logger.info`. */
  provisionLog?: (message: string) => void;
  /** The operator's catalog the worker and the API use (default: an empty one), and its secrets. */
  catalog?: LoadedCatalog;
  secrets?: SecretStore;
  /** Also serve the HTTP API (dev generates a token into `.rollout/api-token` when none is set). */
  api?: { host: string; port: number; tokenFile?: string };
  /** With `ROLLOUT_PAYLOAD_KEY` and the embedded server: a codec server the embedded Web UI decodes payloads through. */
  codec?: { host: string; port: number };
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
  /** The catalog the worker runs with; a companion may add its own entries (`extendCatalog`). */
  catalog: LoadedCatalog;
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
  let codecServer: RunningCodecServer | undefined;
  const stop = stopOnSignals(logger);
  const catalog = options.catalog ?? emptyCatalog();
  const secrets = options.secrets ?? new SecretStore(catalog);

  try {
    if (options.embedded) {
      const cli = await resolveTemporalCli({ log: options.provisionLog ?? ((m) => logger.info(m)) });
      const uiPort = options.uiPort ?? 8233;
      if (dataConverter && options.codec && uiPort !== 0) {
        // the embedded UI has no login, so it sends no bearer token: its endpoint carries a random path capability
        codecServer = await startCodecServer({
          ...options.codec,
          origins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
          logger,
          catalog,
          secrets,
          pathCapability: true,
        });
        process.stderr.write(`Codec server: ${codecServer.url} (the Web UI decodes encrypted payloads through it)\n`);
      }
      server = await startDevServer({
        cliPath: cli.path,
        port: options.port ?? 7233,
        uiPort: options.uiPort ?? 8233,
        dbFile: options.dbFile ?? '.rollout/temporal.db',
        readyTimeoutMs: Number(process.env.TEMPORAL_READY_TIMEOUT_MS ?? 180_000),
        log: (m) => logger.info(m),
        ...(codecServer ? { uiCodecEndpoint: codecServer.endpoint } : {}),
      });
    }
    if (stop.signal.aborted) return;
    const address = server?.address ?? settings.address;
    const namespace = server?.namespace ?? settings.namespace;
    // the embedded server is plain local gRPC; a configured one keeps its TLS, API key and profile
    const target = server ? { ...settings, address, connectionOptions: { address } } : settings;
    let companion: ReturnType<typeof startCompanion> | undefined;
    await runRolloutWorker({
      logger,
      target,
      namespace,
      signal: stop.signal,
      catalog,
      secrets,
      ...(dataConverter ? { dataConverter } : {}),
      onRunning: async () => {
        if (options.api)
          await serveApiUntil(stop.signal, options.api, { target, logger, uiUrl: server?.uiUrl, catalog, secrets });
        logger.info({ address, namespace, taskQueue: TASK_QUEUE, ui: server?.uiUrl }, 'rollout worker running');
        if (server?.uiUrl) process.stderr.write(`\nTemporal Web UI: ${server.uiUrl}\nPress Ctrl-C to stop.\n\n`);
        options.onReady?.({ address, namespace, uiUrl: server?.uiUrl });
        companion = options.companion
          ? startCompanion(options.companion, {
              connect: () => connectClient(target),
              context: {
                address,
                namespace,
                uiUrl: server?.uiUrl,
                logger,
                catalog,
                requestStop: () => stop.stop('quit key'),
              },
              onFailure: () => stop.stop('quit key'),
            })
          : undefined;
      },
      // the companion stops first, so nothing it does (status queries, load) races the worker's drain
      beforeShutdown: () => companion?.stop() ?? Promise.resolve(),
    });
    if (companion?.error() !== undefined) throw companion.error();
  } finally {
    stop.dispose();
    await server?.stop();
    await codecServer?.close();
    logger.info('stopped');
  }
}

/** Serves the HTTP API with its own client of the worker's Temporal until `signal` aborts. */
async function serveApiUntil(
  signal: AbortSignal,
  api: NonNullable<OrchestratorOptions['api']>,
  opts: {
    target: TemporalSettings;
    logger: PinoLogger;
    uiUrl: string | undefined;
    catalog: LoadedCatalog;
    secrets: SecretStore;
  },
): Promise<void> {
  const client = await connectClient(opts.target);
  const { app, url } = await serveApi({
    client,
    logger: opts.logger,
    host: api.host,
    port: api.port,
    catalog: opts.catalog,
    secrets: opts.secrets,
    ...(api.tokenFile ? { tokenFile: api.tokenFile } : {}),
    ...(opts.uiUrl ? { uiUrl: opts.uiUrl } : {}),
  });
  process.stderr.write(`HTTP API: ${url}${api.tokenFile ? ` (bearer token in ${api.tokenFile})` : ''}\n`);
  signal.addEventListener('abort', () => void app.close().then(() => client.connection.close()), { once: true });
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
          await companion
            .stop()
            .catch((err: unknown) => opts.context.logger.error({ err }, 'the companion failed to stop cleanly'));
          await client.connection.close();
        },
        () => undefined,
      )),
  };
}

import { parseAddress } from '../../worker/health.js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ValidationError } from '../../errors.js';
import { createLogger, type LineRedactor } from '../../logger.js';
import { CONFIG_ENV } from '../../catalog/load.js';
import { resolveTemporalCli } from '../../temporal/cli-provision.js';
import { registerSetupCommand } from '../../setup/command.js';

/** `provision`, `worker` and `dev`: the long-running parts. */
export function registerServerCommands(program: Command): void {
  registerSetupCommand(program);
  program
    .command('provision')
    .description('find or build the Temporal CLI this project runs its embedded server with, and print its path')
    .action(async () => {
      const cli = await resolveTemporalCli();
      process.stdout.write(`${cli.path}\n`);
      process.stderr.write(`Temporal CLI v${cli.version} (${cli.source})\n`);
    });

  program
    .command('worker')
    .description('run a rollout worker against the configured Temporal (TEMPORAL_ADDRESS, profiles)')
    .option('--config <file>', `the operator's catalog (default: ${CONFIG_ENV})`)
    .option('--task-queue <queue>', 'task queue to poll', 'rollouts')
    .option(
      '--max-cached-workflows <n>',
      'rollouts kept in memory between their tasks; idle ones beyond it are evicted and replayed when they next act',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer ≥ 0');
        return n;
      },
    )
    .addOption(
      new Option(
        '--metrics-address <host:port>',
        'serve Prometheus metrics (SDK worker metrics and rollout counters) on /metrics',
      )
        .env('ROLLOUT_METRICS_ADDRESS')
        .argParser(hostPort),
    )
    .addOption(
      new Option('--health-address <host:port>', 'serve /livez and /readyz for probes')
        .env('ROLLOUT_HEALTH_ADDRESS')
        .argParser(hostPort),
    )
    .addOption(
      new Option(
        '--deployment <name>',
        'Worker Deployment versioning: this worker is a version of deployment NAME (make a version current with ' +
          '`temporal worker deployment set-current-version`)',
      ).env('ROLLOUT_DEPLOYMENT'),
    )
    .addOption(
      new Option(
        '--build-id <id>',
        'with --deployment: this version’s build ID (default: package version + hash of the workflow bundle)',
      ).env('ROLLOUT_BUILD_ID'),
    )
    .addOption(
      new Option('--versioning <behavior>', 'with --deployment: how runs move between versions')
        .choices(['pinned', 'auto-upgrade'])
        .default('pinned'),
    )
    .option(
      '--targets <module...>',
      'ES modules exporting target kinds made with defineTarget, for the catalog’s `type: extension` targets',
    )
    .action(
      async (opts: {
        config?: string;
        taskQueue: string;
        targets?: string[];
        maxCachedWorkflows?: number;
        metricsAddress?: string;
        healthAddress?: string;
        deployment?: string;
        buildId?: string;
        versioning: 'pinned' | 'auto-upgrade';
      }) => {
        if (opts.buildId !== undefined && opts.deployment === undefined)
          throw new ValidationError('--build-id: needs --deployment (a build ID names a version of a deployment)', [
            { path: '--build-id', message: 'needs --deployment' },
          ]);
        const { runWorker } = await import('../../worker/run-worker.js');
        const redactor: LineRedactor = {};
        await runWorker({
          logger: createLogger({ redactor }),
          redactor,
          taskQueue: opts.taskQueue,
          ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
          ...(opts.metricsAddress ? { metricsAddress: opts.metricsAddress } : {}),
          ...(opts.healthAddress ? { healthAddress: opts.healthAddress } : {}),
          ...(opts.deployment
            ? {
                deployment: {
                  name: opts.deployment,
                  ...(opts.buildId ? { buildId: opts.buildId } : {}),
                  behavior: opts.versioning === 'auto-upgrade' ? ('AUTO_UPGRADE' as const) : ('PINNED' as const),
                },
              }
            : {}),
          ...(opts.config ? { config: opts.config } : {}),
          ...(opts.targets ? { targetModules: opts.targets } : {}),
        });
      },
    );

  program
    .command('dev')
    .description('run the embedded Temporal dev server (SQLite), its Web UI and a worker in one process tree')
    .option('--db <file>', 'SQLite file for the embedded server', '.rollout/temporal.db')
    .option(
      '--config <file>',
      `the operator's catalog (default: ${CONFIG_ENV}, else ./rollout.config.yaml, written on first run)`,
    )
    .option('--port <port>', 'gRPC port of the embedded server', (v) => Number(v), 7233)
    .option('--ui-port <port>', 'Web UI port', (v) => Number(v), 8233)
    .option('--api-port <port>', 'HTTP API port (0 disables the API)', (v) => Number(v), 8080)
    .option('--codec-port <port>', 'codec server port for the Web UI, with ROLLOUT_PAYLOAD_KEY', (v) => Number(v), 8234)
    .option('--demo', 'also run the demo: a flagged service, load, metrics and a guarded rollout with a live view')
    .option('--fault', 'with --demo: break the new variant once the rollout reaches 10%, so the guards roll it back')
    .option('--demo-port <port>', 'with --demo: port of the demo service', (v) => Number(v), 8090)
    .option('--demo-rps <n>', 'with --demo: requests per second of the load generator', (v) => Number(v), 40)
    .addOption(
      new Option(
        '--demo-metrics <source>',
        'with --demo: guard metrics from a Prometheus it starts, or scraped directly',
      )
        .choices(['auto', 'prometheus', 'scrape'])
        .default('auto'),
    )
    .action(async (opts: DevOptions) => {
      if (opts.fault && !opts.demo)
        throw new ValidationError('--fault only applies with --demo (rollout dev --demo --fault)', []);
      const { runOrchestrator } = await import('../../dev/orchestrator.js');
      const demo = opts.demo ? await demoCompanionOf(opts) : undefined;
      // the demo's live view owns the terminal: routine info logs would scroll it away (LOG_LEVEL still wins)
      const redactor: LineRedactor = {};
      const logger = createLogger({
        redactor,
        ...(opts.demo && !process.env.LOG_LEVEL ? { level: 'warn' as const } : {}),
      });
      const { devCatalog } = await import('../../catalog/dev-default.js');
      const { loaded, wrote } = await devCatalog(opts.config);
      if (wrote)
        process.stderr.write(`Wrote the default catalog to ${wrote}: edit it to declare targets and providers.\n`);
      if (opts.demo) {
        const { demoTargetCatalog } = await import('../../demo/demo-spec.js');
        const { extendCatalog } = await import('../../catalog/dev-default.js');
        extendCatalog(loaded, demoTargetCatalog(process.cwd()));
      }
      const { SecretStore } = await import('../../catalog/secrets.js');
      const secrets = new SecretStore(loaded);
      await secrets.preload();
      redactor.redact = (line) => secrets.redact(line);
      // provisioning runs before the live view and can take minutes: its lines stay visible at the default level
      const provisionLogger = process.env.LOG_LEVEL ? logger : logger.child({}, { level: 'info' });
      await runOrchestrator({
        logger,
        provisionLog: (m) => provisionLogger.info(m),
        embedded: true,
        catalog: loaded,
        secrets,
        dbFile: opts.db,
        port: opts.port,
        uiPort: opts.uiPort,
        ...(opts.apiPort ? { api: { host: '127.0.0.1', port: opts.apiPort, tokenFile: '.rollout/api-token' } } : {}),
        codec: { host: '127.0.0.1', port: opts.codecPort },
        ...(demo ? { companion: demo } : {}),
      });
    });

  program
    .command('serve')
    .description(
      "serve the HTTP API against the configured Temporal: the catalog's principals (or ROLLOUT_API_TOKEN) may call it",
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 8080)
    .option('--config <file>', `the operator's catalog (default: ${CONFIG_ENV})`)
    .action(async (opts: { host: string; port: number; config?: string }) => {
      const { serveApi } = await import('../../api/start.js');
      const { connectClient, loadTemporalSettings } = await import('../../temporal/connection.js');
      const { redactingLoggerAndCatalog, untilStopSignal } = await import('../../worker/run-worker.js');
      const { logger, catalog, secrets } = await redactingLoggerAndCatalog(opts.config);
      const client = await connectClient(loadTemporalSettings());
      const { app, url } = await serveApi({
        client,
        logger,
        catalog,
        secrets,
        host: opts.host,
        port: opts.port,
        ...(process.env.ROLLOUT_UI_URL ? { uiUrl: process.env.ROLLOUT_UI_URL } : {}),
      });
      process.stderr.write(`HTTP API: ${url}\n`);
      await untilStopSignal(logger);
      await app.close();
      await client.connection.close();
    });

  program
    .command('codec-server')
    .description(
      'serve the Temporal codec-server protocol (/encode, /decode) so the Web UI shows encrypted payloads to principals',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 8234)
    .option('--ui-origin <origin...>', 'Web UI origin(s) allowed to call it from the browser (CORS)', [
      'http://127.0.0.1:8233',
    ])
    .option('--config <file>', `the operator's catalog, whose principals may decode (default: ${CONFIG_ENV})`)
    .action(async (opts: { host: string; port: number; uiOrigin: string[]; config?: string }) => {
      const { runCodecServer } = await import('../../codec-server/run.js');
      await runCodecServer(opts);
    });
}

interface DevOptions {
  db: string;
  config?: string;
  port: number;
  uiPort: number;
  apiPort: number;
  codecPort: number;
  demo?: boolean;
  fault?: boolean;
  demoPort: number;
  demoRps: number;
  demoMetrics: 'auto' | 'prometheus' | 'scrape';
}

/** The demo companion for `dev --demo`; loaded only then, so plain `dev` never imports OpenFeature or prom-client. */
async function demoCompanionOf(opts: DevOptions) {
  const [{ demoCompanion }, { demoWindow }] = await Promise.all([
    import('../../demo/run-demo.js'),
    import('../../demo/demo-spec.js'),
  ]);
  for (const [flag, value] of [
    ['--demo-port', opts.demoPort],
    ['--demo-rps', opts.demoRps],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 65_535)
      throw new ValidationError(`${flag} must be a whole number from 1 to 65535, got ${value}`, []);
  }
  return demoCompanion({
    port: opts.demoPort,
    rps: opts.demoRps,
    fault: opts.fault === true,
    metrics: opts.demoMetrics,
    window: demoWindow(),
  });
}

/** A `host:port` option, refused as a usage error when it is not one. */
function hostPort(value: string): string {
  try {
    parseAddress(value);
    return value;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

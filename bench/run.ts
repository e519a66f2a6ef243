/**
 * `npm run bench [-- NAME ...] [--quick] [--keep]`: one run against an embedded dev server with its state in a
 * temp SQLite file. Runs the named measurements (default: all) in a fixed order, prints progress to stderr and a
 * table of value / target / meets to stdout, and writes JSON plus the table under `bench/results/`.
 *
 *   --quick   small sizes, to check the bench works (results are marked and never become latest.*)
 *   --keep    keep the temp directory (SQLite file, bundle, flag files) for inspection
 *   BENCH_<SIZE>=n overrides one size, e.g. BENCH_PUSH_N=100 BENCH_SCALE_N=500 (see each module)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { RolloutClient } from '../src/client/rollout-client.js';
import { createLogger, type PinoLogger } from '../src/logger.js';
import { resolveTemporalCli } from '../src/temporal/cli-provision.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { installRuntime } from '../src/worker/runtime.js';
import { freePort } from '../src/util/ports.js';
import type { BenchContext, Measurement } from './context.js';
import { guardAccuracy } from './guard-accuracy.js';
import { historyCost } from './history-cost.js';
import { describeMachine, journalMode, loadAverage } from './machine.js';
import { overhead } from './overhead.js';
import { reactionPolled } from './reaction-polled.js';
import { reactionPush } from './reaction-push.js';
import { replay } from './replay.js';
import { renderTable, writeReport, type BenchReport, type MeasurementResult } from './report.js';
import { scale } from './scale.js';

/** In run order; scale goes last because it leaves its rollouts running until the server stops. */
const MEASUREMENTS: Measurement[] = [reactionPush, reactionPolled, overhead, historyCost, replay, guardAccuracy, scale];
const RESULTS = new URL('./results/', import.meta.url);

const benchStart = performance.now();
function progress(scope: string, message: string): void {
  const s = Math.round((performance.now() - benchStart) / 1000);
  process.stderr.write(
    `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${scope}: ${message}\n`,
  );
}

function parseArgs(argv: string[]): { selected: Measurement[]; quick: boolean; keep: boolean } {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const names = argv.filter((a) => !a.startsWith('--'));
  const known = MEASUREMENTS.map((m) => m.name);
  const unknown = [
    ...names.filter((n) => !known.includes(n)),
    ...[...flags].filter((f) => !['--quick', '--keep'].includes(f)),
  ];
  if (unknown.length) {
    process.stderr.write(
      `unknown argument(s): ${unknown.join(', ')}\nusage: npm run bench -- [${known.join(' | ')} ...] [--quick] [--keep]\n`,
    );
    process.exit(2);
  }
  return {
    selected: MEASUREMENTS.filter((m) => names.length === 0 || names.includes(m.name)),
    quick: flags.has('--quick') || process.env.BENCH_QUICK === '1',
    keep: flags.has('--keep'),
  };
}

function sizeOf(quick: boolean) {
  return (name: string, full: number, small: number): number => {
    const override = Number(process.env[`BENCH_${name}`]);
    return Number.isFinite(override) && override > 0 ? override : quick ? small : full;
  };
}

/**
 * An external server (`BENCH_TEMPORAL_ADDRESS`, e.g. the cluster profile: `npm run bench:cluster`): the bench
 * neither starts nor stops it. Its process is sampled when `CLUSTER_STATE_DIR` (or `BENCH_SERVER_PID`) says which.
 */
async function externalServer(log: (m: string) => void): Promise<DevServer> {
  const stateDir = process.env.CLUSTER_STATE_DIR;
  const pidText =
    process.env.BENCH_SERVER_PID ??
    (stateDir ? await readFile(join(stateDir, 'server.pid'), 'utf8').catch(() => undefined) : undefined);
  const pid = pidText ? Number(pidText.trim()) : undefined;
  const address = process.env.BENCH_TEMPORAL_ADDRESS!;
  log(`external Temporal at ${address}${pid ? ` (server pid ${pid})` : ''}`);
  return {
    address,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    uiUrl: undefined,
    dbFile: undefined,
    reused: true,
    pid,
    stop: async () => {},
  };
}

async function devServer(cliPath: string, dir: string, log: (m: string) => void): Promise<DevServer> {
  // The dev server floors every timer at now + 1 s (history.timerProcessorMaxTimeShift), so a 100 ms window would
  // last a second; the bench lowers it so short windows are short. BENCH_TIMER_SHIFT=default keeps the server's.
  const shift = process.env.BENCH_TIMER_SHIFT ?? '10ms';
  const dynamicConfig: Record<string, string> =
    shift === 'default' ? {} : { 'history.timerProcessorMaxTimeShift': shift };
  return startDevServer({
    cliPath,
    port: await freePort(),
    uiPort: false,
    dbFile: join(dir, 'temporal.db'),
    reuseExisting: false,
    log,
    dynamicConfig,
  });
}

async function setUp(quick: boolean, logger: PinoLogger): Promise<BenchContext> {
  const log = (m: string) => progress('setup', m);
  const cli = await resolveTemporalCli({ log });
  const dir = await mkdtemp(join(tmpdir(), 'rollout-bench-'));
  // The dev server floors every timer at now + 1 s (history.timerProcessorMaxTimeShift), so a 100 ms window would
  // last a second; the bench lowers it so short windows are short. BENCH_TIMER_SHIFT=default keeps the server's.
  const server = process.env.BENCH_TEMPORAL_ADDRESS ? await externalServer(log) : await devServer(cli.path, dir, log);
  const client = new Client({
    connection: await Connection.connect({ address: server.address }),
    namespace: server.namespace,
  });
  const connection = await NativeConnection.connect({ address: server.address });
  log('bundling bench/bench-workflows.ts (production workflows + overhead baseline)');
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./bench-workflows.ts', import.meta.url)),
    logger: quiet,
  });
  const bundlePath = join(dir, 'workflows.js');
  await writeFile(bundlePath, bundle.code);
  return {
    quick,
    dir,
    tag: `b${Date.now().toString(36)}`,
    cli,
    server,
    client,
    rollouts: new RolloutClient(client),
    connection,
    bundle,
    bundlePath,
    logger,
    progress: (m) => progress('bench', m),
    size: sizeOf(quick),
  };
}

async function main(): Promise<void> {
  const { selected, quick, keep } = parseArgs(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const logger = createLogger({ level: (process.env.LOG_LEVEL as 'error' | undefined) ?? 'error' });
  installRuntime(logger);
  const ctx = await setUp(quick, logger);
  const machine = await describeMachine(ctx.cli, ctx.server);
  if (ctx.server.reused)
    machine.external = `external server at ${ctx.server.address}${process.env.CLUSTER_STATE_DIR ? ' (the cluster profile: temporal-server 1.29.1 on PostgreSQL 15, scripts/cluster/start.sh)' : ''}`;
  progress(
    'setup',
    ctx.server.reused
      ? `external Temporal ${ctx.server.address}${ctx.server.pid ? ` (server pid ${ctx.server.pid})` : ''}`
      : `dev server ${ctx.server.address} (pid ${ctx.server.pid}), SQLite ${machine.sqlite.file} [${machine.sqlite.pragmas.join(', ')}; ${machine.sqlite.journal}], dynamic config [${machine.dynamicConfig.join(', ') || 'defaults'}]`,
  );
  const results: MeasurementResult[] = [];
  try {
    for (const m of selected) {
      progress(m.name, `${m.title}${quick ? ' (quick)' : ''}`);
      const t0 = performance.now();
      const scoped = { ...ctx, progress: (msg: string) => progress(m.name, msg) };
      try {
        results.push({ name: m.name, title: m.title, ...(await m.run(scoped)), durationMs: performance.now() - t0 });
      } catch (err) {
        results.push({
          name: m.name,
          title: m.title,
          rows: [],
          details: {},
          durationMs: performance.now() - t0,
          error: (err as Error).stack ?? String(err),
        });
      }
      const last = results[results.length - 1]!;
      progress(
        m.name,
        `${last.error ? `FAILED: ${last.error.split('\n')[0]}` : 'done'} in ${(last.durationMs / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    if (ctx.server.dbFile) machine.sqlite.journal = await journalMode(ctx.server.dbFile);
    await ctx.connection.close().catch(() => undefined);
    await ctx.client.connection.close().catch(() => undefined);
    await ctx.server.stop();
    if (!keep) await rm(ctx.dir, { recursive: true, force: true });
    else progress('teardown', `kept ${ctx.dir}`);
  }
  machine.loadAverage.end = loadAverage();
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick,
    measurements: selected.map((m) => m.name),
    machine,
    results,
  };
  const table = renderTable(report);
  process.stdout.write(`\n${table}`);
  const files = await writeReport(report, table, RESULTS, selected.length === MEASUREMENTS.length);
  progress('bench', `${((performance.now() - benchStart) / 1000).toFixed(0)} s in all; wrote ${files.join(', ')}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

await main();

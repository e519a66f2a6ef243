import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/util/ports.js';

/** A real Prometheus server on loopback, with its own temporary config and TSDB. */
export interface RunningPrometheus {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The job name its one scrape config uses. */
  job: string;
  /** Kills the server and removes its temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** `host:port` targets scraped at `/metrics`. */
  scrapeTargets: string[];
  scrapeIntervalMs?: number;
  job?: string;
}

const READY_TIMEOUT_MS = 20_000;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Prometheus binary: `$PROMETHEUS_PATH`, `prometheus` on PATH, or `/usr/bin/prometheus`. Throws (so a test
 * fails, never skips) with the command that installs it.
 */
export function findPrometheus(): string {
  const explicit = process.env.PROMETHEUS_PATH;
  if (explicit) {
    if (executable(explicit)) return explicit;
    throw new Error(
      `PROMETHEUS_PATH=${explicit} is not an executable file. Run scripts/ensure-prometheus.sh or fix PROMETHEUS_PATH.`,
    );
  }
  const candidates = [
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'prometheus')),
    '/usr/bin/prometheus',
  ];
  const found = candidates.find(executable);
  if (found) return found;
  throw new Error(
    'No prometheus binary found (looked at $PROMETHEUS_PATH, PATH, /usr/bin/prometheus). ' +
      'Run scripts/ensure-prometheus.sh (installs it with apt-get when root) or set PROMETHEUS_PATH.',
  );
}

/**
 * Starts Prometheus scraping `scrapeTargets` every `scrapeIntervalMs` (default 1 s), listening on a free loopback
 * port, and resolves once `/-/ready` answers 200. Rejects with the tail of its log if it exits first.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = findPrometheus();
  const job = opts.job ?? 'metrics-app';
  const interval = `${opts.scrapeIntervalMs ?? 1000}ms`;
  const dir = await mkdtemp(join(tmpdir(), 'rollout-prometheus-'));
  // JSON is YAML: no serializer needed.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: job, static_configs: [{ targets: opts.scrapeTargets }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));

  const port = await freePort();
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      log += `\nspawn failed: ${err.message}`;
      resolve(null);
    });
  });

  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitUntil(READY_TIMEOUT_MS, exited, async () => (await fetch(`${url}/-/ready`)).ok);
  } catch (err) {
    await stop();
    throw new Error(`Prometheus (${binary}) did not become ready: ${(err as Error).message}\n${log}`);
  }
  return { url, job, stop };
}

/**
 * Waits until Prometheus has scraped `job` successfully at least `minScrapes` times (`up == 1` each time), so that
 * `rate(x[5s])` over a 1 s scrape interval has data.
 */
export async function waitForScrape(
  url: string,
  job: string,
  opts: { minScrapes?: number; timeoutMs?: number } = {},
): Promise<void> {
  const minScrapes = opts.minScrapes ?? 1;
  const query = `sum_over_time(up{job=${JSON.stringify(job)}}[1m]) >= ${minScrapes}`;
  const never = new Promise<never>(() => {});
  await waitUntil(opts.timeoutMs ?? 20_000, never, async () => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
    const body = (await response.json()) as { data?: { result?: unknown[] } };
    return (body.data?.result?.length ?? 0) > 0;
  }).catch((err: Error) => {
    throw new Error(`Prometheus at ${url} has not scraped job ${job} ${minScrapes} time(s): ${err.message}`);
  });
}

async function waitUntil(timeoutMs: number, exited: Promise<unknown>, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let early = false;
  void exited.then(() => (early = true));
  let last = 'not yet';
  while (Date.now() < deadline) {
    if (early) throw new Error(`the process exited (code ${String(await exited)})`);
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms (last: ${last})`);
}

async function kill(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

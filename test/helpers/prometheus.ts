import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/ports.js';
import { findBinary, startServerProcess, waitUntil } from './server-process.js';

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

/**
 * The Prometheus binary: `$PROMETHEUS_PATH`, `prometheus` on PATH, or `/usr/bin/prometheus`. Throws (so a test
 * fails, never skips) with the command that installs it.
 */
export const findPrometheus = (): string =>
  findBinary({
    envVar: 'PROMETHEUS_PATH',
    name: 'prometheus',
    fallbacks: ['/usr/bin/prometheus'],
    script: 'scripts/ensure-prometheus.sh (installs it with apt-get when root)',
  });

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
  const url = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({
    what: 'Prometheus',
    binary,
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  return { url, job, stop: () => server.stop() };
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

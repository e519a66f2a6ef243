import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, inject } from 'vitest';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { createLogger } from '../../src/logger.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/util/ports.js';
import { installRuntime } from '../../src/worker/runtime.js';
import { startPrometheus, waitForScrape } from '../helpers/prometheus.js';

/*
 * What the example tests share: the repository's paths, a copy of examples/ to run in, the CLI run the way a user's
 * shell runs it, a Temporal dev server of the file's own, and a real Prometheus holding the metrics the example
 * catalog's guard template asks for.
 */

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const repoPath = (path: string) => join(REPO_ROOT, path);
export const EXAMPLES = repoPath('examples');
/** The built CLI, what `npx rollout` runs (package.json `bin.rollout`). */
export const CLI = repoPath('dist/src/cli/main.js');

/** The example catalog's Prometheus provider, which nothing serves in a test run. */
export const EXAMPLE_PROMETHEUS_URL = 'http://127.0.0.1:9090';

/** A shell word, quoted. */
export const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** `command` with `npx rollout` replaced by the built CLI, for `sh -c`. */
export const withBuiltCli = (command: string) =>
  command.replaceAll('npx rollout', `${shellQuote(process.execPath)} ${shellQuote(CLI)}`);

/**
 * The environment of a user's shell pointed at `address`: what could point the CLI at another server, namespace,
 * catalog or payload key is dropped first (TEMPORAL_CLI_PATH stays: it only says where the Temporal CLI is).
 */
export function userEnv(address: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env))
    if ((key.startsWith('TEMPORAL_') && key !== 'TEMPORAL_CLI_PATH') || key.startsWith('ROLLOUT_')) delete env[key];
  return { ...env, TEMPORAL_ADDRESS: address, LOG_LEVEL: 'warn', ...extra };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `sh -c` (so quotes, `;` and comments mean what they mean in a shell); never throws. */
export async function sh(command: string, opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Ran> {
  try {
    const { stdout, stderr } = await run('sh', ['-c', command], { ...opts, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
    };
  }
}

/** A command that runs until it is stopped (or ends by itself), its output collected. */
export interface Background {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after 10 s) unless it has exited; resolves once it has. */
  stop(): Promise<void>;
}

/** Starts `command` (`exec`'d by `sh`, so the process is the command itself, not a shell around it). */
export function background(command: string, opts: { cwd: string; env: NodeJS.ProcessEnv }): Background {
  const child = spawn('sh', ['-c', `exec ${command}`], { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `predicate` until it holds; fails naming `what` after `timeoutMs`. */
export async function until<T>(
  predicate: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Every file under examples/ that git would not ignore (a local `examples/secrets/alice-token`, made as the catalog
 * says, is not an example), as paths relative to examples/, sorted.
 */
export async function exampleFiles(dir = EXAMPLES): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
  const ignored = await gitIgnored(files.map((f) => join('examples', f)));
  return files.filter((f) => !ignored.has(join('examples', f))).sort();
}

/** Which of `paths` (relative to the repository) git ignores. */
async function gitIgnored(paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['check-ignore', '--no-index', '--stdin'], { cwd: REPO_ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    // exit 1: none of them is ignored
    child.once('exit', (code) =>
      code === 0 || code === 1
        ? resolve(new Set(out.split('\n').filter(Boolean)))
        : reject(new Error(`git check-ignore exited ${code}: ${err}`)),
    );
    child.stdin.end(paths.join('\n') + '\n');
  });
}

/**
 * A fresh directory standing for the repository root with a copy of examples/ in it, so a run writes nothing in the
 * repository. Returns the root; the copy is `<root>/examples`.
 */
export async function copyOfExamples(): Promise<string> {
  // the physical path: what the CLI's working directory resolves to, where the temporary directory is a symlink
  const root = await realpath(await mkdtemp(join(tmpdir(), 'rollout-examples-')));
  await cp(EXAMPLES, join(root, 'examples'), { recursive: true });
  return root;
}

/**
 * Points the copied catalog's `prometheus` provider at `url` (the only change made to an example): fails if the
 * example no longer names the provider's URL exactly once, so a changed example is noticed, not silently run
 * against nothing.
 */
export async function pointPrometheusAt(catalogFile: string, url: string): Promise<void> {
  const text = await readFile(catalogFile, 'utf8');
  const count = text.split(EXAMPLE_PROMETHEUS_URL).length - 1;
  if (count !== 1)
    throw new Error(`${catalogFile} names ${EXAMPLE_PROMETHEUS_URL} ${count} times, expected once (its provider)`);
  await writeFile(catalogFile, text.replace(EXAMPLE_PROMETHEUS_URL, url));
}

/** A Temporal dev server of this test file's own, and a client for it. */
export interface OwnTemporal {
  server: DevServer;
  env: TestWorkflowEnvironment;
  client: RolloutClient;
}

/**
 * Starts a dev server for this file (torn down after it). The example spec's workflow ID is fixed (`rollout/ranker`,
 * its catalog target), and the README's commands use the default task queue `rollouts` and list every rollout and
 * drill: on the shared server they would meet other files running at the same time.
 */
export function useOwnTemporal(): OwnTemporal {
  const ctx = {} as OwnTemporal;
  beforeAll(async () => {
    installRuntime(createLogger({ level: 'warn' }));
    ctx.server = await startDevServer({
      cliPath: inject('temporalCliPath'),
      port: await freePort(),
      uiPort: false,
      dbFile: null,
      reuseExisting: false,
    });
    ctx.env = await TestWorkflowEnvironment.createFromExistingServer({
      address: ctx.server.address,
      namespace: ctx.server.namespace,
    });
    ctx.client = new RolloutClient(ctx.env.client);
  });
  afterAll(async () => {
    await ctx.env?.teardown();
    await ctx.server?.stop();
  });
  return ctx;
}

/** The ranker service's request counters, served for scraping, and a real Prometheus scraping them. */
export interface RankerMetrics {
  /** Where the Prometheus answers queries. */
  prometheusUrl: string;
  stop(): Promise<void>;
}

/**
 * A healthy ranker: `http_requests_total{service="ranker",variant,region,code}` (the labels the example catalog's
 * `error-rate` template queries) growing by 200 answers a second per variant and region, no 5xx, served at
 * `/metrics`; and a real Prometheus scraping it every 500 ms, resolved once it has scraped three times.
 */
export async function startRankerMetrics(): Promise<RankerMetrics> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests served by the ranker, by variant, region and status code.',
    labelNames: ['service', 'variant', 'region', 'code'] as const,
    registers: [registry],
  });
  const cohorts = ['on', 'off'].flatMap((variant) =>
    ['eu-west', 'us-east'].map((region) => ({ service: 'ranker', variant, region })),
  );
  for (const cohort of cohorts) for (const code of ['200', '500']) requests.inc({ ...cohort, code }, 0);
  const load = setInterval(() => {
    for (const cohort of cohorts) requests.inc({ ...cohort, code: '200' }, 20);
  }, 100);
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stopApp = async () => {
    clearInterval(load);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    const prometheus = await startPrometheus({
      scrapeTargets: [`127.0.0.1:${(server.address() as AddressInfo).port}`],
      scrapeIntervalMs: 500,
      job: 'ranker',
    });
    try {
      await waitForScrape(prometheus.url, prometheus.job, { minScrapes: 3, timeoutMs: 60_000 });
    } catch (err) {
      await prometheus.stop();
      throw err;
    }
    return {
      prometheusUrl: prometheus.url,
      stop: async () => {
        await prometheus.stop();
        await stopApp();
      },
    };
  } catch (err) {
    await stopApp();
    throw err;
  }
}

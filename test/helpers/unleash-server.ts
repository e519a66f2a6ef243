import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { freePort } from '../../src/util/ports.js';
import { stopProcess, waitUntil } from './server-process.js';

/** A real Unleash server (its own Node 22) over a private PostgreSQL, both on loopback, for one test file. */
export interface RunningUnleash {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the Admin API is under `/api/admin`, the client API `/api/client`). */
  url: string;
  /** An admin API token (all projects, all environments), created at startup. */
  adminToken: string;
  /** A backend (client SDK) token for the `default` project's `development` environment. */
  clientToken: string;
  /** The Unleash version that runs. */
  version: string;
  /** Kills Unleash and PostgreSQL and removes their temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

interface Provisioned {
  node: string;
  serverJs: string;
  version: string;
  pgBin: string;
}

const ENSURE_SCRIPT = new URL('../../scripts/ensure-unleash.sh', import.meta.url).pathname;
const PROVISION_TIMEOUT_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 120_000;
const run = promisify(execFile);

/** Runs scripts/ensure-unleash.sh (warm: instant; cold: downloads) and reads the paths it prints. */
async function provision(): Promise<Provisioned> {
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [ENSURE_SCRIPT], { timeout: PROVISION_TIMEOUT_MS, maxBuffer: 1 << 20 }));
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`scripts/ensure-unleash.sh failed, so Unleash cannot run: ${e.message}\n${e.stderr ?? ''}`);
  }
  const vars = Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const { UNLEASH_NODE, UNLEASH_SERVER_JS, UNLEASH_VERSION, PG_BIN } = vars;
  if (!UNLEASH_NODE || !UNLEASH_SERVER_JS || !UNLEASH_VERSION || !PG_BIN)
    throw new Error(`scripts/ensure-unleash.sh printed no paths (stdout: ${stdout.trim() || 'empty'})`);
  return { node: UNLEASH_NODE, serverJs: UNLEASH_SERVER_JS, version: UNLEASH_VERSION, pgBin: PG_BIN };
}

/** PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user (as in scripts/cluster). */
const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
  process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];

async function pg(pgBin: string, tool: string, args: string[]): Promise<void> {
  const [cmd, argv] = asPostgres(join(pgBin, tool), args);
  try {
    await run(cmd, argv, { timeout: 90_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${tool} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** Starts a private PostgreSQL 15 in `dir` on a free loopback port (no fsync: test data only). */
async function startPostgres(pgBin: string, dir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const data = join(dir, 'pgdata');
  if (process.getuid?.() === 0) spawnSync('chown', ['postgres:postgres', dir]);
  await pg(pgBin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await pg(pgBin, 'pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', 'start', '-o', options]);
  const stopArgs = ['-D', data, '-m', 'immediate', '-w', 'stop'];
  // a test process that dies without its afterAll must not leave a database running
  const onExit = () => {
    const [cmd, argv] = asPostgres(join(pgBin, 'pg_ctl'), stopArgs);
    spawnSync(cmd, argv, { stdio: 'ignore' });
  };
  process.once('exit', onExit);
  return {
    port,
    stop: async () => {
      process.off('exit', onExit);
      await pg(pgBin, 'pg_ctl', stopArgs).catch(() => undefined);
    },
  };
}

/**
 * Provisions (scripts/ensure-unleash.sh), then starts PostgreSQL and Unleash on free loopback ports with a fresh
 * admin token and a backend token, and resolves once the Admin API accepts the admin token. Throws (the test fails,
 * never skips) with the server's log when anything does not come up.
 */
export async function startUnleash(): Promise<RunningUnleash> {
  const p = await provision();
  const dir = await mkdtemp(join(tmpdir(), 'rollout-unleash-'));
  await chmod(dir, 0o755);
  let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = new Promise(() => {});
  let stopped = false;
  // a test process that dies without its afterAll must not leave the server running
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child) await stopProcess(child, exited, 10_000);
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  let log = '';
  try {
    postgres = await startPostgres(p.pgBin, dir);
    const port = await freePort();
    const adminToken = `*:*.${randomBytes(24).toString('hex')}`;
    const clientToken = `default:development.${randomBytes(24).toString('hex')}`;
    child = spawn(p.node, [p.serverJs], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        TZ: 'UTC',
        DATABASE_URL: `postgres://postgres@127.0.0.1:${postgres.port}/postgres`,
        DATABASE_SSL: 'false',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        INIT_ADMIN_API_TOKENS: adminToken,
        INIT_BACKEND_API_TOKENS: clientToken,
        // no calls home from a test machine
        CHECK_VERSION: 'false',
        SEND_TELEMETRY: 'false',
        SCARF_ANALYTICS: 'false',
        LOG_LEVEL: 'warn',
      },
    });
    const keep = (chunk: string) => (log = (log + chunk).slice(-6000));
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    const proc = child;
    exited = new Promise((resolve) => {
      proc.once('exit', resolve);
      proc.once('error', (err) => resolve(keep(`\nspawn failed: ${err.message}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(READY_TIMEOUT_MS, exited, async () => {
      const r = await fetch(`${url}/api/admin/projects`, { headers: { authorization: adminToken } });
      await r.body?.cancel();
      return r.ok;
    });
    return { url, adminToken, clientToken, version: p.version, stop };
  } catch (err) {
    await stop();
    throw new Error(`Unleash ${p.version} did not start: ${(err as Error).message}\n${log}`);
  }
}

/** What the official Node SDK served to a population of users: how many had the flag on, and each variant's count. */
export interface SdkView {
  users: number;
  enabled: number;
  /** Users per `getVariant().name` (`disabled` for those the flag is off for). */
  variants: Record<string, number>;
}

/**
 * Evaluates `flag` for `users` distinct userIds (`user-0`…) with the official `unleash-client`, connected with the
 * backend token, after its first synchronisation with the server. Unleash refreshes what it serves to SDKs about
 * once a second, so a view taken right after a change can be stale: with `until`, fresh clients look again until
 * the view satisfies it or `timeoutMs` (default 30 s) passes, and the last view is returned for the test to judge.
 */
export async function sdkView(
  unleash: RunningUnleash,
  flag: string,
  opts: {
    users?: number;
    properties?: Record<string, string>;
    until?: (v: SdkView) => boolean;
    timeoutMs?: number;
  } = {},
): Promise<SdkView> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const view = await evaluateOnce(unleash, flag, opts.users ?? 2000, opts.properties);
    if (!opts.until || opts.until(view) || Date.now() > deadline) return view;
    await sleep(300);
  }
}

async function evaluateOnce(
  unleash: RunningUnleash,
  flag: string,
  users: number,
  properties: Record<string, string> | undefined,
): Promise<SdkView> {
  const client = new Unleash({
    url: `${unleash.url}/api/`,
    appName: 'rollout-orchestrator-tests',
    customHeaders: { Authorization: unleash.clientToken },
    // one fetch is all it needs (0 would disable fetching altogether)
    refreshInterval: 600_000,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the unleash-client did not synchronise within 30 s')), 30_000);
      client.once('synchronized', () => resolve(clearTimeout(timer)));
      client.once('error', (err: Error) => reject(new Error(`the unleash-client failed: ${err.message}`)));
    });
    const view: SdkView = { users, enabled: 0, variants: {} };
    for (let i = 0; i < users; i++) {
      const context = { userId: `user-${i}`, ...(properties ? { properties } : {}) };
      if (client.isEnabled(flag, context)) view.enabled++;
      const { name } = client.getVariant(flag, context);
      view.variants[name] = (view.variants[name] ?? 0) + 1;
    }
    return view;
  } finally {
    client.destroy();
  }
}

/**
 * True when `view` has `percent` % of its users on `variant` and everyone else disabled: within ± `band` points
 * (default 4, about 6 standard deviations for 2,000 users), exactly at 0 and 100 %.
 */
export function serves(view: SdkView, percent: number, variant: string, band = percent % 100 === 0 ? 0 : 4): boolean {
  const share = (view.enabled / view.users) * 100;
  const onVariant = view.variants[variant] ?? 0;
  const disabled = view.variants.disabled ?? 0;
  return Math.abs(share - percent) <= band && onVariant === view.enabled && disabled === view.users - view.enabled;
}

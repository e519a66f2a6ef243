import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEV_DEFAULT_CATALOG } from '../../src/catalog/dev-default.js';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/util/ports.js';

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 40_000;
const STOP_TIMEOUT_MS = 20_000;

interface DevRun {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every process this file started, so that afterAll can kill whatever a failed test left behind. */
const started: number[] = [];

/**
 * `rollout dev` as a user runs it. In its own process group, so a test can send Ctrl-C the way a terminal
 * does (to the whole group) and clean-up can kill the group.
 */
function startDev(dbFile: string, port: number, uiPort: number, apiPort: number): DevRun {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'dev',
      '--db',
      dbFile,
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--api-port',
      String(apiPort),
      // the catalog beside the database: a first run writes the commented default there
      '--config',
      join(dirname(dbFile), 'rollout.config.yaml'),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', TEMPORAL_CLI_PATH: inject('temporalCliPath') },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  if (child.pid) started.push(child.pid);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

async function untilReady(run: DevRun): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ui = /Temporal Web UI: (http:\/\/\S+)/.exec(run.stderr());
    if (ui?.[1]) return ui[1];
    if (run.child.exitCode !== null || run.child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`rollout dev did not become ready; its stderr ends with:\n${tail(run.stderr())}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends SIGINT and returns how the process ended and how long it took. */
async function interrupt(run: DevRun, target: 'process' | 'group') {
  const pid = run.child.pid!;
  const sentAt = Date.now();
  process.kill(target === 'group' ? -pid : pid, 'SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
  const result = await Promise.race([run.exited, timeout]);
  if (result === 'timeout')
    throw new Error(`rollout dev ignored SIGINT for ${STOP_TIMEOUT_MS} ms:\n${tail(run.stderr())}`);
  return { ...result, tookMs: Date.now() - sentAt };
}

function tail(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.includes('webpack'))
    .slice(-15)
    .join('\n');
}

/** The `temporal server start-dev` process the CLI spawned. */
async function temporalChildOf(pid: number): Promise<number> {
  const { stdout } = await execFileAsync('pgrep', ['-P', String(pid), '-f', 'server start-dev']);
  const pids = stdout.split('\n').filter(Boolean).map(Number);
  expect(pids).toHaveLength(1);
  started.push(pids[0]!);
  return pids[0]!;
}

/** A zombie counts as gone: it no longer runs, only waits for a parent to reap it. */
async function isRunning(pid: number): Promise<boolean> {
  const state = await execFileAsync('ps', ['-o', 'stat=', '-p', String(pid)]).then(
    ({ stdout }) => stdout.trim(),
    () => '', // ps exits 1 when there is no such process
  );
  return state !== '' && !state.startsWith('Z');
}

async function withClient<T>(address: string, use: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    return await use(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

describe('rollout dev', () => {
  let dir: string;
  let dbFile: string;
  let port: number;
  let uiPort: number;
  let apiPort: number;
  const parkedWorkflowId = `dev-command-${randomUUID()}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollout-dev-'));
    dbFile = join(dir, 't.db');
    port = await freePort();
    uiPort = await freePort();
    apiPort = await freePort();
  });

  afterAll(async () => {
    for (const pid of started.reverse()) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the Web UI and gRPC, and Ctrl-C stops worker and server without orphans', async () => {
    const run = startDev(dbFile, port, uiPort, apiPort);

    const uiUrl = await untilReady(run);

    expect(uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    const page = await fetch(uiUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<!doctype html|<html/i);
    expect((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${apiPort}/rollouts`)).status).toBe(401);
    const address = `127.0.0.1:${port}`;
    await withClient(address, async (client) => {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
      // a workflow no worker polls for stays open: the next run can only see it if the SQLite file was reused
      await client.workflow.start('parkedForDevCommandTest', {
        taskQueue: 'dev-command-test',
        workflowId: parkedWorkflowId,
      });
    });
    const temporalPid = await temporalChildOf(run.child.pid!);

    const stopped = await interrupt(run, 'process');

    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.tookMs).toBeLessThan(STOP_TIMEOUT_MS);
    expect(await isRunning(temporalPid)).toBe(false);
    expect((await stat(dbFile)).size).toBeGreaterThan(0);
    expect(run.stderr()).toContain('"msg":"stopped"');
    // the first run wrote the default catalog, and the worker runs with it
    const catalog = await readFile(join(dir, 'rollout.config.yaml'), 'utf8');
    expect(catalog).toBe(DEV_DEFAULT_CATALOG);
    expect(run.stderr()).toContain(`Wrote the default catalog to ${join(dir, 'rollout.config.yaml')}`);
  });

  it('starts again on the same SQLite file, with the state of the previous run', async () => {
    const run = startDev(dbFile, port, uiPort, apiPort);

    await untilReady(run);

    const status = await withClient(`127.0.0.1:${port}`, async (client) => {
      const described = await client.workflow.getHandle(parkedWorkflowId).describe();
      return described.status.name;
    });
    expect(status).toBe('RUNNING');
    const temporalPid = await temporalChildOf(run.child.pid!);

    // a terminal's Ctrl-C reaches the whole process group, the Temporal server included
    const stopped = await interrupt(run, 'group');

    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(await isRunning(temporalPid)).toBe(false);
    // the catalog from the first run is read, not written again
    expect(run.stderr()).not.toContain('Wrote the default catalog');
  });
});

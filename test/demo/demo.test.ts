import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { DEMO_FLAG } from '../../src/demo/demo-spec.js';
import { findPrometheus } from '../../src/demo/prometheus.js';
import { demoPorts, isRunning, killStarted, plain, runDemo, tail, untilOutput, type DemoRun } from './demo-process.js';

const STOP_TIMEOUT_MS = 20_000;
const flagTarget = { type: 'flagd', path: DEMO_FLAG.path, flag: DEMO_FLAG.key, variant: DEMO_FLAG.variant, baselineVariant: DEMO_FLAG.baselineVariant } as const;

/** Ctrl-C to the CLI process; resolves with its exit code and every process it had started, for an orphan check. */
async function interrupt(run: DemoRun): Promise<{ code: number | null; tree: { pid: number; args: string }[] }> {
  const tree = await run.tree();
  process.kill(await run.cliPid(), 'SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
  const code = await Promise.race([run.exited, timeout]);
  if (code === 'timeout') throw new Error(`the demo ignored SIGINT for ${STOP_TIMEOUT_MS} ms:\n${tail(run.output())}`);
  return { code, tree };
}

async function expectNoOrphans(tree: { pid: number; args: string }[]): Promise<void> {
  const alive = [];
  for (const p of tree) if (await isRunning(p.pid)) alive.push(p);
  expect(alive).toEqual([]);
}

describe('rollout dev --demo', () => {
  const dirs: string[] = [];

  /** An empty working directory (the demo writes `.rollout/demo/flags.json` there) and a SQLite file elsewhere. */
  async function workspace(): Promise<{ cwd: string; dbFile: string }> {
    const cwd = await mkdtemp(join(tmpdir(), 'rollout-demo-cwd-'));
    const dbDir = await mkdtemp(join(tmpdir(), 'rollout-demo-db-'));
    dirs.push(cwd, dbDir);
    return { cwd, dbFile: join(dbDir, 't.db') };
  }

  afterAll(async () => {
    await killStarted();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('--fault in a terminal: the guards catch the broken variant at 10% and roll back; Ctrl-C leaves nothing behind', async () => {
    const { cwd, dbFile } = await workspace();
    expect(await readdir(cwd)).toEqual([]);
    const ports = await demoPorts();
    const run = runDemo({ cwd, dbFile, ports, args: ['--fault', '--demo-rps', '100'], env: { ROLLOUT_DEMO_WINDOW: '4s' }, pty: true });

    await untilOutput(run, /RolledBack/, 60_000);

    const screen = plain(run.output());
    expect(run.output()).toContain('\x1b[0J'); // redrawn in place, as `rollout watch` does in a terminal
    expect(screen).toContain('started rollout/demo-checkout (4s windows)');
    expect(screen).toContain('--fault: step 1 reached (10%)');
    expect(screen).toMatch(/canary-error-ratio\s+[\d.]+\s+≤ 0\.05\s+Failed/);
    expect(screen).toContain(`web ui http://127.0.0.1:${ports.uiPort}/namespaces/default/workflows/rollout%2Fdemo-checkout`);
    expect(screen).toContain(`TEMPORAL_ADDRESS=127.0.0.1:${ports.port} npx rollout abort rollout/demo-checkout --reason`);
    expect(screen).toContain('keys   f toggle the fault · q or Ctrl-C quit');
    expect((await createFlagdFileTarget(flagTarget, { baseDir: cwd }).read()).percent).toBe(0);

    const stopped = await interrupt(run);

    expect(stopped.code, tail(run.output())).toBe(0);
    expect(stopped.tree.some((p) => p.args.includes('server start-dev'))).toBe(true);
    if (findPrometheus()) expect(stopped.tree.some((p) => p.args.includes('--config.file='))).toBe(true);
    await expectNoOrphans(stopped.tree);
    expect(plain(run.output())).toContain('demo stopped.');
  }, 90_000);

  it('without a terminal, on the scrape source: a rollout stopped mid-way resumes on the next start and completes', async () => {
    const { cwd, dbFile } = await workspace();
    const ports = await demoPorts();
    const env = { ROLLOUT_DEMO_WINDOW: '4s' };
    const args = ['--demo-metrics', 'scrape', '--demo-rps', '100'];
    const first = runDemo({ cwd, dbFile, ports, args, env, pty: false });

    await untilOutput(first, /started rollout\/demo-checkout/, 40_000);
    await untilOutput(first, /Observing step 2\/4 exposure 10%.*canary-error-ratio=0\(Successful\)/, 30_000);
    const firstStop = await interrupt(first);

    expect(firstStop.code, tail(first.output())).toBe(0);
    expect(first.output()).toContain(`guards direct scrape of http://127.0.0.1:${ports.demoPort}/metrics`);
    expect(first.output()).toContain('demo stopped; rollout/demo-checkout is still running and resumes on the next start.');
    await expectNoOrphans(firstStop.tree);

    const second = runDemo({ cwd, dbFile, ports, args, env, pty: false });

    await untilOutput(second, /resuming rollout\/demo-checkout, still running from an earlier start/, 40_000);
    await untilOutput(second, /Completed step 4\/4 exposure 100%/, 40_000);
    expect((await createFlagdFileTarget(flagTarget, { baseDir: cwd }).read()).percent).toBe(100);
    expect(second.output()).not.toContain('\x1b[0J');
    const secondStop = await interrupt(second);
    expect(secondStop.code, tail(second.output())).toBe(0);
    await expectNoOrphans(secondStop.tree);
  }, 150_000);
});

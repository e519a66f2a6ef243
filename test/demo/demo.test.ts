import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { DEMO_FLAG, DEMO_ROLLOUT_ID } from '../../src/demo/demo-spec.js';
import { findPrometheus } from '../../src/demo/prometheus.js';
import { renderStatus } from '../../src/view/render.js';
import { waitFor } from '../helpers/rollout-env.js';
import { wrapRows } from '../helpers/virtual-terminal.js';
import {
  DEMO_COLUMNS,
  demoClient,
  demoPorts,
  isRunning,
  killStarted,
  plain,
  runDemo,
  screenOf,
  tail,
  untilOutput,
  type DemoRun,
} from './demo-process.js';

const STOP_TIMEOUT_MS = 20_000;
const flagTarget = {
  type: 'flagd',
  path: DEMO_FLAG.path,
  flag: DEMO_FLAG.key,
  variant: DEMO_FLAG.variant,
  baselineVariant: DEMO_FLAG.baselineVariant,
} as const;

/** Ctrl-C to the CLI process; resolves with its exit code and every process it had started, for an orphan check. */
async function interrupt(run: DemoRun): Promise<{ code: number | null; tree: { pid: number; args: string }[] }> {
  const tree = await run.tree();
  process.kill(await run.cliPid(), 'SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
  const code = await Promise.race([run.exited, timeout]);
  if (code === 'timeout') throw new Error(`the demo ignored SIGINT for ${STOP_TIMEOUT_MS} ms:\n${tail(run.output())}`);
  return { code, tree };
}

/** Whether `rows` appear one after another somewhere in `screen`. */
function showsRows(screen: string[], rows: string[]): boolean {
  return screen.some((_, i) => rows.every((row, j) => screen[i + j] === row));
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

  it('--fault in a terminal: the fault goes on at 10%, the guards catch the broken variant and roll back; Ctrl-C leaves nothing behind', async () => {
    const { cwd, dbFile } = await workspace();
    expect(await readdir(cwd)).toEqual([]);
    const ports = await demoPorts();
    const run = runDemo({
      cwd,
      dbFile,
      ports,
      args: ['--fault', '--demo-rps', '100'],
      env: { ROLLOUT_DEMO_WINDOW: '4s' },
      pty: true,
    });

    await untilOutput(run, /started rollout\/demo-checkout \(4s windows\)/, 60_000);
    const client = await demoClient(ports);
    const result = await client.rollouts.result(DEMO_ROLLOUT_ID);
    const status = await client.rollouts.status(DEMO_ROLLOUT_ID);
    await client.close();

    // what the rollout recorded: the shadow step and the 1% step passed; the fault went on at step 3 (10%); a guard's
    // window failed from there on (at 10%, or at 50% when the rate windows had not yet filled with faulty requests on a
    // busy machine); exposure and the shadow are back at 0
    expect(result.phase).toBe('RolledBack');
    expect(result.rollback?.trigger).toBe('guard');
    expect(result.rollback?.reason).toMatch(/^guard canary-(error-ratio|latency-mean) failed/);
    expect(result.windows).toContainEqual(expect.objectContaining({ step: 0, outcome: 'passed' }));
    expect(result.windows).toContainEqual(expect.objectContaining({ step: 1, outcome: 'passed' }));
    expect(result.windows.filter((w) => w.outcome === 'failed').map((w) => w.step)).toEqual([
      expect.toSatisfy((step: number) => step >= 2),
    ]);
    expect(result.exposure).toEqual({ percent: 0 });
    expect((await createFlagdFileTarget(flagTarget, { baseDir: cwd }).read()).percent).toBe(0);

    // the last frame stays once the rollout ended (nothing is polled any more): read the screen it left
    await untilOutput(run, /rollout ended RolledBack: r runs it again, q quits/, 20_000);
    const screen = screenOf(run.output());
    expect(screen).toContain('started rollout/demo-checkout (4s windows)');
    expect(screen.some((row) => row.startsWith('--fault: step 3 reached (10%)'))).toBe(true);
    expect(screen).toContain(
      `web ui http://127.0.0.1:${ports.uiPort}/namespaces/default/workflows/rollout%2Fdemo-checkout`,
    );
    expect(
      screen.some((row) =>
        row.includes(`TEMPORAL_ADDRESS=127.0.0.1:${ports.port} npx rollout abort rollout/demo-checkout --reason`),
      ),
    ).toBe(true);
    expect(screen).toContain('keys   f toggle the fault · q or Ctrl-C quit');
    // redrawn in place: one frame on screen, its status part exactly the rolled-back status, failed guard included
    expect(screen.filter((row) => row.startsWith('rollout-orchestrator demo ·'))).toHaveLength(1);
    expect(
      showsRows(screen, [
        ...wrapRows(renderStatus(DEMO_ROLLOUT_ID, status), DEMO_COLUMNS),
        'rollout ended RolledBack: r runs it again, q quits',
      ]),
    ).toBe(true);
    // values with their units: "17 %  ≤ 5 %", "323 ms  ≤ 200 ms"
    expect(
      screen.some((row) =>
        /^ {2}canary-(error-ratio|latency-mean)\s+[\d.]+ (%|ms|s)\s+≤ [\d.]+ (%|ms|s)\s+Failed/.test(row),
      ),
    ).toBe(true);

    const stopped = await interrupt(run);

    expect(stopped.code, tail(run.output())).toBe(0);
    expect(stopped.tree.some((p) => p.args.includes('server start-dev'))).toBe(true);
    if (findPrometheus()) expect(stopped.tree.some((p) => p.args.includes('--config.file='))).toBe(true);
    await expectNoOrphans(stopped.tree);
    expect(plain(run.output())).toContain('demo stopped.');
  }, 120_000);

  it('without a terminal, on the scrape source: a rollout stopped mid-way resumes on the next start and runs to its end', async () => {
    const { cwd, dbFile } = await workspace();
    const ports = await demoPorts();
    const env = { ROLLOUT_DEMO_WINDOW: '4s' };
    const args = ['--demo-metrics', 'scrape', '--demo-rps', '100'];
    const first = runDemo({ cwd, dbFile, ports, args, env, pty: false });

    await untilOutput(first, /started rollout\/demo-checkout/, 60_000);
    const before = await demoClient(ports);
    // mid-way: past the shadow and 1% windows and not finished; three 4 s windows leave ample time to stop it there
    await waitFor(
      async () => {
        // a query can time out on a busy machine: that is no answer yet, not a failure
        const s = await before.rollouts.status(DEMO_ROLLOUT_ID).catch(() => undefined);
        return s !== undefined && s.step >= 2 && s.phase !== 'Completed';
      },
      90_000,
      'the demo rollout to pass steps 0 and 1',
    );
    const { runId } = await before.rollouts.handle(DEMO_ROLLOUT_ID).describe();
    await before.close();
    const firstStop = await interrupt(first);

    expect(firstStop.code, tail(first.output())).toBe(0);
    expect(first.output()).toContain(`guards direct scrape of http://127.0.0.1:${ports.demoPort}/metrics`);
    expect(first.output()).toContain(
      'demo stopped; rollout/demo-checkout is still running and resumes on the next start.',
    );
    await expectNoOrphans(firstStop.tree);

    const restartedAt = Date.now();
    const second = runDemo({ cwd, dbFile, ports, args, env, pty: false });

    await untilOutput(second, /resuming rollout\/demo-checkout, still running from an earlier start/, 60_000);
    const after = await demoClient(ports);
    const result = await after.rollouts.result(DEMO_ROLLOUT_ID);
    const resumed = await after.rollouts.handle(DEMO_ROLLOUT_ID).describe();
    await after.close();

    // the same run went on where it stopped and decided the remaining steps after the restart
    expect(resumed.runId).toBe(runId);
    expect(result.timeline.filter((t) => Date.parse(t.at) > restartedAt).length).toBeGreaterThan(0);
    const flag = (await createFlagdFileTarget(flagTarget, { baseDir: cwd }).read()).percent;
    if (result.phase === 'RolledBack') {
      // a starved machine slows the demo service's own responses: its latency guard may then rightly roll back
      expect(result.rollback?.trigger).toBe('guard');
      expect(flag).toBe(0);
      await untilOutput(second, /RolledBack/, 20_000);
    } else {
      expect(result.phase, `${result.reason}\n${JSON.stringify(result.windows, null, 1)}`).toBe('Completed');
      for (const step of [0, 1, 2, 3])
        expect(result.windows).toContainEqual(expect.objectContaining({ step, outcome: 'passed' }));
      expect(flag).toBe(100);
      // the log's last status line is the completed rollout, in plain lines without terminal escapes
      await untilOutput(second, /Completed step 5\/5 exposure 100%/, 20_000);
    }
    expect(second.output()).not.toContain('\x1b[');
    const secondStop = await interrupt(second);
    expect(secondStop.code, tail(second.output())).toBe(0);
    expect(second.output()).toContain('demo stopped.');
    await expectNoOrphans(secondStop.tree);
  }, 240_000);
});

import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { renderStatus } from '../../src/view/render.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { VirtualTerminal, wrapRows } from '../helpers/virtual-terminal.js';

const run = promisify(execFile);
const suite = useRolloutSuite();
const cliPath = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

/** Runs the built CLI against the test server; never throws, returns the exit code and output. */
async function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' },
      ...(cwd ? { cwd } : {}),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function specFile(dir: string, spec: unknown): Promise<string> {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(spec));
  return file;
}

describe('rollout CLI (built, as a subprocess, on the real dev server)', () => {
  it('validate: exit 0 on a good file, exit 2 with every path on a bad one', async () => {
    const good = await cli(['validate', new URL('../../examples/ranker-v2.yaml', import.meta.url).pathname]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/valid \(4 steps/);
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const bad = await cli([
        'validate',
        await specFile(h.dir, { name: 'x', target: { type: 'flagd' }, steps: [{ exposure: 120 }] }),
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/steps\[0\]\.exposure: must be ≤ 100/);
      expect(bad.stderr).toMatch(/target\.path: is required/);
    } finally {
      await h.stop();
    }
  });

  it('start --wait follows a rollout to Completed; status --json parses', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli');
      const file = await specFile(h.dir, flagdSpec(flag, [{ exposure: 10, observe: '100ms' }, { exposure: 100 }]));
      const started = await cli(['start', file, '--wait', '--task-queue', h.taskQueue], h.dir);
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toContain(`started rollout/${flag}`);
      expect(started.stdout).toMatch(/Completed/);
      const status = await cli(['status', rolloutIdForFlag(flag), '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({ phase: 'Completed', exposure: { percent: 100 } });
    } finally {
      await h.stop();
    }
  });

  it('a rejected approve exits 2 with the reason; abort returns the flag to baseline', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-abort');
      const file = await specFile(
        h.dir,
        flagdSpec(flag, [{ exposure: 30, observe: '1h' }, { approval: {} }, { exposure: 100 }]),
      );
      expect((await cli(['start', file, '--task-queue', h.taskQueue], h.dir)).code).toBe(0);
      await waitFor(async () => (await suite.client.status(rolloutIdForFlag(flag))).phase === 'Observing');
      const rejected = await cli(['approve', flag, '--step', '1', '--actor', 'ana']);
      expect(rejected.code).toBe(2);
      expect(rejected.stderr).toMatch(/approve rejected: cannot approve: step 1 is not waiting for approval/);
      const abort = await cli(['abort', flag, '--reason', 'cli test', '--actor', 'ana', '--json']);
      expect(abort.code).toBe(0);
      expect(JSON.parse(abort.stdout)).toMatchObject({ accepted: true, phase: 'RollingBack' });
      await suite.client.result(rolloutIdForFlag(flag));
      const reading = await createFlagdFileTarget(
        { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
        { baseDir: h.dir },
      ).read();
      expect(reading.percent).toBe(0);
      const history = await cli(['history', flag]);
      expect(history.stdout).toMatch(/Aborted .*aborted by ana: cli test/);
      const list = await cli(['list', '--target', flag, '--json']);
      expect(JSON.parse(list.stdout)).toEqual([
        expect.objectContaining({ workflowId: `rollout/${flag}`, phase: 'Aborted' }),
      ]);
    } finally {
      await h.stop();
    }
  });

  it('watch redraws its frame in place in a terminal 60 columns wide, and ends on the completed rollout', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-watch');
      // the approval holds the rollout at 5 % until the test approves, so the watch sees that frame whatever the load
      const { workflowId } = await suite.client.start(
        flagdSpec(flag, [
          { exposure: 5, observe: '100ms' },
          { approval: {} },
          { exposure: 50, observe: '100ms' },
          { exposure: 100 },
        ]),
        { taskQueue: h.taskQueue },
      );
      const columns = 60;
      // `script` gives the CLI a real pseudo-terminal (its TTY path); stty sizes it, so the header wraps
      const env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' };
      const command = `stty cols ${columns} rows 40; exec ${process.execPath} ${cliPath} watch ${workflowId} --interval 200`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

      const terminal = () => {
        const term = new VirtualTerminal(columns, 40);
        term.write(output);
        return term.screen();
      };
      await waitFor(
        () => terminal().some((row) => row.includes('AwaitingApproval')),
        30_000,
        'the watch to show the approval wait',
      );
      const waiting = terminal().join('\n');
      expect(waiting).toMatch(/\[█░+\]\s+5%/);
      expect(waiting).toMatch(/ ▶ {2}1 approval/);
      await suite.client.approve(workflowId, { step: 1, actor: 'ana' });

      expect(await exited).toBe(0);
      const final = await suite.client.status(workflowId);
      expect(final.phase).toBe('Completed');
      expect(final.timeline.map((t) => [t.phase, t.exposure])).toEqual(
        expect.arrayContaining([
          ['AwaitingApproval', 5],
          ['Observing', 50],
          ['Completed', 100],
        ]),
      );
      // in place: the screen holds the last frame only, wrapped header and all, not the frames before it
      expect(renderStatus(workflowId, final)[0]!.length).toBeGreaterThan(columns);
      expect(terminal()).toEqual(wrapRows(renderStatus(workflowId, final), columns));
    } finally {
      await h.stop();
    }
  });
});

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { freePort } from '../../src/util/ports.js';
import { renderStatus } from '../../src/view/render.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { VirtualTerminal, wrapRows } from '../helpers/virtual-terminal.js';

const run = promisify(execFile);
const suite = useRolloutSuite();
const cliPath = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

/** Runs the built CLI against the test server (or `address`); never throws, returns the exit code and output. */
async function cli(
  args: string[],
  cwd?: string,
  address = inject('temporalAddress'),
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: address, LOG_LEVEL: 'warn' },
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
      const rejected = await cli(['approve', flag, '--step', '2', '--actor', 'ana']);
      expect(rejected.code).toBe(2);
      expect(rejected.stderr).toMatch(/approve rejected: cannot approve: step 2 is not waiting for approval/);
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
      // the CLI talks to Temporal directly: nobody vouched for the name, and history says so
      expect(history.stdout).toMatch(/Aborted .*aborted by ana \(unauthenticated\): cli test/);
      // list reads visibility, which a real server updates a moment after the run ends
      let list = await cli(['list', '--target', flag, '--json']);
      await waitFor(
        async () => (list = await cli(['list', '--target', flag, '--json'])).stdout.includes('"Aborted"'),
        30_000,
        'Aborted in the list',
      );
      expect(JSON.parse(list.stdout)).toEqual([
        expect.objectContaining({ workflowId: `rollout/${flag}`, phase: 'Aborted' }),
      ]);
    } finally {
      await h.stop();
    }
  });

  it('retry starts an aborted rollout again with its spec and the reason; refused while it runs', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-retry');
      const id = rolloutIdForFlag(flag);
      const file = await specFile(h.dir, flagdSpec(flag, [{ exposure: 5, observe: '1h' }, { exposure: 100 }]));
      expect((await cli(['start', file, '--task-queue', h.taskQueue], h.dir)).code).toBe(0);
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      const early = await cli(['retry', flag, '--reason', 'again']);
      expect(early.code).toBe(2);
      expect(early.stderr).toMatch(/retry rejected: the rollout is still running; abort it first/);
      const firstRun = (await suite.client.handle(id).describe()).runId;
      await suite.client.abort(id, { reason: 'bad metrics', actor: 'ana' });
      expect((await suite.client.result(id)).phase).toBe('Aborted');
      const retried = await cli(['retry', flag, '--reason', 'metrics fixed', '--actor', 'ana', '--json']);
      expect(retried.code, retried.stderr).toBe(0);
      const started = JSON.parse(retried.stdout) as { workflowId: string; runId: string; after: string };
      expect(started).toMatchObject({ workflowId: id, after: 'Aborted' });
      expect(started.runId).not.toBe(firstRun);
      // the same spec runs again, on the same task queue, with the reason in its description
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      expect((await suite.client.status(id)).exposure.percent).toBe(5);
      const startEvent = (await suite.client.handle(id).fetchHistory()).events?.[0];
      const input = JSON.parse(
        Buffer.from(startEvent!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString('utf8'),
      ) as { spec: { description: string } };
      expect(input.spec.description).toBe('retried by ana (unauthenticated) after Aborted: metrics fixed');
      await suite.client.abort(id, { reason: 'test over', actor: 'ana' });
    } finally {
      await h.stop();
    }
  });

  it('undo takes a completed rollout back to its baseline; refused while it runs', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-undo');
      const id = rolloutIdForFlag(flag);
      const file = await specFile(h.dir, flagdSpec(flag, [{ exposure: 50, observe: '1h' }, { exposure: 100 }]));
      expect((await cli(['start', file, '--task-queue', h.taskQueue], h.dir)).code).toBe(0);
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      const early = await cli(['undo', flag, '--reason', 'bad']);
      expect(early.code).toBe(2);
      expect(early.stderr).toMatch(/undo rejected: the rollout is still running; abort it instead/);
      await suite.client.promote(id, { actor: 'ana' });
      expect((await suite.client.result(id)).phase).toBe('Completed');
      const completedRun = (await suite.client.handle(id).describe()).runId;
      const undo = await cli(['undo', flag, '--reason', 'checkout errors', '--actor', 'ana', '--wait']);
      expect(undo.code, undo.stderr).toBe(0);
      expect(undo.stdout).toContain(`undoing ${id} (completed run ${completedRun}): run `);
      expect(undo.stdout).toMatch(/sets it back to 0%\nRolledBack: undo of run \S+: checkout errors\n$/);
      expect(
        (
          await createFlagdFileTarget(
            { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
            { baseDir: h.dir },
          ).read()
        ).percent,
      ).toBe(0);
      const history = await cli(['history', flag]);
      expect(history.stdout).toMatch(/RolledBack .*ana \(unauthenticated\)/);
    } finally {
      await h.stop();
    }
  });

  it('approve without --step approves the step that waits, and refuses when none waits; list has a header; --version', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-approve');
      const id = rolloutIdForFlag(flag);
      const file = await specFile(h.dir, flagdSpec(flag, [{ exposure: 5 }, { approval: {} }, { exposure: 100 }]));
      expect((await cli(['start', file, '--task-queue', h.taskQueue], h.dir)).code).toBe(0);
      await waitFor(async () => (await suite.client.status(id)).phase === 'AwaitingApproval');
      const approved = await cli(['approve', flag, '--actor', 'ana']);
      expect(approved.code, approved.stderr).toBe(0);
      expect((await suite.client.result(id)).approvals).toEqual([
        expect.objectContaining({ step: 1, actor: 'ana (unauthenticated)' }),
      ]);
      const none = await cli(['approve', flag]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no step waits for approval: the rollout is Completed/);

      let list = await cli(['list', '--target', flag]);
      await waitFor(
        async () => / Completed /.test((list = await cli(['list', '--target', flag])).stdout),
        30_000,
        'Completed in the list',
      );
      const [header, ...rows] = list.stdout.trimEnd().split('\n');
      expect(header!.split(/\s+/)).toEqual(['ID', 'PHASE', 'EXPOSURE', 'STATUS']);
      expect(rows).toEqual([expect.stringMatching(new RegExp(`^${id}\\s+Completed\\s+100 %\\s+COMPLETED$`))]);
      // columns line up: every row's phase starts where the header's PHASE does
      expect(rows[0]!.indexOf('Completed')).toBe(header!.indexOf('PHASE'));

      const version = await cli(['--version']);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      await h.stop();
    }
  });

  it('list shows an absent phase and exposure as "—" (a run that failed on its spec set neither), never "null"', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-absent');
      // started as another SDK would, without search attributes, with a spec the workflow refuses
      const handle = await suite.env.client.workflow.start('progressiveRollout', {
        taskQueue: h.taskQueue,
        workflowId: rolloutIdForFlag(flag),
        args: [{ spec: flagdSpec(flag, [{ exposure: 150 }]) }],
      });
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'InvalidSpec' } });
      let row: string | undefined;
      await waitFor(
        async () => {
          const list = await cli(['list']);
          row = list.stdout.split('\n').find((line) => line.startsWith(`${rolloutIdForFlag(flag)} `));
          return row !== undefined && /Failed|FAILED/i.test(row);
        },
        60_000,
        'the failed run to be listed',
      );
      expect(row).not.toMatch(/null|undefined/);
      expect(row!.split(/\s+/).filter((cell) => cell === '—')).toHaveLength(2);
    } finally {
      await h.stop();
    }
  });

  it('history, status, list and watch show control characters from callers escaped, never raw', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('cli-escape');
      const id = rolloutIdForFlag(flag);
      await suite.client.start(
        {
          name: 'escapes',
          target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
          steps: [{ exposure: 5, observe: '1h' }, { exposure: 100 }],
          guards: [
            {
              name: 'errors\u001b[31m',
              source: { type: 'synthetic', series: { e: [0] } },
              query: 'e',
              max: 1,
              interval: '1s',
              failureLimit: 5,
            },
          ],
        },
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      // a terminal title, a screen wipe, a carriage return over the line, a C1 CSI and a bidi override
      await suite.client.breach(id, { guard: 'errors\u001b[31m', reason: 'wipe\u001b[2J\rFAKE' });
      await suite.client.pause(id, { reason: 'title\u001b]0;pwned\u0007 \u009b31m red', actor: 'eve\u202eevil' });
      await waitFor(async () => {
        const status = await suite.client.status(id);
        return status.measurements.some((m) => m.check < 0) && status.guards.length > 0;
      });
      const paused = await cli(['status', flag]);
      // watch on a pipe prints a line per change, guard names included, until the rollout ends
      const env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' };
      const child = spawn(process.execPath, [cliPath, 'watch', flag, '--interval', '100'], { env });
      let watchOut = '';
      let watchErr = '';
      child.stdout.on('data', (c: Buffer) => (watchOut += c.toString()));
      child.stderr.on('data', (c: Buffer) => (watchErr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await waitFor(() => watchOut.includes('errors'), 30_000, 'watch to show the guard');
      await suite.client.abort(id, { reason: 'stop\r\nerror: injected line', actor: 'eve' });
      await suite.client.result(id);
      expect(await exited).toBe(1);
      const outputs = {
        paused,
        status: await cli(['status', flag]),
        history: await cli(['history', flag]),
        list: await cli(['list', '--target', flag]),
        watch: { code: 1, stdout: watchOut, stderr: watchErr },
      };
      for (const [name, out] of Object.entries(outputs)) {
        expect(out.stderr, name).toBe('');
        // eslint-disable-next-line no-control-regex -- no control character other than the line breaks of the CLI itself
        expect(out.stdout, name).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      }
      expect(outputs.paused.stdout).toContain('paused: title\\x1b]0;pwned\\x07 \\x9b31m red (by eve\\u202eevil)');
      expect(outputs.paused.stdout).toContain('errors\\x1b[31m');
      expect(outputs.history.stdout).toContain('wipe\\x1b[2J\\x0dFAKE');
      expect(outputs.history.stdout).toContain('aborted by eve: stop\\x0d\\x0aerror: injected line');
      expect(outputs.history.stdout).not.toMatch(/^error: injected line/m);
      expect(outputs.status.stdout).toMatch(/rollback: aborted by eve: stop\\x0d\\x0aerror: injected line/);
      expect(outputs.list.stdout).toContain(`rollout/${flag}`);
      expect(outputs.watch.stdout).toContain('errors\\x1b[31m');
      // JSON stays JSON, with the same text inside
      const json = await cli(['history', flag, '--json']);
      expect(JSON.parse(json.stdout).timeline.at(-1).cause).toContain('aborted by eve: stop\r\nerror: injected line');
    } finally {
      await h.stop();
    }
  });

  it('a YAML alias bomb or an oversized spec: exit 2 with a one-line message, no stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-yaml-'));
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [prev, name] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const bomb = join(dir, 'bomb.yaml');
    await writeFile(bomb, `${levels.join('\n')}\n`);
    const huge = join(dir, 'huge.yaml');
    await writeFile(huge, `name: huge\ndescription: "${'x'.repeat(300 * 1024)}"\n`);
    const cases: [string[], RegExp][] = [
      [['validate', bomb], /^.*bomb\.yaml: too many YAML aliases \(at most 100 may be expanded\)$/],
      [['start', bomb], /^error: .*bomb\.yaml: too many YAML aliases \(at most 100 may be expanded\)$/],
      [['validate', huge], /^.*huge\.yaml: too large \(301 KB; a spec may be at most 256 KB of YAML or JSON\)$/],
      [['start', huge], /^error: .*huge\.yaml: too large \(301 KB; a spec may be at most 256 KB of YAML or JSON\)$/],
    ];
    for (const [args, message] of cases) {
      const out = await cli(args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr.trimEnd().split('\n'), args.join(' ')).toEqual([expect.stringMatching(message)]);
      expect(out.stdout).toBe('');
    }
  });

  it('an unreachable Temporal: exit 1 with "cannot reach Temporal at ADDRESS: reason", no stack trace', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const out = await cli(['status', 'some-flag'], undefined, address);
    expect(out.code).toBe(1);
    const [first, ...rest] = out.stderr.trimEnd().split('\n');
    expect(first).toBe(`error: cannot reach Temporal at ${address}: connection refused (is the server running?)`);
    expect(rest).toEqual([expect.stringMatching(/TEMPORAL_ADDRESS/)]); // the hint, and no stack trace
  }, 60_000);

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
      expect(waiting).toMatch(/ ▶ {2}2 approval/);
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

import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import type { Phase } from '../../src/domain/rollout-state.schema.js';
import {
  background,
  copyOfExamples,
  pointPrometheusAt,
  repoPath,
  sh,
  startRankerMetrics,
  until,
  useOwnTemporal,
  userEnv,
  withBuiltCli,
  type Background,
  type Ran,
  type RankerMetrics,
} from './examples-env.js';
import { forms, readmeBlock, readmeCommands, shownOutput, type ReadmeCommand } from './readme.js';

/*
 * The README's commands, run as a reader runs them: every line of every ```sh block and every inline
 * `npx rollout …` span, in README order, with `npx rollout` being the built CLI (package.json `bin`), through `sh -c`
 * so quotes and comments mean what they mean in a shell. A command runs here, or it is in SKIPPED_BY_DESIGN with the
 * reason; a new README command fails this file until it is one or the other.
 *
 * Where they run: a Temporal dev server of this file's own (the README's commands use the default task queue
 * `rollouts` and the fixed ID `rollout/ranker`), with the README's worker, `npx rollout worker`, running on it with
 * the example catalog (ROLLOUT_CONFIG). Commands run from a fresh directory standing for the repository root, holding
 * a copy of examples/ (so nothing in the repository is written), and the drill commands from that examples/ copy,
 * where the README's drill.yaml belongs (its `rolloutFile: ./ranker-v2.yaml` sits beside it). The one change to the
 * copy: the catalog's Prometheus provider (127.0.0.1:9090, where nothing listens in a test run) points at a real
 * Prometheus holding a healthy ranker's metrics, since a rollout whose guard source cannot be queried fails its
 * preflight.
 */

const README = readFileSync(repoPath('README.md'), 'utf8');
const COMMANDS = readmeCommands(README);

/** README commands this file does not run, and why. */
const SKIPPED_BY_DESIGN: Record<string, string> = {
  'npm install && npm start':
    'installs from the registry, then runs `rollout dev --demo` until Ctrl-C: its own Temporal server, Web UI and ' +
    'HTTP API on fixed ports (test/demo and test/dev run the demo and `rollout dev`)',
  'npm test': 'the whole suite, this file included',
  'ROLLOUT_CONFIG=/etc/rollout/rollout.config.yaml rollout worker --metrics-address 0.0.0.0:9464 --health-address 0.0.0.0:8081':
    'a container command with a mounted catalog and fixed ports; test/worker/worker-cli.test.ts runs the built ' +
    'worker with both endpoints on free ports and reads them',
  'npx rollout undo rollout/ranker --reason "conversion dropped" [--wait]':
    'the README walks one rollout that ends Aborted, which nothing undoes; test/cli runs `undo --wait` on a ' +
    'completed rollout and checks the flag back at its baseline',
  'npx rollout validate FILE': 'FILE is a placeholder; the catalog section runs the same command on a real file',
  'npx rollout serve --config rollout.config.yaml':
    'serves the HTTP API on port 8080 until stopped, with a rollout.config.yaml the README does not place ' +
    '(test/api covers the API)',
  'TEMPORAL_ADDRESS=temporal.internal:7233 npx rollout setup [--namespace rollouts] [--retention 72]':
    'points at a production server by design (temporal.internal); test/setup runs `rollout setup` against the dev ' +
    'server twice and on a fresh namespace, and the cluster profile runs it on a real server',
};

/** README lines that stand for several commands, and the commands they stand for (each of which runs). */
const NOTATION: Record<string, { why: string; commands: string[] }> = {
  'npx rollout drill list | trigger | pause | unpause | delete drill-ranker-drill': {
    why: 'five subcommands in one line, "|" between them (a shell would pipe them); `drill list` takes no ID',
    commands: [
      'npx rollout drill list',
      'npx rollout drill trigger drill-ranker-drill',
      'npx rollout drill pause drill-ranker-drill',
      'npx rollout drill unpause drill-ranker-drill',
      'npx rollout drill delete drill-ranker-drill',
    ],
  },
};

/** Commands with optional parts whose full form does not run (the bare form does), and why. */
const BARE_FORM_ONLY: Record<string, string> = {
  'npx rollout start examples/ranker-v2.yaml --config examples/rollout.config.yaml [--wait] [--json]':
    'rollout/ranker starts once: a second start is refused while it runs, and --wait would follow it to the end ' +
    'the commands below give it',
};

/** Exit codes other than 0 the README implies. */
const EXPECTED_EXIT: Record<string, { code: number; why: string }> = {
  'npx rollout watch rollout/ranker': {
    code: 1,
    why: 'watch follows the rollout to its end, and the README ends it with `abort`: a rollout that ended badly',
  },
};

/** What the file knows while the README's commands run. */
const state: {
  root: string;
  examples: string;
  worker?: Background;
  watchers: { command: string; run: Background }[];
  started?: string;
  metrics?: RankerMetrics;
  repoFlags: Record<string, string>;
} = { root: '', examples: '', watchers: [], repoFlags: {} };

const temporal = useOwnTemporal();
const env = () => userEnv(temporal.server.address);
const words = (command: string) => command.split(' ');
/** `drill run`, `status`, …: the subcommand a command runs. */
const subcommand = (command: string) => {
  const [, , first, second] = words(command);
  return first === 'drill' ? `drill ${second}` : (first ?? '');
};

async function status(id: string) {
  return temporal.client.status(id);
}

async function waitForPhase(phase: Phase, step?: number) {
  const id = state.started;
  if (id === undefined) throw new Error('no rollout was started by the commands before this one');
  await until(
    async () => {
      const s = await status(id);
      return s.phase === phase && (step === undefined || s.step === step);
    },
    `${id} to be ${phase}${step === undefined ? '' : ` at step ${step}`}`,
  );
}

/** How a runnable command is run and what it must print (beyond its exit code). */
interface How {
  /** Runs from the examples/ copy instead of the root. */
  inExamples?: true;
  /** Runs in the background until the end of the file. */
  background?: true;
  /** What must hold before it runs (the state the README's order leads to). */
  before?: (command: string) => Promise<void>;
  /** Runs again (each run must exit as expected) until this holds: for reads of eventually consistent lists. */
  until?: (out: Ran, command: string) => boolean;
  check: (out: Ran, command: string, readme: ReadmeCommand) => Promise<void> | void;
}

const acknowledged = (out: Ran, command: string) =>
  expect(out.stdout).toMatch(
    new RegExp(`^${subcommand(command)} accepted: ${state.started} is \\w+ at step \\d+$`, 'm'),
  );

const drillVerb = (out: Ran, command: string) => {
  const [, , , verb, id] = words(command);
  expect(out.stdout.trim()).toBe(`${verb}: ${id}`);
};

const HOW: Record<string, How> = {
  provision: {
    // the global setup found the Temporal CLI the same way, so this finds it again, downloading nothing
    check: (out) => expect(out.stdout.trim()).toBe(inject('temporalCliPath')),
  },
  schema: {
    check: (out) => {
      const schemas = JSON.parse(out.stdout) as { spec: { title: string }; catalog: { title: string } };
      expect(schemas.spec.title).toBe('Rollout spec');
      expect(schemas.catalog.title).toMatch(/^Rollout catalog/);
    },
  },
  validate: {
    check: (out, _command, readme) => {
      expect(out.stdout).toMatch(/: valid \(/);
      // what the README shows it printing, line for line
      if (readme.output.length > 0)
        expect(out.stdout.trimEnd().split('\n')).toEqual(
          readme.output.map((line) => expect.stringMatching(shownOutput(line))),
        );
    },
  },
  start: {
    check: (out) => {
      const id = /^started (rollout\/\S+)$/m.exec(out.stdout)?.[1];
      if (id === undefined) throw new Error(`no "started rollout/…" line:\n${out.stdout}`);
      state.started = id;
    },
  },
  status: {
    check: (out, command) => {
      if (command.includes('--json')) expect(JSON.parse(out.stdout)).toHaveProperty('phase');
      else expect(out.stdout).toContain(state.started);
    },
  },
  watch: { background: true, check: () => {} },
  list: {
    // a phase filter lists the rollout once it is in that phase, and visibility has caught up
    before: async (command) => {
      const phase = /--phase (\S+)/.exec(command)?.[1];
      if (phase) await waitForPhase(phase as Phase);
    },
    until: (out) => out.stdout.split('\n').some((row) => row.startsWith(`${state.started} `)),
    check: () => {},
  },
  history: { check: (out) => expect(out.stdout).toMatch(/ rollout started/) },
  pause: { check: acknowledged },
  resume: { check: acknowledged },
  promote: {
    // "end the current window": the rollout is observing its first step
    before: () => waitForPhase('Observing'),
    check: acknowledged,
  },
  approve: {
    before: (command) => waitForPhase('AwaitingApproval', Number(/--step (\d+)/.exec(command)?.[1]) - 1),
    check: acknowledged,
  },
  abort: { check: acknowledged },
  worker: {
    // the file's worker: started before the first command (see beforeAll), as written, and still running
    check: () => {
      expect(state.worker?.child.exitCode).toBeNull();
      expect(state.worker?.output().stderr).toContain('rollout worker running');
    },
  },
  report: {
    check: async (out, command) => {
      const file = join(state.root, /--out (\S+)/.exec(command)![1]!);
      expect(out.stdout.trim()).toBe(file);
      expect(await readFile(file, 'utf8')).toMatch(/^<!doctype html>/i);
    },
  },
  'drill run': {
    inExamples: true,
    check: (out) => expect(out.stdout).toMatch(/^drill passed: detected in \d+ ms, rolled back in \d+ ms$/m),
  },
  'drill schedule': {
    inExamples: true,
    check: (out) => expect(out.stdout.trim()).toBe('scheduled drill-ranker-drill'),
  },
  'drill list': { inExamples: true, check: (out) => expect(out.stdout).toMatch(/^drill-ranker-drill +active /m) },
  'drill trigger': {
    inExamples: true,
    check: async (out, command) => {
      drillVerb(out, command);
      // the schedule took the action before the README pauses it
      const schedule = temporal.env.client.schedule.getHandle(words(command)[4]!);
      await until(async () => {
        const { info } = await schedule.describe();
        return info.recentActions.length + info.runningActions.length > 0;
      }, 'the triggered drill to start');
    },
  },
  'drill pause': { inExamples: true, check: drillVerb },
  'drill unpause': { inExamples: true, check: drillVerb },
  'drill delete': { inExamples: true, check: drillVerb },
  'drill report': { inExamples: true, check: (out) => expect(out.stdout).toMatch(/^drills since /) },
};

/** The commands that run, in README order, each with the README line it comes from. */
const RUNS = COMMANDS.flatMap((readme) => {
  if (readme.command in SKIPPED_BY_DESIGN) return [];
  const commands = NOTATION[readme.command]?.commands ?? forms(readme.command);
  const runnable = commands.filter((c) => c.startsWith('npx rollout ') && subcommand(c) in HOW);
  if (runnable.length !== commands.length) return []; // unclassified: the classification test names it
  const ran = readme.command in BARE_FORM_ONLY ? runnable.slice(0, 1) : runnable;
  return ran.map((command) => ({ readme, command }));
});

beforeAll(async () => {
  for (const file of ['flags/flags.json', 'flags/sandbox/flags.json'])
    state.repoFlags[file] = await readFile(repoPath(`examples/${file}`), 'utf8');
  state.root = await copyOfExamples();
  state.examples = join(state.root, 'examples');
  state.metrics = await startRankerMetrics();
  await pointPrometheusAt(join(state.examples, 'rollout.config.yaml'), state.metrics.prometheusUrl);
  // the README's drill.yaml, where it belongs
  const drill = readmeBlock(README, 'yaml', /^# drill\.yaml/);
  if (!drill) throw new Error('README.md has no ```yaml block starting "# drill.yaml" for `drill run drill.yaml`');
  await writeFile(join(state.examples, 'drill.yaml'), drill);
  // the README's worker, as written, with the example catalog
  state.worker = background(withBuiltCli('npx rollout worker'), {
    cwd: state.root,
    env: userEnv(temporal.server.address, {
      ROLLOUT_CONFIG: join(state.examples, 'rollout.config.yaml'),
      LOG_LEVEL: 'info',
    }),
  });
  await until(
    () => state.worker!.output().stderr.includes('rollout worker running') || state.worker!.child.exitCode !== null,
    'the worker to run',
  );
  expect(state.worker.child.exitCode, state.worker.output().stderr).toBeNull();
}, 180_000);

afterAll(async () => {
  for (const { run } of state.watchers) await run.stop();
  await state.worker?.stop();
  await state.metrics?.stop();
  if (state.root) await rm(state.root, { recursive: true, force: true });
});

describe('README.md commands', () => {
  it('every command is run by this file or skipped by design, with a reason', () => {
    const unclassified = COMMANDS.filter(
      (c) => !(c.command in SKIPPED_BY_DESIGN) && !RUNS.some((r) => r.readme === c),
    ).map((c) => `README.md:${c.line}: ${c.command}`);
    expect(
      unclassified,
      'run these in test/examples/readme-commands.test.ts (HOW) or list them in SKIPPED_BY_DESIGN with the reason',
    ).toEqual([]);
    // the table stays true to the README
    const stale = Object.keys(SKIPPED_BY_DESIGN).filter((c) => !COMMANDS.some((r) => r.command === c));
    expect(stale, 'SKIPPED_BY_DESIGN lists commands the README no longer has').toEqual([]);
    expect(RUNS.length).toBeGreaterThan(0);
  });

  for (const { readme, command } of RUNS) {
    const how = HOW[subcommand(command)]!;
    const expected = EXPECTED_EXIT[command]?.code ?? 0;
    const why = EXPECTED_EXIT[command]?.why ?? 'the README shows no failure';
    const note =
      subcommand(command) === 'worker'
        ? ' (the worker, running since before the first command)'
        : how.background
          ? ' (in the background)'
          : '';
    it(`README.md:${readme.line}: ${command}${note}`, async () => {
      const cwd = how.inExamples ? state.examples : state.root;
      if (subcommand(command) === 'worker') return how.check({ code: 0, stdout: '', stderr: '' }, command, readme);
      await how.before?.(command);
      if (how.background) {
        state.watchers.push({ command, run: background(withBuiltCli(command), { cwd, env: env() }) });
        return;
      }
      let out = await sh(withBuiltCli(command), { cwd, env: env() });
      const unexpected = (o: Ran) => `exit ${o.code}, expected ${expected} (${why})\n${o.stdout}\n${o.stderr}`;
      expect(out.code, unexpected(out)).toBe(expected);
      if (how.until) {
        await until(async () => {
          if (how.until!(out, command)) return true;
          out = await sh(withBuiltCli(command), { cwd, env: env() });
          expect(out.code, unexpected(out)).toBe(expected);
          return how.until!(out, command);
        }, `\`${command}\` to show ${state.started}`);
      }
      await how.check(out, command, readme);
    }, 180_000);
  }

  it('ends where the README leaves it: rollout/ranker aborted at its baseline, both drills passed, the repository untouched', async () => {
    const id = state.started!;
    expect(id).toBe('rollout/ranker');
    // watch followed the rollout to its end and exited as the README implies
    for (const { command, run } of state.watchers) {
      const code = await run.exited;
      expect(code, `${command}\n${run.output().stdout}\n${run.output().stderr}`).toBe(
        EXPECTED_EXIT[command]?.code ?? 0,
      );
      expect(run.output().stdout).toMatch(/ Aborted step \d+\/4 exposure 0%/);
    }
    const final = await temporal.client.result(id);
    expect(final.phase).toBe('Aborted');
    expect(final.exposure.percent).toBe(0);
    expect(final.approvals).toEqual([expect.objectContaining({ step: 1 })]);
    expect(final.timeline.map((t) => t.cause)).toEqual(
      expect.arrayContaining([expect.stringMatching(/aborted by .* \(unauthenticated\): error budget/)]),
    );
    // the catalog target's flag file (in the copy) serves the baseline again
    const flags = join(state.examples, 'flags');
    const ranker = await createFlagdFileTarget(
      { type: 'flagd', path: 'flags.json', flag: 'new-ranker', variant: 'on', baselineVariant: 'off' },
      { baseDir: flags },
    ).read();
    expect(ranker.percent).toBe(0);
    // the triggered drill ran to its end too: the run and the scheduled run both passed, and the schedule is gone
    const report = await until(
      async () => {
        const out = await sh(withBuiltCli('npx rollout drill report --since 1h --json'), {
          cwd: state.examples,
          env: env(),
        });
        const summary = JSON.parse(out.stdout) as { drills: number; passed: number; failed: number };
        return summary.drills === 2 ? summary : undefined;
      },
      'the scheduled drill to end',
      180_000,
    );
    expect(report).toMatchObject({ drills: 2, passed: 2, failed: 0 });
    const sandbox = await createFlagdFileTarget(
      { type: 'flagd', path: 'sandbox/flags.json', flag: 'ranker-drill', variant: 'on', baselineVariant: 'off' },
      { baseDir: flags },
    ).read();
    expect(sandbox.percent).toBe(0);
    const schedules = await sh(withBuiltCli('npx rollout drill list --json'), { cwd: state.examples, env: env() });
    expect(JSON.parse(schedules.stdout)).toEqual([]);
    // nothing was written in the repository
    for (const [file, text] of Object.entries(state.repoFlags))
      expect(await readFile(repoPath(`examples/${file}`), 'utf8'), file).toBe(text);
  }, 240_000);
});

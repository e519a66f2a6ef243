import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { loadCatalogFile } from '../../src/catalog/load.js';
import { SecretStore } from '../../src/catalog/secrets.js';
import type { RolloutStatus } from '../../workflows/messages.js';
import { rolloutHarness, type RolloutHarness } from '../helpers/rollout-env.js';
import { bundle } from '../helpers/temporal.js';
import {
  copyOfExamples,
  EXAMPLES,
  exampleFiles,
  pointPrometheusAt,
  REPO_ROOT,
  sh,
  startRankerMetrics,
  until,
  useOwnTemporal,
  userEnv,
  withBuiltCli,
  type Ran,
  type RankerMetrics,
} from './examples-env.js';

/*
 * Every file in examples/, run the way the README tells a user to: the catalog is the worker's, `validate --config`
 * checks the spec against it, the spec is started with the CLI and driven to its end with the CLI (promote ends its
 * 5 m and 30 m windows early, as an operator would; approve releases its approval step), and the drill runs with
 * `drill run --wait`. Everything runs in a copy of examples/ (nothing in the repository is written), on a Temporal
 * dev server of this file's own (the example spec's workflow ID is fixed: `rollout/ranker`), with
 * one change to the copy: the catalog's Prometheus provider (127.0.0.1:9090, where nothing listens in a test run)
 * points at a real Prometheus scraping a healthy ranker, so the spec's guard really judges it.
 * (catalog-examples.test.ts checks that the files parse and resolve; this file runs them.)
 */

/** Each file in examples/ and the test here that exercises it: a new example fails this file until it has one. */
const EXERCISED: Record<string, string> = {
  '.gitignore': 'keeps the secret file the catalog declares out of git',
  'rollout.config.yaml': "the worker's catalog; `validate --config`; the commands in its comments",
  'ranker-v2.yaml': 'validated, started and driven to Completed with the CLI',
  'ranker-drill.yaml': '`drill run --wait` passes',
  'flags/flags.json': "the ranker target's flag file: at 100 % once the rollout completes",
  'flags/sandbox/flags.json': "the drill's sandbox flag file: at its baseline once the drill passed",
  'targets/percent-file.mjs':
    'loaded by `rollout worker --targets` in test/worker/extension-target.test.ts: a rollout to 100 % and an abort',
};

/** Commands written in the examples' comments that do not run here, and why. */
const COMMENT_COMMANDS_SKIPPED_BY_DESIGN: Record<string, string> = {
  'npx rollout dev --config examples/rollout.config.yaml':
    'runs until Ctrl-C with its own Temporal server, Web UI and HTTP API on fixed ports (test/dev runs `rollout dev`)',
};

/**
 * Each command written in a comment of an example file: `npx rollout …` (in backticks, or up to two blanks or the line
 * end) and what a comment says to "Create it with: …".
 */
interface CommentCommand {
  where: string;
  command: string;
  kind: 'rollout' | 'create';
}
const COMMENT_COMMANDS: CommentCommand[] = readdirSync(EXAMPLES, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
  .map((e) => relative(EXAMPLES, join(e.parentPath, e.name)))
  .sort()
  .flatMap((file) =>
    readFileSync(join(EXAMPLES, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        const comment = /^\s*#(.*)$/.exec(line)?.[1] ?? '';
        const pattern = /`(npx rollout [^`]+)`|(npx rollout .+?)(?= {2,}|$)|Create it with: (.+?)(?= {2,}|$)/g;
        return [...comment.matchAll(pattern)].map((m): CommentCommand => ({
          where: `examples/${file}:${i + 1}`,
          command: (m[1] ?? m[2] ?? m[3])!.trim(),
          kind: m[3] === undefined ? 'rollout' : 'create',
        }));
      }),
  );
/** Comment commands run here: what they create, `validate` and `schema`. */
const runsHere = (c: CommentCommand) => c.kind === 'create' || /^npx rollout (validate|schema)( |$)/.test(c.command);

const temporal = useOwnTemporal();
const state = {} as {
  /** Stands for the repository root: `examples/` in it is the copy. */
  root: string;
  examples: string;
  metrics: RankerMetrics;
  harness: RolloutHarness;
  repoFlags: Record<string, string>;
};

/** `npx rollout …` (the built CLI) from the examples/ copy, or from `cwd`. */
const rollout = (args: string, cwd = state.examples) =>
  sh(withBuiltCli(`npx rollout ${args}`), { cwd, env: userEnv(temporal.server.address) });
const shown = (out: Ran) => `exit ${out.code}\n${out.stdout}\n${out.stderr}`;

async function statusJson(id: string): Promise<RolloutStatus> {
  const out = await rollout(`status ${id} --json`);
  expect(out.code, shown(out)).toBe(0);
  return JSON.parse(out.stdout) as RolloutStatus;
}

/** Polls the rollout's status (as `status` reads it, without a process per look) until `predicate` holds. */
const statusWhen = (id: string, what: string, predicate: (s: RolloutStatus) => boolean) =>
  until(async () => {
    const s = await temporal.client.status(id);
    return predicate(s) ? s : undefined;
  }, `${id}: ${what}`);

const flagFile = (path: string, flag: string) =>
  createFlagdFileTarget(
    { type: 'flagd', path, flag, variant: 'on', baselineVariant: 'off' },
    { baseDir: join(state.examples, 'flags') },
  ).read();

beforeAll(async () => {
  state.repoFlags = {};
  for (const file of ['flags/flags.json', 'flags/sandbox/flags.json'])
    state.repoFlags[file] = await readFile(join(EXAMPLES, file), 'utf8');
  state.root = await copyOfExamples();
  state.examples = join(state.root, 'examples');
  state.metrics = await startRankerMetrics();
  await pointPrometheusAt(join(state.examples, 'rollout.config.yaml'), state.metrics.prometheusUrl);
  const workflows = await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname);
  state.harness = await rolloutHarness(temporal.env, workflows, {
    catalog: await loadCatalogFile(join(state.examples, 'rollout.config.yaml')),
  });
}, 180_000);

afterAll(async () => {
  await state.harness?.stop();
  await state.metrics?.stop();
  if (state.root) await rm(state.root, { recursive: true, force: true });
});

describe('examples/ as a user runs them', () => {
  it('every file in examples/ is exercised here', async () => {
    expect(await exampleFiles(), 'add a test for the new example and list it in EXERCISED').toEqual(
      Object.keys(EXERCISED).sort(),
    );
  });

  it('.gitignore keeps every secret file the catalog declares out of git', async () => {
    const { catalog, dir } = await loadCatalogFile(join(EXAMPLES, 'rollout.config.yaml'));
    const files = Object.values(catalog.secrets).flatMap((s) => ('file' in s ? [s.file] : []));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const path = relative(REPO_ROOT, join(dir, file));
      const check = spawnSync('git', ['check-ignore', '--no-index', '--verbose', path], { cwd: REPO_ROOT });
      expect(check.status, `${path} is not ignored`).toBe(0);
      expect(check.stdout.toString()).toMatch(/^examples\/\.gitignore:/);
    }
  });

  describe("the commands in the examples' comments, as written, from the repository root", () => {
    it('each runs below or is skipped by design', () => {
      const unclassified = COMMENT_COMMANDS.filter(
        (c) => !runsHere(c) && !(c.command in COMMENT_COMMANDS_SKIPPED_BY_DESIGN),
      ).map((c) => `${c.where}: ${c.command}`);
      expect(unclassified, 'run it in examples-run.test.ts or add it to COMMENT_COMMANDS_SKIPPED_BY_DESIGN').toEqual(
        [],
      );
      expect(COMMENT_COMMANDS.filter(runsHere).length).toBeGreaterThan(0);
    });

    for (const c of COMMENT_COMMANDS.filter(runsHere)) {
      it(`${c.where}: ${c.command}`, async () => {
        const out = await sh(withBuiltCli(c.command), { cwd: state.root, env: userEnv(temporal.server.address) });
        expect(out.code, `${c.where}: \`${c.command}\` in a fresh clone: ${shown(out)}`).toBe(0);
        if (c.kind === 'create') {
          // what it creates is what the catalog reads: every secret file it declares can now be read
          const loaded = await loadCatalogFile(join(state.examples, 'rollout.config.yaml'));
          const secrets = new SecretStore(loaded, {});
          for (const [name, secret] of Object.entries(loaded.catalog.secrets))
            if ('file' in secret) expect(await secrets.get(name), name).toMatch(/^\S{16,}$/);
        } else if (/^npx rollout validate /.test(c.command)) {
          expect(out.stdout).toMatch(/: valid \(\d+ steps, \d+ guards\) against \//);
        } else {
          const schema = JSON.parse(out.stdout) as { title?: string; spec?: unknown; catalog?: unknown };
          expect(schema.title ?? Object.keys(schema).join(', ')).toMatch(/^Rollout (spec|catalog)|^spec, catalog$/);
        }
      });
    }
  });

  it('rollout validate ranker-v2.yaml --config rollout.config.yaml: exit 0, and what the target resolved to', async () => {
    const out = await rollout('validate ranker-v2.yaml --config rollout.config.yaml');
    expect(out.code, shown(out)).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`ranker-v2.yaml: valid (4 steps, 1 guards) against ${state.examples}/rollout.config.yaml`);
    // the catalog target: the flagd file under the catalog's root, its flag and variants
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^target: flagd \S*flags\.json\b.* flag new-ranker: off → on$/),
    ]);
  });

  it('ranker-v2.yaml: started with the CLI, its guard judges a real Prometheus, promoted and approved to Completed', async () => {
    const queue = `--task-queue ${state.harness.taskQueue}`;
    const started = await rollout(`start ranker-v2.yaml --config rollout.config.yaml ${queue}`);
    expect(started.code, shown(started)).toBe(0);
    expect(started.stdout).toMatch(/^started rollout\/ranker$/m);
    const id = 'rollout/ranker';

    // step 0 at 1 %: the error-rate template's query answers from Prometheus, and the healthy ranker passes it
    const measured = await statusWhen(id, 'a guard measurement at step 0', (s) => (s.guards[0]?.checks ?? 0) > 0);
    expect(measured).toMatchObject({ phase: 'Observing', step: 0, exposure: { percent: 1 } });
    expect(measured.guards).toEqual([
      expect.objectContaining({
        name: 'error-rate',
        verdict: 'Successful',
        value: 0,
        threshold: expect.stringContaining('0.02'),
      }),
    ]);

    // an operator ends the 5 m window early, approves step 1 (no `approvers`: the CLI may), ends the 30 m window
    const promoted = await rollout(`promote ${id}`);
    expect(promoted.code, shown(promoted)).toBe(0);
    await statusWhen(id, 'waiting for approval of step 1', (s) => s.phase === 'AwaitingApproval' && s.step === 1);
    const approved = await rollout(`approve ${id} --step 2`);
    expect(approved.code, shown(approved)).toBe(0);
    const cohort = await statusWhen(id, 'observing step 2', (s) => s.phase === 'Observing' && s.step === 2);
    expect(cohort.exposure).toEqual({ percent: 25, cohort: { attribute: 'region', values: ['eu-west'] } });
    const promotedAgain = await rollout(`promote ${id}`);
    expect(promotedAgain.code, shown(promotedAgain)).toBe(0);

    // `watch` follows it to its end: exit 0 on Completed
    const watched = await rollout(`watch ${id} --interval 200`);
    expect(watched.code, shown(watched)).toBe(0);
    const final = await statusJson(id);
    expect(final).toMatchObject({ phase: 'Completed', step: 4, exposure: { percent: 100 } });
    expect(final.approvals).toEqual([
      expect.objectContaining({ step: 1, actor: expect.stringMatching(/ \(unauthenticated\)$/) }),
    ]);
    expect(final.windows.map((w) => [w.step, w.outcome])).toEqual([
      [0, 'promoted'],
      [2, 'promoted'],
    ]);
    // the catalog target's flag file, in the copy, serves the new variant to everyone
    expect(await flagFile('flags.json', 'new-ranker')).toMatchObject({ percent: 100 });
  }, 300_000);

  it('ranker-drill.yaml: `drill run --wait` passes, and its sandbox flag is back at its baseline', async () => {
    const ranker = await readFile(join(state.examples, 'flags', 'flags.json'), 'utf8');
    const out = await rollout(`drill run ranker-drill.yaml --wait --task-queue ${state.harness.taskQueue}`);
    expect(out.code, shown(out)).toBe(0);
    expect(out.stdout).toMatch(/^drill passed: detected in \d+ ms, rolled back in \d+ ms$/m);
    // its rollout (a child of the drill) is listed under the sandbox flag, rolled back
    const listed = await until(async () => {
      const list = await rollout('list --target ranker-drill --json');
      expect(list.code, shown(list)).toBe(0);
      const rows = JSON.parse(list.stdout) as { workflowId: string; phase: string | null; exposure: number | null }[];
      return rows.length > 0 && rows.every((r) => r.phase === 'RolledBack') ? rows : undefined;
    }, 'the drill rollout listed as RolledBack');
    expect(listed).toEqual([
      expect.objectContaining({ workflowId: expect.stringMatching(/^drill\/ranker-drill\/.*\/rollout$/), exposure: 0 }),
    ]);
    expect(await flagFile('sandbox/flags.json', 'ranker-drill')).toMatchObject({ percent: 0 });
    // the sandbox is not the catalog target's flag file: the drill left that one alone
    expect(await readFile(join(state.examples, 'flags', 'flags.json'), 'utf8')).toBe(ranker);
  }, 180_000);

  it("writes nothing in the repository's examples/", async () => {
    for (const [file, text] of Object.entries(state.repoFlags))
      expect(await readFile(join(EXAMPLES, file), 'utf8'), file).toBe(text);
  });
});

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const run = promisify(execFile);
// the suite starts the shared dev server these subprocesses connect to
useRolloutSuite();
const cliPath = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn', ...env },
      cwd,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/*
 * The catalog end to end, as an operator runs it: `rollout worker` reads the catalog named by ROLLOUT_CONFIG, a
 * caller's spec names its target and guard template, the CLI validates against the same file and starts the rollout.
 */
describe('rollout worker with an operator catalog (built CLI, as subprocesses, on the real dev server)', () => {
  const flag = uniqueFlag('catalog-cli');
  const taskQueue = uniqueTaskQueue('catalog-cli');
  let dir: string;
  let worker: ChildProcess;
  let workerLog = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catalog-cli-'));
    await mkdir(join(dir, 'flags'));
    await writeFile(
      join(dir, 'rollout.config.yaml'),
      [
        'roots: { flags: ./flags }',
        'targets:',
        `  checkout: { type: flagd, root: flags, path: checkout.json, flag: ${flag}, variant: "on", baselineVariant: "off" }`,
        'templates:',
        '  error-rate:',
        '    args: { max: { type: number, default: 0.05 } }',
        '    guard: { source: { type: synthetic, series: { errors: [0.01] } }, query: errors, max: "{{ args.max }}", interval: 100ms }',
        'policy:',
        '  targets: { checkout: { maxFirstStep: 10, requiredGuards: [error-rate] } }',
      ].join('\n'),
    );
    worker = spawn(process.execPath, [cliPath, 'worker', '--task-queue', taskQueue], {
      cwd: dir,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        ROLLOUT_CONFIG: join(dir, 'rollout.config.yaml'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr!.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
    await waitFor(async () => workerLog.includes('rollout worker running'), 60_000, 'worker running');
  }, 90_000);

  afterAll(async () => {
    if (worker.exitCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
  });

  it('loads the catalog it is given and says so', () => {
    expect(workerLog).toMatch(/"catalog":"[^"]*rollout\.config\.yaml"/);
    expect(workerLog).toContain('catalog loaded');
  });

  it('validate --config says what the target resolved to; a policy breach exits 2 naming the rule', async () => {
    await writeFile(
      join(dir, 'good.yaml'),
      'name: checkout-v2\ntarget: checkout\nsteps: [{ exposure: 10, observe: 300ms }, { exposure: 100 }]\nguards: [{ template: error-rate }]\n',
    );
    const good = await cli(['validate', 'good.yaml', '--config', 'rollout.config.yaml'], dir);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(
      `target: flagd ${join(dir, 'flags', 'checkout.json')} (root flags) flag ${flag}: off → on`,
    );

    await writeFile(join(dir, 'wide.yaml'), 'name: checkout-v2\ntarget: checkout\nsteps: [{ exposure: 50 }]\n');
    const wide = await cli(['validate', 'wide.yaml', '--config', 'rollout.config.yaml'], dir);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toMatch(/maxFirstStep: the first step may expose at most 10 %, not 50 %/);
    expect(wide.stderr).toMatch(/requiredGuards: must include guard "error-rate"/);
  });

  it('a spec naming the catalog target runs to Completed and writes the flag file under the root', async () => {
    const started = await cli(['start', 'good.yaml', '--wait', '--task-queue', taskQueue], dir);
    expect(started.code, started.stderr + started.stdout).toBe(0);
    expect(started.stdout).toContain('started rollout/checkout');
    expect(started.stdout).toMatch(/Completed/);
    const file = JSON.parse(await readFile(join(dir, 'flags', 'checkout.json'), 'utf8')) as {
      flags: Record<string, { metadata: Record<string, unknown> }>;
    };
    expect(Object.values(file.flags[flag]!.metadata)).toContain(100);
  });

  it('a spec the catalog refuses, started without the catalog at hand, fails InvalidSpec in the worker and writes nothing', async () => {
    await writeFile(
      join(dir, 'stray.yaml'),
      `name: stray\ntarget: { type: flagd, path: stray.json, flag: ${flag}-stray, variant: "on", baselineVariant: "off" }\nsteps: [{ exposure: 5 }]\n`,
    );
    const started = await cli(['start', 'stray.yaml', '--wait', '--task-queue', taskQueue], dir, {
      ROLLOUT_CONFIG: '',
    });
    expect(started.code).not.toBe(0);
    expect(`${started.stdout}${started.stderr}`).toMatch(/target: inline flagd targets are not allowed/);
    await expect(readFile(join(dir, 'flags', 'stray.json'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(dir, 'stray.json'))).rejects.toThrow(/ENOENT/);
  });

  it('schema prints the spec and the catalog schemas', async () => {
    const out = await cli(['schema'], dir);
    const schemas = JSON.parse(out.stdout) as {
      spec: { title: string };
      catalog: { title: string; properties: object };
    };
    expect(schemas.spec.title).toBe('Rollout spec');
    expect(Object.keys(schemas.catalog.properties)).toEqual(
      expect.arrayContaining(['roots', 'secrets', 'targets', 'providers', 'templates', 'principals', 'policy']),
    );
  });
});

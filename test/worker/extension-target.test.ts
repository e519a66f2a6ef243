import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { catalogOf } from '../../src/catalog/load.js';

const suite = useRolloutSuite();
const repoRoot = new URL('../..', import.meta.url).pathname;
const cliPath = join(repoRoot, 'dist/src/cli/main.js');
const example = join(repoRoot, 'examples/targets/percent-file.mjs');

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
}

/** A catalog with one `percent-file` extension target under `dir/flags`. */
async function catalogIn(dir: string, flag: string, settings: Record<string, unknown> = { root: 'flags' }) {
  await mkdir(join(dir, 'flags'), { recursive: true });
  const catalog = {
    roots: { flags: 'flags' },
    targets: {
      'checkout-percent': {
        type: 'extension',
        kind: 'percent-file',
        flag,
        variant: 'on',
        baselineVariant: 'off',
        settings,
      },
    },
  };
  await writeFile(join(dir, 'rollout.config.yaml'), stringify(catalog));
  return catalogOf(catalog, dir);
}

describe('rollout worker --targets: the README’s worked example kind, in the built CLI on the real dev server', () => {
  it('runs a rollout on a catalog extension target served by examples/targets/percent-file.mjs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'extension-target-'));
    const flag = uniqueFlag('percent');
    const loaded = await catalogIn(dir, flag);
    const taskQueue = `ext-${uniqueFlag('q')}`;
    let stderr = '';
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'worker',
        '--config',
        join(dir, 'rollout.config.yaml'),
        '--task-queue',
        taskQueue,
        '--targets',
        example,
      ],
      { env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    try {
      const spec = { name: 'percent', target: 'checkout-percent', steps: [{ exposure: 10 }, { exposure: 100 }] };
      const { workflowId } = await suite.client.start(spec, { taskQueue, catalog: loaded.catalog });
      const result = await suite.client.result(workflowId);
      expect(result.phase, stderr).toBe('Completed');
      const written = JSON.parse(await readFile(join(dir, 'flags', `${flag}.exposure.json`), 'utf8')) as object;
      expect(written).toMatchObject({ flag, variant: 'on', baselineVariant: 'off', percent: 100 });

      // and back: an abort of a second run returns the file to 0 %
      const again = await suite.client.start(
        { ...spec, steps: [{ exposure: 30, observe: '1h' }, { exposure: 100 }] },
        { taskQueue, catalog: loaded.catalog },
      );
      await waitFor(async () => (await suite.client.status(again.workflowId)).phase === 'Observing', 60_000);
      await suite.client.abort(again.workflowId, { reason: 'extension test', actor: 'ana' });
      expect((await suite.client.result(again.workflowId)).phase).toBe('Aborted');
      const back = JSON.parse(await readFile(join(dir, 'flags', `${flag}.exposure.json`), 'utf8')) as object;
      expect(back).toMatchObject({ percent: 0 });
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });

  it('refuses to start on a catalog entry the registered kinds cannot serve, naming it by path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'extension-target-'));
    await catalogIn(dir, uniqueFlag('percent'), { directory: 'flags' });
    const child = spawn(
      process.execPath,
      [cliPath, 'worker', '--config', join(dir, 'rollout.config.yaml'), '--targets', example],
      { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await exited(child)).not.toBe(0);
    expect(stderr).toContain('targets.checkout-percent.settings');
    expect(stderr).toContain('names targets this worker cannot serve');

    const noKind = spawn(process.execPath, [cliPath, 'worker', '--config', join(dir, 'rollout.config.yaml')], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let noKindErr = '';
    noKind.stderr!.on('data', (c: Buffer) => (noKindErr += c.toString()));
    expect(await exited(noKind)).not.toBe(0);
    expect(noKindErr).toContain('targets.checkout-percent.kind: no target kind "percent-file" is registered');
  });
});

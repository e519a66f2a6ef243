import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/util/ports.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();
const cliPath = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

const memorySpec = (flag: string, steps: unknown[]) => ({
  name: 'metrics',
  target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
  steps,
});

/** The value of every sample of `name` whose labels include `labels`, summed (undefined when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
}

describe('rollout worker --metrics-address --health-address (the built CLI, on the real dev server)', () => {
  it('serves SDK metrics and rollout counters, and reports ready while it polls', async () => {
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const taskQueue = `metrics-${uniqueFlag('q')}`;
    let stderr = '';
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'worker',
        '--task-queue',
        taskQueue,
        '--metrics-address',
        `127.0.0.1:${metricsPort}`,
        '--health-address',
        `127.0.0.1:${healthPort}`,
      ],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_FORMAT: 'json' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    const health = `http://127.0.0.1:${healthPort}`;
    const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    try {
      await waitFor(
        async () => (await get(`${health}/readyz`).catch(() => ({ status: 0 }))).status === 200,
        60_000,
        'ready',
      );
      const ready = JSON.parse((await get(`${health}/readyz`)).text) as Record<string, unknown>;
      expect(ready).toMatchObject({ status: 'ok', state: 'RUNNING', taskQueue });
      expect((await get(`${health}/livez`)).status).toBe(200);
      expect((await get(`${health}/other`)).status).toBe(404);

      // one rollout completes, another is aborted
      const done = await suite.client.start(memorySpec(uniqueFlag('m-done'), [{ exposure: 100 }]), { taskQueue });
      expect((await suite.client.result(done.workflowId)).phase).toBe('Completed');
      const aborted = await suite.client.start(memorySpec(uniqueFlag('m-abort'), [{ exposure: 5, observe: '1h' }]), {
        taskQueue,
      });
      await waitFor(async () => (await suite.client.status(aborted.workflowId)).phase === 'Observing');
      await suite.client.abort(aborted.workflowId, { reason: 'metrics test', actor: 'ana' });
      expect((await suite.client.result(aborted.workflowId)).phase).toBe('Aborted');

      let text = '';
      await waitFor(
        async () => {
          text = (await get(metrics)).text;
          // one scrape that has seen both runs end, in our counters and in the SDK's (recorded a moment apart)
          return (
            sample(text, 'rollout_finished_total', { phase: 'Aborted' }) === 1 &&
            sample(text, 'temporal_workflow_completed_total', { workflow_type: 'progressiveRollout' }) === 2
          );
        },
        30_000,
        'the counters',
      );
      // the rollouts' own counters, labelled by closed sets only
      expect(sample(text, 'rollout_started_total')).toBe(2);
      expect(sample(text, 'rollout_finished_total', { phase: 'Completed' })).toBe(1);
      expect(sample(text, 'rollout_rollbacks_total', { trigger: 'abort' })).toBe(1);
      expect(sample(text, 'rollout_exposure_changes_total')).toBe(2);
      expect(text).not.toMatch(/m-done|m-abort/); // no flag name becomes a label
      // and the SDK's worker metrics
      expect(sample(text, 'temporal_workflow_completed_total', { workflow_type: 'progressiveRollout' })).toBe(2);
      expect(sample(text, 'temporal_activity_execution_latency_count')).toBeGreaterThanOrEqual(3);
      expect(text).toContain('temporal_sticky_cache_size');

      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
      await expect(fetch(`${health}/livez`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(stderr).toContain('worker health endpoint listening');
  });

  it('--deployment: a version whose build ID is the package version and the bundle hash, the same on every start', async () => {
    const deployment = `cli-${uniqueFlag('d')}`;
    const taskQueue = `deploy-${uniqueFlag('q')}`;
    const spawnWorker = async () => {
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [
          cliPath,
          'worker',
          '--task-queue',
          taskQueue,
          '--deployment',
          deployment,
          '--health-address',
          `127.0.0.1:${port}`,
        ],
        { env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') }, stdio: ['ignore', 'ignore', 'ignore'] },
      );
      const url = `http://127.0.0.1:${port}/readyz`;
      await waitFor(async () => (await get(url).catch(() => ({ status: 0 }))).status === 200, 90_000, 'ready');
      return { child, ready: JSON.parse((await get(url)).text) as { buildId: string } };
    };
    const one = await spawnWorker();
    const two = await spawnWorker();
    try {
      const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      const escaped = version.replace(/\./g, '\\.');
      expect(one.ready.buildId).toMatch(new RegExp(`^${deployment}\\.${escaped}\\+[0-9a-f]{12}$`));
      expect(two.ready.buildId).toBe(one.ready.buildId);
      const buildId = one.ready.buildId.slice(deployment.length + 1);
      await waitFor(async () => {
        try {
          await suite.env.client.workflowService.setWorkerDeploymentCurrentVersion({
            namespace: 'default',
            deploymentName: deployment,
            buildId,
          });
          return true;
        } catch {
          return false;
        }
      }, 30_000);
      const done = await suite.client.start(memorySpec(uniqueFlag('m-deploy'), [{ exposure: 100 }]), { taskQueue });
      expect((await suite.client.result(done.workflowId)).phase).toBe('Completed');
      const history = await suite.client.handle(done.workflowId).fetchHistory();
      const builds = (history.events ?? []).flatMap((e) =>
        e.workflowTaskCompletedEventAttributes
          ? [e.workflowTaskCompletedEventAttributes.deploymentVersion?.buildId]
          : [],
      );
      expect(new Set(builds)).toEqual(new Set([buildId]));
    } finally {
      one.child.kill('SIGTERM');
      two.child.kill('SIGTERM');
      await Promise.all([exited(one.child), exited(two.child)]);
    }
  });

  it('refuses an address that is not host:port as a usage error, before it connects', async () => {
    const child = spawn(process.execPath, [cliPath, 'worker', '--metrics-address', 'nine-four-six-four'], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toMatch(/--metrics-address.*"nine-four-six-four" is not host:port/);
  });
});

import { mkdir, readFile, rename, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { flagService } from './flag-service.js';

/**
 * The exposure target is down exactly when it matters: during rollback. The saga must keep retrying, say so in
 * `status` (what is failing and why), and finish with the target at its baseline once the target is back.
 */
const suite = useRolloutSuite();
let h: RolloutHarness;
beforeAll(async () => {
  h = await rolloutHarness(suite.env, suite.bundle);
});
afterAll(async () => {
  await h?.stop();
});

describe('target outage during rollback', () => {
  it('HTTP target answering 503: status shows the retrying rollback and its error; after recovery the target reads baseline', async () => {
    const svc = await flagService();
    try {
      const flag = uniqueFlag('outage-http');
      const { workflowId: id } = await h.start({
        name: 'outage-http',
        target: { type: 'http', url: `${svc.url}/flags/${flag}`, flag, variant: 'on', baselineVariant: 'off' },
        steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
      });
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing', 20_000, 'Observing');
      expect(svc.state.percent).toBe(10);

      svc.outage(503);
      await suite.client.abort(id, { reason: 'error budget', actor: 'oncall' });
      await waitFor(
        async () => ((await suite.client.status(id)).rollback?.failedAttempts ?? 0) >= 2,
        30_000,
        'two failed rollback attempts',
      );
      const during = await suite.client.status(id);
      expect(during.phase).toBe('RollingBack');
      expect(during.rollback).toMatchObject({
        retrying: true,
        retryingWhat: 'exposure to 0%',
        lastError: expect.stringMatching(/answered 503.*maintenance window/),
        nextRetryAt: expect.any(String),
      });
      expect(svc.state.percent).toBe(10); // nothing got through
      const failedPuts = svc.puts.filter((p) => p.status === 503);
      expect(failedPuts.length).toBeGreaterThanOrEqual(2);

      svc.recover();
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Aborted');
      expect(result.rollback).toMatchObject({ retrying: false, done: ['exposure to 0%', 'verify baseline'] });
      expect(result.rollback!.failedAttempts).toBeGreaterThanOrEqual(2);
      expect(svc.state.percent).toBe(0);
      // every retry of the restore carried the one idempotency key of that operation
      const restoreKey = svc.puts.find((p) => p.percent === 0 && p.status === 200)!.idempotencyKey;
      expect(new Set(failedPuts.map((p) => p.idempotencyKey))).toEqual(new Set([restoreKey]));
    } finally {
      await svc.close();
    }
  });

  it('flagd file replaced by a directory (fails even as root): rollback retries, then restores baseline and keeps other flags', async () => {
    const flag = uniqueFlag('outage-flagd');
    const file = join(h.dir, 'flags.json');
    await writeFile(
      file,
      JSON.stringify(
        { flags: { bystander: { state: 'ENABLED', variants: { a: 1, b: 2 }, defaultVariant: 'b' } } },
        null,
        2,
      ),
    );
    const { workflowId: id } = await h.start(flagdSpec(flag, [{ exposure: 30, observe: '1h' }, { exposure: 100 }]));
    await waitFor(async () => (await suite.client.status(id)).phase === 'Observing', 20_000, 'Observing');
    const read = () =>
      createFlagdFileTarget(
        { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
        { baseDir: h.dir },
      ).read();
    expect((await read()).percent).toBe(30);

    // chmod does not stop root; a directory where the file should be stops every reader and writer
    const aside = join(h.dir, 'flags.json.aside');
    await rename(file, aside);
    await mkdir(file);
    try {
      await suite.client.abort(id, { reason: 'bad metrics', actor: 'oncall' });
      await waitFor(
        async () => ((await suite.client.status(id)).rollback?.failedAttempts ?? 0) >= 2,
        30_000,
        'two failed rollback attempts',
      );
      const during = await suite.client.status(id);
      expect(during.phase).toBe('RollingBack');
      expect(during.rollback).toMatchObject({
        retrying: true,
        retryingWhat: 'exposure to 0%',
        lastError: expect.stringMatching(/EISDIR/),
      });
    } finally {
      await rmdir(file);
      await rename(aside, file);
    }
    const result = await suite.client.result(id);
    expect(result.phase).toBe('Aborted');
    expect(result.rollback?.retrying).toBe(false);
    expect((await read()).percent).toBe(0);
    const flags = (JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, unknown> }).flags;
    expect(flags.bystander).toEqual({ state: 'ENABLED', variants: { a: 1, b: 2 }, defaultVariant: 'b' });
  });
});

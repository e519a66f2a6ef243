import { describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { httpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

const readFlag = (dir: string, flag: string) =>
  createFlagdFileTarget(
    { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
    { baseDir: dir },
  ).read();

describe('rollback saga', () => {
  // step 1 is where the abort lands, in each phase a rollout can wait in
  const cases: { phase: string; step: RolloutSpecInput['steps'][number] }[] = [
    { phase: 'Observing', step: { exposure: 25, observe: '1h' } },
    { phase: 'AwaitingApproval', step: { approval: { timeout: '1h' } } },
    { phase: 'Paused', step: { pause: {} } },
  ];
  it.each(cases)(
    'an abort while $phase returns the flag to baseline and runs compensations in reverse',
    async ({ phase, step }) => {
      const hooks = await httpRecorder();
      const h = await rolloutHarness(suite.env, suite.bundle);
      try {
        const flag = uniqueFlag('abort');
        const id = (
          await suite.client.start(
            flagdSpec(flag, [{ exposure: 5, observe: '50ms' }, step, { exposure: 100 }], {
              rollback: {
                compensations: [
                  { name: 'scale-down', http: { url: `${hooks.url}/scale-down`, body: { replicas: 0 } } },
                  { name: 'purge-cache', http: { url: `${hooks.url}/purge-cache`, method: 'DELETE' } },
                ],
              },
            }),
            { taskQueue: h.taskQueue },
          )
        ).workflowId;
        await waitFor(async () => {
          const s = await suite.client.status(id);
          return s.step === 1 && s.phase === phase;
        });
        expect((await readFlag(h.dir, flag)).percent).toBe(phase === 'Observing' ? 25 : 5);
        await suite.client.abort(id, { reason: 'error budget burning', actor: 'oncall' });
        const result = await suite.client.result(id);
        expect(result.phase).toBe('Aborted');
        expect(result.reason).toBe('aborted by oncall: error budget burning');
        expect((await readFlag(h.dir, flag)).percent).toBe(0);
        expect(result.rollback?.done).toEqual([
          'exposure to 0%',
          'compensation purge-cache',
          'compensation scale-down',
          'verify baseline',
        ]);
        expect(hooks.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /purge-cache', 'POST /scale-down']);
        expect(hooks.requests[1]?.body).toEqual({ replicas: 0 });
        const keys = hooks.requests.map((r) => r.headers['idempotency-key']);
        expect(new Set(keys).size).toBe(2);
        expect(keys.every((k) => typeof k === 'string' && k.length > 10)).toBe(true);
      } finally {
        await h.stop();
        await hooks.close();
      }
    },
  );

  it('keeps retrying a failing compensation, shows it in status, and finishes after recovery', async () => {
    const hooks = await httpRecorder();
    let healthy = false;
    hooks.respond = () => (healthy ? { status: 200 } : { status: 503, body: { error: 'maintenance' } });
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('retry');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [{ exposure: 10, observe: '1h' }], {
          rollback: { compensations: [{ name: 'drain', http: { url: `${hooks.url}/drain` } }] },
        }),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      await suite.client.abort(id, { reason: 'test', actor: 'me' });
      await waitFor(async () => (await suite.client.status(id)).rollback?.retrying === true);
      const during = await suite.client.status(id);
      expect(during.phase).toBe('RollingBack');
      expect(during.rollback).toMatchObject({
        retryingWhat: 'compensation drain',
        lastError: expect.stringMatching(/503/),
      });
      expect((await readFlag(h.dir, flag)).percent).toBe(0); // exposure was restored first
      healthy = true;
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Aborted');
      expect(result.rollback?.retrying).toBe(false);
      expect(result.rollback?.failedAttempts).toBeGreaterThanOrEqual(1);
      const keys = new Set(hooks.requests.map((r) => r.headers['idempotency-key']));
      expect(keys.size).toBe(1); // every retry of the same compensation carries the same key
    } finally {
      await h.stop();
      await hooks.close();
    }
  });

  it('rolls back when approval times out with onTimeout: rollback', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('timeout');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [
          { exposure: 5 },
          { approval: { timeout: '300ms', onTimeout: 'rollback' } },
          { exposure: 100 },
        ]),
        { taskQueue: h.taskQueue },
      );
      const result = await suite.client.result(id);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toMatch(/approval of step 2 timed out/);
      expect((await readFlag(h.dir, flag)).percent).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('pauses when approval times out with onTimeout: pause, and a later approve continues', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('timeout-pause');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [{ exposure: 5 }, { approval: { timeout: '200ms', onTimeout: 'pause' } }, { exposure: 100 }]),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Paused');
      const paused = await suite.client.status(id);
      expect(paused.pauseReasons).toEqual([expect.objectContaining({ kind: 'approval-timeout' })]);
      await expect(suite.client.resume(id, { actor: 'ana' })).rejects.toThrow(/waits for approval; use approve/);
      await suite.client.approve(id, { step: 1, actor: 'ana' });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Completed');
      expect((await readFlag(h.dir, flag)).percent).toBe(100);
    } finally {
      await h.stop();
    }
  });

  it('rolls back on a guardBreach signal for a declared alert guard, names it, and refuses one for no guard', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('breach');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(flag, [{ exposure: 20, observe: '1h' }, { exposure: 100 }], {
          guards: [{ name: 'error-rate', alert: {}, unit: 'ratio' }],
        }),
        {
          taskQueue: h.taskQueue,
        },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      await suite.client.breach(id, { guard: 'latency', value: 0.9, source: 'alertmanager' });
      await waitFor(async () => (await suite.client.status(id)).refusedBreaches === 1);
      expect((await suite.client.status(id)).timeline.at(-1)?.cause).toBe(
        'breach refused: this rollout has no guard named "latency" (from alertmanager)',
      );
      await suite.client.breach(id, { guard: 'error-rate', value: 0.07, source: 'alertmanager' });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toBe(
        'guard error-rate breached (value 7 %) per alertmanager: failed 1× (limit 0), 1 pushed and 0 measured',
      );
      expect((await readFlag(h.dir, flag)).percent).toBe(0);
    } finally {
      await h.stop();
    }
  });
});

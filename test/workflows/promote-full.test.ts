import { describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { CommandRejectedError } from '../../src/client/rollout-client.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

describe('promote --full', () => {
  it('skips every remaining step and window to the last exposure, in one change, and completes', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('full');
      const { workflowId: id } = await suite.client.start(
        flagdSpec(
          flag,
          [{ exposure: 5, observe: '1h' }, { pause: {} }, { exposure: 25, observe: '1h' }, { exposure: 100 }],
          {
            analysis: { finalBake: '1h' },
          },
        ),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      const ack = await suite.client.promote(id, { actor: 'ana', full: true, reason: 'dashboards are green' });
      expect(ack.accepted).toBe(true);
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Completed');
      expect(result.exposure.percent).toBe(100);
      const flagFile = createFlagdFileTarget(
        { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
        { baseDir: h.dir },
      );
      expect((await flagFile.read()).percent).toBe(100);
      const causes = result.timeline.map((t) => t.cause);
      expect(causes).toContain('promoted to full by ana: dashboards are green');
      expect(causes).toContain('full promotion: set exposure to 100% (steps 2–4 skipped)');
      // the pause step, the 25 % window and the final bake never ran
      expect(causes.some((c) => c.includes('pause step') || c.includes('25%') || c.includes('final bake'))).toBe(false);
      const applied = ((await suite.client.handle(id).fetchHistory()).events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'applyExposure',
      );
      expect(applied).toHaveLength(2);
    } finally {
      await h.stop();
    }
  });

  it('is refused while a guard fails, or an approval lies ahead; --force with a reason goes past a failing guard', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const failing = {
        name: 'errors',
        source: { type: 'synthetic' as const, series: { e: [0.5] } },
        query: 'e',
        max: 0.1,
        interval: '200ms',
        failureLimit: 1_000,
        dryRun: false,
      };
      const { workflowId: id } = await suite.client.start(
        flagdSpec(uniqueFlag('full-guard'), [{ exposure: 5, observe: '1h' }, { exposure: 100 }], {
          guards: [failing],
        }),
        { taskQueue: h.taskQueue },
      );
      // the window's failing guard shows in the live status (its heartbeat); the client refuses on it
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing');
      await waitFor(
        async () =>
          ((await suite.client.status(id)).guards.find((g) => g.name === 'errors')?.verdict ?? '') === 'Failed',
        30_000,
        'the failing guard in status',
      );
      const refused = await suite.client.promote(id, { actor: 'ana', full: true }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CommandRejectedError);
      expect((refused as Error).message).toMatch(/guard errors is failing; add force with a reason/);
      const forced = await suite.client.promote(id, { actor: 'ana', full: true, force: true, reason: 'hotfix' });
      expect(forced.accepted).toBe(true);
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Completed');
      expect(result.timeline.map((t) => t.cause)).toContain(
        'promoted to full by ana, forced past failing guards: hotfix',
      );

      const { workflowId: gated } = await suite.client.start(
        flagdSpec(uniqueFlag('full-approval'), [{ exposure: 5, observe: '1h' }, { approval: {} }, { exposure: 100 }]),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(gated)).phase === 'Observing');
      await expect(suite.client.promote(gated, { actor: 'ana', full: true })).rejects.toThrow(
        /step 2 is an approval nobody has given yet/,
      );
      await suite.client.abort(gated, { reason: 'test over', actor: 'ana' });
    } finally {
      await h.stop();
    }
  });
});

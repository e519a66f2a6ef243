import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlagdCore } from '@openfeature/flagd-core';
import { describe, expect, it } from 'vitest';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { httpRecorder } from '../helpers/http-recorder.js';

const suite = useRolloutSuite();
const keys = Array.from({ length: 4_000 }, (_, i) => `user-${i}`);

/** The share (in %) of `keys` the real flagd evaluator puts on `true` for `flag` in the harness's file. */
async function shareOn(dir: string, flag: string): Promise<number> {
  const core = new FlagdCore();
  core.setConfigurations(await readFile(join(dir, 'flags.json'), 'utf8'));
  const on = keys.filter((targetingKey) => core.resolveBooleanEvaluation(flag, false, { targetingKey }).value);
  return (on.length / keys.length) * 100;
}

describe('shadow steps: the new variant runs for a share of traffic without being served', () => {
  it('sets the companion flag for the shadow share at 0 % live, then the first live step ends it', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('shadow');
      const spec = flagdSpec(flag, [{ shadow: 10, observe: '1h' }, { exposure: 5, observe: '1h' }, { exposure: 100 }]);
      const { workflowId } = await h.start(spec);
      await waitFor(async () => (await suite.client.status(workflowId)).phase === 'Observing', 30_000);

      const during = await suite.client.status(workflowId);
      expect(during.exposure).toEqual({ percent: 0, shadow: 10 });
      expect(during.timeline.at(-1)?.cause).toBe('step 1: observe 1h in shadow at 10%');
      // the Web UI's details say so too
      const meta = await suite.env.client.workflow
        .getHandle(workflowId)
        .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('exposure **0%** (shadow 10%)');
      expect(meta.currentDetails).toContain('| ▶ | 1 | shadow 10% (not served), observe 1h |');
      // the real evaluator: nobody is served the new variant, about a tenth of traffic runs it in shadow
      expect(await shareOn(h.dir, flag)).toBe(0);
      const shadowShare = await shareOn(h.dir, `${flag}-shadow`);
      expect(shadowShare).toBeGreaterThan(8);
      expect(shadowShare).toBeLessThan(12);

      await suite.client.promote(workflowId, { actor: 'ana' });
      await waitFor(async () => (await suite.client.status(workflowId)).step === 1, 30_000);
      await waitFor(async () => (await suite.client.status(workflowId)).phase === 'Observing', 30_000);
      expect((await suite.client.status(workflowId)).exposure).toEqual({ percent: 5 });
      expect(await shareOn(h.dir, `${flag}-shadow`)).toBe(0);
      await suite.client.promote(workflowId, { actor: 'ana' });

      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('Completed');
      expect(await shareOn(h.dir, flag)).toBe(100);
      expect(await shareOn(h.dir, `${flag}-shadow`)).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('a full promotion during a shadow step ends the shadow with the last step’s exposure', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('shadow-full');
      const { workflowId } = await h.start(flagdSpec(flag, [{ shadow: 30, observe: '1h' }, { exposure: 100 }]));
      await waitFor(async () => (await suite.client.status(workflowId)).phase === 'Observing', 30_000);
      await suite.client.promote(workflowId, { actor: 'ana', full: true, reason: 'shadow looked fine' });
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('Completed');
      expect(result.exposure).toEqual({ percent: 100 });
      expect(await shareOn(h.dir, flag)).toBe(100);
      expect(await shareOn(h.dir, `${flag}-shadow`)).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('rolls back from a shadow step when a guard comparing the paths fails: the companion flag back to 0 %', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('shadow-fail');
      const spec = flagdSpec(flag, [{ shadow: 20, observe: '5s' }, { exposure: 100 }], {
        guards: [
          {
            name: 'shadow-disagreement',
            source: { type: 'synthetic', series: { disagree: [0.01, 0.3, 0.3] } },
            query: 'disagree',
            max: 0.05,
            interval: '100ms',
            failureLimit: 1,
          },
        ],
      });
      const { workflowId } = await h.start(spec);
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toMatch(/guard shadow-disagreement failed/);
      expect(result.exposure).toEqual({ percent: 0 });
      expect(await shareOn(h.dir, `${flag}-shadow`)).toBe(0);
      expect(await shareOn(h.dir, flag)).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('refuses a shadow step on a target without shadow exposure before changing anything', async () => {
    const recorder = await httpRecorder();
    recorder.respond = () => ({ status: 200, body: { percent: 0 } });
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const spec = {
        name: 'shadow-http',
        target: {
          type: 'http' as const,
          url: `${recorder.url}/flags`,
          flag: uniqueFlag('h'),
          variant: 'on',
          baselineVariant: 'off',
        },
        steps: [{ shadow: 10, observe: '1s' }, { exposure: 100 }],
      };
      const { workflowId } = await h.start(spec);
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('Failed');
      expect(result.reason).toMatch(/has no shadow exposure: remove the shadow step/);
      expect(result.reason).not.toMatch(/cannot be read/);
      expect(recorder.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    } finally {
      await h.stop();
      await recorder.close();
    }
  });
});

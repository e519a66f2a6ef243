import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { statusQuery, abortUpdate, approveUpdate } from '../../workflows/messages.js';
import { bundle, connectTestEnv } from '../helpers/temporal.js';
import { flagdSpec, rolloutHarness, uniqueFlag } from '../helpers/rollout-env.js';

let env: TestWorkflowEnvironment;
let workflowBundle: Awaited<ReturnType<typeof bundle>>;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname);
});
afterAll(async () => {
  await env?.teardown();
});

describe('progressiveRollout', () => {
  it('completes a 4-step rollout with the flag file at 100% and every step in the timeline', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    try {
      const flag = uniqueFlag('complete');
      const handle = await h.start(
        flagdSpec(flag, [
          { exposure: 1, observe: '200ms' },
          { exposure: 5, observe: '200ms' },
          { exposure: 25, observe: '200ms' },
          { exposure: 100 },
        ]),
      );
      const result = await handle.result();
      expect(result.phase).toBe('Completed');
      expect(result.exposure.percent).toBe(100);
      const reading = await createFlagdFileTarget(
        { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
        { baseDir: h.dir },
      ).read();
      expect(reading.percent).toBe(100);
      const steps = result.timeline.filter((t) => t.phase === 'Progressing').map((t) => t.exposure);
      expect(result.timeline.filter((t) => t.phase === 'Progressing').map((t) => t.step)).toEqual([0, 1, 2, 3]);
      expect(steps).toEqual([0, 1, 5, 25]);
      expect(result.timeline.at(-1)?.phase).toBe('Completed');
    } finally {
      await h.stop();
    }
  });

  it('waits for approval, rejects the wrong step, and continues on the right one', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    try {
      const flag = uniqueFlag('approval');
      const handle = await h.start(flagdSpec(flag, [{ exposure: 5 }, { approval: {} }, { exposure: 50 }]));
      await waitFor(async () => (await handle.query(statusQuery)).phase === 'AwaitingApproval');
      await expect(handle.executeUpdate(approveUpdate, { args: [{ step: 2, actor: 'ana' }] })).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/step 3 is not an approval step/) },
      });
      await expect(handle.executeUpdate(approveUpdate, { args: [{ step: 1, actor: 'ana' }] })).resolves.toMatchObject({
        accepted: true,
      });
      const result = await handle.result();
      expect(result.phase).toBe('Completed');
      expect(result.approvals).toEqual([expect.objectContaining({ step: 1, actor: 'ana' })]);
    } finally {
      await h.stop();
    }
  });

  it('aborts at step 2 back to the baseline', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    try {
      const flag = uniqueFlag('abort');
      const handle = await h.start(
        flagdSpec(flag, [{ exposure: 5, observe: '100ms' }, { exposure: 25, observe: '1h' }, { exposure: 100 }]),
      );
      await waitFor(
        async () =>
          (await handle.query(statusQuery)).step === 1 && (await handle.query(statusQuery)).phase === 'Observing',
      );
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'bad metrics', actor: 'ops' }] });
      const result = await handle.result();
      expect(result.phase).toBe('Aborted');
      expect(result.exposure.percent).toBe(0);
      expect(result.rollback?.done).toEqual(['exposure to 0%', 'verify baseline']);
    } finally {
      await h.stop();
    }
  });
});

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

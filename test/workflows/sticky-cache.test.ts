import { describe, expect, it } from 'vitest';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

describe('a bounded sticky cache (rollout worker --max-cached-workflows)', () => {
  it('keeps at most N idle rollouts in memory; the evicted ones still answer status and commands by replay', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle, {}, { maxCachedWorkflows: 2 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { workflowId } = await suite.client.start(
          flagdSpec(uniqueFlag(`cache-${i}`), [{ exposure: 5, observe: '1h' }, { exposure: 100 }]),
          { taskQueue: h.taskQueue },
        );
        ids.push(workflowId);
      }
      for (const id of ids) await waitFor(async () => (await suite.client.status(id)).phase === 'Observing', 30_000);
      expect(h.worker.getStatus().numCachedWorkflows).toBeLessThanOrEqual(2);
      // every one of them, cached or not, still acts: an abort replays an evicted run and rolls it back
      for (const id of ids) await suite.client.abort(id, { reason: 'test over', actor: 'ana' });
      for (const id of ids) expect((await suite.client.result(id)).phase).toBe('Aborted');
      expect(h.worker.getStatus().numCachedWorkflows).toBeLessThanOrEqual(2);
    } finally {
      await h.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { httpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

describe('decisions recorded by operator commands', () => {
  it('given a notifier, when an operator promotes a window and approves a step, then each decision is notified on its own', async () => {
    const h = await rolloutHarness(suite.env, suite.bundle);
    const hooks = await httpRecorder();
    try {
      const spec = flagdSpec(
        uniqueFlag('notified'),
        [{ exposure: 5, observe: '1h' }, { approval: { timeout: '1h' } }, { exposure: 100 }],
        {
          notify: [{ webhook: { url: `${hooks.url}/events` } }],
        },
      );
      const { workflowId } = await suite.client.start(spec, { taskQueue: h.taskQueue });
      await waitFor(async () => (await suite.client.status(workflowId)).phase === 'Observing');
      await suite.client.promote(workflowId, { actor: 'ana' });
      await waitFor(async () => (await suite.client.status(workflowId)).phase === 'AwaitingApproval');
      await suite.client.approve(workflowId, { step: 1, actor: 'bo' });
      expect((await suite.client.result(workflowId)).phase).toBe('Completed');

      // the workflow settles notifications before it ends: every timeline entry was delivered exactly once
      const status = await suite.client.status(workflowId);
      const causes = hooks.requests.map((r) => (r.body as { cause: string }).cause);
      expect(causes).toEqual(status.timeline.slice(1).map((t) => t.cause));
      expect(causes).toContain('promoted by ana: window ended early');
      expect(causes).toContain('step 2 approved by bo');
      const approved = hooks.requests.find((r) => (r.body as { cause: string }).cause === 'step 2 approved by bo');
      expect(approved?.body).toMatchObject({ phase: 'AwaitingApproval', step: 1, actor: 'bo', workflowId });
    } finally {
      await hooks.close();
      await h.stop();
    }
  });
});

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { historyText } from '../reliability/history-text.js';
import { testCatalog } from '../helpers/catalog.js';
import { httpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

describe('a chat notifier from the catalog, on a real rollout', () => {
  it('posts each phase change to Slack with the status line and link; the URL, a secret, is nowhere in history', async () => {
    const capture = await httpRecorder();
    const secretPath = `/services/T0/B0/${uniqueFlag('secret')}`;
    process.env.TEST_CHAT_SLACK_URL = `${capture.url}${secretPath}`;
    const dir = await mkdtemp(join(tmpdir(), 'rollout-chat-'));
    const catalog = testCatalog(dir, {
      secrets: { 'slack-hook': { env: 'TEST_CHAT_SLACK_URL' } },
      notifiers: {
        'team-slack': { chat: { format: 'slack', url: { secret: 'slack-hook' }, webUi: 'http://ui.local' } },
        'incidents-only': {
          chat: { format: 'slack', url: { secret: 'slack-hook' }, severity: 'critical' },
        },
      },
    });
    const h = await rolloutHarness(suite.env, suite.bundle, { baseDir: dir, catalog });
    try {
      const flag = uniqueFlag('chat');
      const spec = flagdSpec(flag, [{ exposure: 10, observe: '100ms' }, { exposure: 100 }], {
        notify: ['team-slack', 'incidents-only'],
      });
      const { workflowId: id } = await suite.client.start(spec, { taskQueue: h.taskQueue, catalog: catalog.catalog });
      expect((await suite.client.result(id)).phase).toBe('Completed');
      const texts = capture.requests.map((r) => (r.body as { text: string }).text);
      // the critical-only notifier sent nothing for a healthy rollout; the other, every phase change
      expect(texts.at(-1)).toBe(`ℹ️ test-rollout: Completed at step 2 of 2, exposure 100 % — all 2 steps done`);
      expect(texts).toContain(
        'ℹ️ test-rollout: Observing at step 1 of 2, exposure 10 % — step 1: observe 100ms at 10%',
      );
      const status = await suite.client.status(id);
      // every timeline entry after the start, once each (as for webhooks)
      expect(capture.requests).toHaveLength(status.timeline.length - 1);
      const blocks = JSON.stringify(capture.requests[0]!.body);
      expect(blocks).toContain(`http://ui.local/namespaces/default/workflows/${encodeURIComponent(id)}`);
      const history = historyText(await suite.client.handle(id).fetchHistory());
      expect(history).not.toContain(secretPath.split('/').at(-1));
      expect(history).toContain('team-slack'); // the spec names it; the worker resolves it
    } finally {
      await h.stop();
      await capture.close();
      delete process.env.TEST_CHAT_SLACK_URL;
    }
  });
});

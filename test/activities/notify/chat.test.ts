import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendNotifications, type RolloutEvent } from '../../../activities/notify/notify.js';
import type { Notifier } from '../../../src/domain/spec.schema.js';
import { createLogger } from '../../../src/logger.js';
import { httpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';

const logger = createLogger({ level: 'silent' });
const event: RolloutEvent = {
  rollout: 'checkout-v2',
  workflowId: 'rollout/checkout',
  phase: 'RolledBack',
  step: 1,
  totalSteps: 4,
  exposure: 0,
  cause: 'back at 0%: guard error-rate failed: 33.2 % vs ≤ 5 %',
  at: '2026-12-02T09:00:00.000Z',
};

let capture: HttpRecorder;
beforeEach(async () => {
  capture = await httpRecorder();
});
afterEach(async () => {
  await capture.close();
});

/** Chat URLs are secrets: the lookup hands out the capture server's URL under the secret's name. */
const secrets = (urls: Record<string, string>) => async (name: string) => {
  const url = urls[name];
  if (!url) throw new Error(`secret "${name}" is not set`);
  return url;
};
const chat = (format: 'slack' | 'teams' | 'discord', extra: Record<string, unknown> = {}): Notifier =>
  ({
    chat: { format, url: { secret: `${format}-hook` }, severity: 'info', webUi: 'http://ui.local', ...extra },
  }) as Notifier;

describe('chat notifiers against a capture server on loopback', () => {
  it('posts the Slack, Teams and Discord shapes, each with the status line and the Web UI link', async () => {
    const urls = {
      'slack-hook': `${capture.url}/services/T0/B0/secret-part`,
      'teams-hook': `${capture.url}/workflows/teams`,
      'discord-hook': `${capture.url}/api/webhooks/1/discord-token`,
    };
    await sendNotifications([chat('slack'), chat('teams'), chat('discord')], event, {
      logger,
      secret: secrets(urls),
      idempotencyKey: 'run:notify:3',
      namespace: 'prod',
    });
    const link = 'http://ui.local/namespaces/prod/workflows/rollout%2Fcheckout';
    const line =
      'checkout-v2: RolledBack at step 2 of 4, exposure 0 % — back at 0%: guard error-rate failed: 33.2 % vs ≤ 5 %';
    expect(capture.requests.map((r) => r.path)).toEqual([
      '/services/T0/B0/secret-part',
      '/workflows/teams',
      '/api/webhooks/1/discord-token',
    ]);
    const [slack, teams, discord] = capture.requests.map((r) => r.body as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(slack!.text).toBe(`🚨 ${line}`);
    expect(JSON.stringify(slack!.blocks)).toContain(`<${link}|open in Temporal>`);
    expect(teams!.attachments[0].content.body[1].text).toBe(line);
    expect(teams!.attachments[0].content.actions[0].url).toBe(link);
    expect(discord!.content).toBe(`🚨 ${line}`);
    expect(discord!.embeds[0].url).toBe(link);
    expect(capture.requests[1]!.headers['idempotency-key']).toBe('run:notify:3');
  });

  it('sends only what the filters take: by phase, and by least severity', async () => {
    const urls = { 'slack-hook': `${capture.url}/slack`, 'discord-hook': `${capture.url}/discord` };
    const notifiers = [chat('slack', { severity: 'critical' }), chat('discord', { phases: ['Completed'] })];
    for (const phase of ['Observing', 'Paused', 'Completed', 'RolledBack'])
      await sendNotifications(notifiers, { ...event, phase }, { logger, secret: secrets(urls), idempotencyKey: phase });
    expect(
      capture.requests.map(
        (r) => `${r.path} ${r.headers['idempotency-key'] ?? (r.body as { text: string }).text.split(':')[1]}`,
      ),
    ).toEqual(['/discord Completed', '/slack  RolledBack at step 2 of 4, exposure 0 % — back at 0%']);
  });

  it('fails so Temporal retries, naming the notifier and its secret, never the URL', async () => {
    capture.respond = () => ({ status: 500, body: { error: 'down' } });
    const urls = {
      'slack-hook': `${capture.url}/services/T0/B0/top-secret-slack`,
      'discord-hook': `${capture.url}/api/webhooks/1/top-secret-discord`,
    };
    for (const format of ['slack', 'discord'] as const) {
      const failure = sendNotifications([chat(format)], event, { logger, secret: secrets(urls), idempotencyKey: 'k' });
      await expect(failure).rejects.toThrow(`${format} notifier (secret ${format}-hook)`);
      await expect(failure).rejects.toThrow(/answered 500/);
      await expect(failure).rejects.not.toThrow(/top-secret|127\.0\.0\.1/);
    }
    await expect(
      sendNotifications([chat('teams')], event, { logger, secret: secrets({}), idempotencyKey: 'k' }),
    ).rejects.toThrow('teams notifier (secret teams-hook): secret "teams-hook" is not set');
  });
});

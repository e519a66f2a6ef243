import { describe, expect, it } from 'vitest';
import {
  discordMessage,
  severityOf,
  slackMessage,
  statusLine,
  teamsMessage,
  wanted,
  webUiLink,
  type ChatEvent,
} from '../../src/domain/chat-message.js';
import { Notifier } from '../../src/domain/spec.schema.js';

const event = (over: Partial<ChatEvent> = {}): ChatEvent => ({
  rollout: 'checkout-v2',
  workflowId: 'rollout/checkout',
  phase: 'RolledBack',
  step: 1,
  totalSteps: 4,
  exposure: 0,
  cause: 'back at 0%: guard error-rate failed: 33.2 % vs ≤ 5 %',
  at: '2026-12-02T09:00:00.000Z',
  ...over,
});

describe('chat messages', () => {
  it('say the status line: rollout, phase, one-based step of total, exposure with its unit, cause and actor', () => {
    expect(statusLine(event())).toBe(
      'checkout-v2: RolledBack at step 2 of 4, exposure 0 % — back at 0%: guard error-rate failed: 33.2 % vs ≤ 5 %',
    );
    expect(statusLine(event({ phase: 'Aborted', actor: 'ana', cause: 'aborted by ana: x' }))).toMatch(/ \(by ana\)$/);
  });

  it('rank phases by severity and filter by phase and by least severity', () => {
    expect(['RolledBack', 'Aborted', 'Failed', 'RollingBack'].map(severityOf)).toEqual(Array(4).fill('critical'));
    expect(['Paused', 'AwaitingApproval'].map(severityOf)).toEqual(['warning', 'warning']);
    expect(['Pending', 'Progressing', 'Observing', 'Completed'].map(severityOf)).toEqual(Array(4).fill('info'));
    expect(wanted(event({ phase: 'Observing' }), { severity: 'info' })).toBe(true);
    expect(wanted(event({ phase: 'Observing' }), { severity: 'warning' })).toBe(false);
    expect(wanted(event({ phase: 'Paused' }), { severity: 'warning' })).toBe(true);
    expect(wanted(event({ phase: 'Completed' }), { phases: ['Completed'], severity: 'info' })).toBe(true);
    expect(wanted(event({ phase: 'RolledBack' }), { phases: ['Completed'], severity: 'info' })).toBe(false);
  });

  it('link to the rollout in the Web UI, with the namespace and ID encoded', () => {
    expect(webUiLink('https://temporal.example.com/', 'prod ns', 'rollout/checkout')).toBe(
      'https://temporal.example.com/namespaces/prod%20ns/workflows/rollout%2Fcheckout',
    );
  });

  it('take the shapes each service accepts, with the link, and escape caller text for Slack', () => {
    const link = 'https://ui/namespaces/default/workflows/rollout%2Fcheckout';
    const slack = slackMessage(event({ cause: 'see <https://evil|here> & <!channel>' }), link);
    expect(slack.text).toMatch(/^🚨 checkout-v2: RolledBack at step 2 of 4/);
    expect(JSON.stringify(slack.blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(slack.blocks)).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(slack.blocks)).toContain(`<${link}|open in Temporal>`);
    const card = teamsMessage(event({ phase: 'Paused' }), link).attachments[0]!.content;
    expect(card.type).toBe('AdaptiveCard');
    expect(card.body[0]).toMatchObject({ text: '⏸️ checkout-v2: Paused', color: 'Warning' });
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in Temporal', url: link }]);
    const discord = discordMessage(event({ cause: 'x'.repeat(5_000) }), link);
    expect(discord.content.length).toBeLessThanOrEqual(2_000);
    expect(discord.embeds[0]!.description.length).toBeLessThanOrEqual(4_096);
    expect(discord.embeds[0]).toMatchObject({ url: link, color: 0xda3633 });
    expect(discord.allowed_mentions).toEqual({ parse: [] });
  });

  it('are configured in the catalog only: the URL is a secret, filters are checked', () => {
    expect(Notifier.safeParse({ chat: { format: 'slack', url: { secret: 'slack-hook' } } }).success).toBe(true);
    const bad = Notifier.safeParse({
      chat: { format: 'slack', url: 'https://hooks.slack.com/services/T/B/X', phases: ['Sleeping'] },
    });
    expect(bad.success).toBe(false);
  });
});

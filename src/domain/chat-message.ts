/*
 * Chat messages for rollout events: one status line, a severity and the link to the rollout, in the shapes Slack,
 * Microsoft Teams and Discord accept from an incoming webhook. Zod-free and pure.
 */
import type { Phase } from './rollout-state.schema.js';
import type { Severity } from './spec.schema.js';

/** What a notifier receives for each phase change. */
export interface ChatEvent {
  rollout: string;
  workflowId: string;
  phase: string;
  step: number;
  totalSteps?: number;
  exposure: number;
  cause: string;
  actor?: string;
  at: string;
}

const CRITICAL: readonly string[] = ['RollingBack', 'RolledBack', 'Aborted', 'Failed'] satisfies Phase[];
const WARNING: readonly string[] = ['Paused', 'AwaitingApproval'] satisfies Phase[];
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function severityOf(phase: string): Severity {
  return CRITICAL.includes(phase) ? 'critical' : WARNING.includes(phase) ? 'warning' : 'info';
}

/** Whether a notifier with these filters takes the event. */
export function wanted(
  event: ChatEvent,
  filter: { phases?: readonly string[] | undefined; severity: Severity },
): boolean {
  if (filter.phases && !filter.phases.includes(event.phase)) return false;
  return RANK[severityOf(event.phase)] >= RANK[filter.severity];
}

/** `2 of 4`: one-based; a completed rollout's step index is past the last step, where it ended. */
function stepText(e: ChatEvent): string {
  const n = e.totalSteps ? Math.min(e.step + 1, e.totalSteps) : e.step + 1;
  return e.totalSteps ? `${n} of ${e.totalSteps}` : `${n}`;
}

/** `checkout-v2: RolledBack at step 2 of 4, exposure 0 % — error-rate: 33.2 % vs ≤ 5 % (by ana)` */
export function statusLine(e: ChatEvent): string {
  return `${e.rollout}: ${e.phase} at step ${stepText(e)}, exposure ${e.exposure} % — ${e.cause}${e.actor ? ` (by ${e.actor})` : ''}`;
}

/** The rollout in the Temporal Web UI (the workflow, latest run). */
export function webUiLink(webUi: string, namespace: string, workflowId: string): string {
  return `${webUi.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

const EMOJI: Record<Severity, string> = { info: 'ℹ️', warning: '⏸️', critical: '🚨' };
const COLOUR: Record<Severity, number> = { info: 0x2f81f7, warning: 0xd29922, critical: 0xda3633 };

/** Slack's incoming webhook: `text` (notifications, fallback) and blocks with the link. */
export function slackMessage(e: ChatEvent, link?: string) {
  const severity = severityOf(e.phase);
  const line = statusLine(e);
  return {
    text: `${EMOJI[severity]} ${line}`,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `${EMOJI[severity]} *${mrkdwn(e.rollout)}*: ${mrkdwn(line.slice(e.rollout.length + 2))}`,
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `${severity} · ${mrkdwn(e.workflowId)} · ${e.at}${link ? ` · <${link}|open in Temporal>` : ''}`,
          },
        ],
      },
    ],
  };
}

/** Microsoft Teams (a Workflows webhook): a message with one Adaptive Card and a link action. */
export function teamsMessage(e: ChatEvent, link?: string) {
  const severity = severityOf(e.phase);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              text: `${EMOJI[severity]} ${e.rollout}: ${e.phase}`,
              weight: 'Bolder',
              color: severity === 'critical' ? 'Attention' : severity === 'warning' ? 'Warning' : 'Default',
              wrap: true,
            },
            { type: 'TextBlock', text: statusLine(e), wrap: true },
            { type: 'TextBlock', text: `${severity} · ${e.workflowId} · ${e.at}`, isSubtle: true, wrap: true },
          ],
          ...(link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Temporal', url: link }] } : {}),
        },
      },
    ],
  };
}

/** Discord's webhook: content (the status line) and one embed coloured by severity. */
export function discordMessage(e: ChatEvent, link?: string) {
  const severity = severityOf(e.phase);
  return {
    content: `${EMOJI[severity]} ${statusLine(e)}`.slice(0, 2_000),
    allowed_mentions: { parse: [] as string[] },
    embeds: [
      {
        title: `${e.rollout}: ${e.phase}`.slice(0, 256),
        description: statusLine(e).slice(0, 4_096),
        color: COLOUR[severity],
        timestamp: e.at,
        ...(link ? { url: link } : {}),
        fields: [
          { name: 'step', value: stepText(e), inline: true },
          { name: 'exposure', value: `${e.exposure} %`, inline: true },
          { name: 'severity', value: severity, inline: true },
        ],
      },
    ],
  };
}

/** Slack mrkdwn: `&`, `<` and `>` escaped, so caller text cannot form links or mentions. */
function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

import type { PinoLogger } from '../../src/logger.js';
import { IncomingWebhook } from '@slack/webhook';
import {
  discordMessage,
  slackMessage,
  teamsMessage,
  wanted,
  webUiLink,
  type ChatEvent,
} from '../../src/domain/chat-message.js';
import type { ChatNotifier, Notifier } from '../../src/domain/spec.schema.js';
import { assertNever } from '../../src/util/assert-never.js';
import { describeFetchError } from '../../src/util/http-text.js';
import { redactUrl } from '../../src/util/redact-url.js';
import { credentialHeaders, type SecretLookup } from '../credentials.js';

/** A phase change as sent to notifiers. */
export type RolloutEvent = ChatEvent;

/** Sends one event to every notifier; a failing webhook throws so Temporal retries it. */
export async function sendNotifications(
  notifiers: readonly Notifier[],
  event: RolloutEvent,
  deps: { logger: PinoLogger; secret: SecretLookup; idempotencyKey: string; namespace?: string | undefined },
): Promise<void> {
  for (const notifier of notifiers) {
    if ('log' in notifier) {
      deps.logger.info({ event }, `rollout ${event.rollout}: ${event.phase} (${event.cause})`);
    } else if ('webhook' in notifier) {
      const { url } = notifier.webhook;
      const credentials = await credentialHeaders(notifier.webhook, deps.secret).catch((err: Error) => {
        throw new Error(`notifier ${redactUrl(url)}: ${err.message}`);
      });
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': deps.idempotencyKey,
          ...credentials,
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(10_000),
      }).catch((err: unknown) => {
        // the raw fetch error quotes the URL whole; a failure's message and causes are kept in workflow history
        throw new Error(`notifier ${redactUrl(url)} failed: ${describeFetchError(err)}`);
      });
      await res.body?.cancel().catch(() => {});
      if (!res.ok) throw new Error(`notifier ${redactUrl(url)} answered ${res.status}`);
    } else if ('chat' in notifier) {
      await sendChat(notifier.chat, event, deps);
    } else {
      assertNever(notifier, 'notifier');
    }
  }
}

/**
 * One chat message, if the notifier's filters take the event. The URL is a secret: errors name the notifier by its
 * format and secret, never the URL (and the worker's redactor removes it from anything else).
 */
async function sendChat(
  chat: ChatNotifier['chat'],
  event: RolloutEvent,
  deps: { secret: SecretLookup; idempotencyKey: string; namespace?: string | undefined },
): Promise<void> {
  if (!wanted(event, chat)) return;
  const what = `${chat.format} notifier (secret ${chat.url.secret})`;
  const url = await deps.secret(chat.url.secret).catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
  const link = chat.webUi ? webUiLink(chat.webUi, deps.namespace ?? 'default', event.workflowId) : undefined;
  if (chat.format === 'slack') {
    // Slack's own client; Temporal retries the activity, so the client does not retry on its own
    await new IncomingWebhook(url, { timeout: 10_000 }).send(slackMessage(event, link)).catch((err: unknown) => {
      const status = (err as { statusCode?: number }).statusCode;
      throw new Error(`${what} failed: ${status ? `answered ${status}` : describeFetchError(err)}`);
    });
    return;
  }
  const body = chat.format === 'teams' ? teamsMessage(event, link) : discordMessage(event, link);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': deps.idempotencyKey },
    body: JSON.stringify(body),
    redirect: 'error',
    signal: AbortSignal.timeout(10_000),
  }).catch((err: unknown) => {
    throw new Error(`${what} failed: ${describeFetchError(err)}`);
  });
  await res.body?.cancel().catch(() => {});
  if (!res.ok) throw new Error(`${what} answered ${res.status}`);
}

import type { PinoLogger } from '../../src/logger.js';
import type { Notifier } from '../../src/domain/spec.schema.js';
import { assertNever } from '../../src/util/assert-never.js';
import { describeFetchError } from '../../src/util/http-text.js';
import { redactUrl } from '../../src/util/redact-url.js';
import { credentialHeaders, type SecretLookup } from '../credentials.js';

/** A phase change as sent to notifiers. */
export interface RolloutEvent {
  rollout: string;
  workflowId: string;
  phase: string;
  step: number;
  exposure: number;
  cause: string;
  actor?: string;
  at: string;
}

/** Sends one event to every notifier; a failing webhook throws so Temporal retries it. */
export async function sendNotifications(
  notifiers: readonly Notifier[],
  event: RolloutEvent,
  deps: { logger: PinoLogger; secret: SecretLookup; idempotencyKey: string },
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
    } else {
      assertNever(notifier, 'notifier');
    }
  }
}

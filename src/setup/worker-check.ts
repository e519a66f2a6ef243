import type { PinoLogger } from '../logger.js';
import { connectClient, type TemporalSettings } from '../temporal/connection.js';
import { checkSearchAttributes } from './setup.js';

const CHECK_TIMEOUT_MS = 3_000;

/**
 * The worker's start-up check: warns (never fails) when the namespace lacks the project's search attributes, naming
 * the missing ones and `rollout setup`. Says nothing when the check itself cannot run (the worker's own connection
 * reports an unreachable server; Temporal Cloud may refuse the operator API to a worker's key).
 */
export async function warnIfNotSetUp(settings: TemporalSettings, logger: PinoLogger): Promise<void> {
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    // bounded: an unreachable server is the worker's own connection's to report, without a delay first
    const pending = connectClient(settings);
    const timedOut = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), CHECK_TIMEOUT_MS)));
    client = await Promise.race([pending, timedOut]);
    if (!client) {
      void pending.then((c) => c.connection.close()).catch(() => {});
      logger.debug('search attribute check skipped: no answer in time');
      return;
    }
    const check = await checkSearchAttributes(client, settings.namespace);
    if (check.namespaceMissing)
      logger.warn(
        { namespace: settings.namespace },
        `namespace ${settings.namespace} does not exist on ${settings.address}: run \`rollout setup\``,
      );
    else if (check.missing?.length)
      logger.warn(
        { namespace: settings.namespace, missing: check.missing },
        `namespace ${settings.namespace} lacks the search attributes ${check.missing.join(', ')}: rollouts cannot start until you run \`rollout setup\``,
      );
  } catch (err) {
    logger.debug({ err }, 'search attribute check skipped');
  } finally {
    clearTimeout(timer);
    await client?.connection.close().catch(() => {});
  }
}

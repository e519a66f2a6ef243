import { RolloutError } from '../errors.js';
import { PAYLOAD_KEY_ENV, payloadCodecFromEnv } from '../temporal/codec.js';
import { redactingLoggerAndCatalog, untilStopSignal } from '../worker/run-worker.js';
import { startCodecServer } from './server.js';

/** `rollout codec-server`: serves `/encode` and `/decode` until SIGINT or SIGTERM. */
export async function runCodecServer(opts: {
  host: string;
  port: number;
  uiOrigin: readonly string[];
  config?: string;
}): Promise<void> {
  // no key (or a malformed one) fails before anything is loaded or bound
  if (!payloadCodecFromEnv()) {
    throw new RolloutError(
      `rollout codec-server needs ${PAYLOAD_KEY_ENV}: without the payload key there is nothing to decode with.`,
      `Set ${PAYLOAD_KEY_ENV} to the key the workers use (openssl rand -base64 32 makes a new one).`,
    );
  }
  for (const origin of opts.uiOrigin) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(origin))
      throw new RolloutError(
        `--ui-origin ${origin} is not an origin`,
        'Write scheme, host and port, e.g. http://127.0.0.1:8233.',
      );
  }
  const { logger, catalog, secrets } = await redactingLoggerAndCatalog(opts.config);
  const server = await startCodecServer({
    host: opts.host,
    port: opts.port,
    origins: opts.uiOrigin,
    logger,
    catalog,
    secrets,
  });
  process.stderr.write(
    `Codec server: ${server.url} (Web UI origins: ${opts.uiOrigin.join(', ')}; a principal's bearer token is required)\n`,
  );
  await untilStopSignal(logger);
  await server.close();
}

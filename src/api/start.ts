import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { RolloutClient } from '../client/rollout-client.js';
import { RolloutError } from '../errors.js';
import type { PinoLogger } from '../logger.js';
import { createApiServer } from './server.js';
import type { LoadedCatalog } from '../catalog/load.js';
import type { SecretStore } from '../catalog/secrets.js';

export interface ServeOptions {
  client: Client;
  logger: PinoLogger;
  host: string;
  port: number;
  /** One more principal with every role (`api`); by default `ROLLOUT_API_TOKEN`. Optional when the catalog has principals. */
  token?: string;
  catalog?: LoadedCatalog;
  secrets?: SecretStore;
  /** For `rollout dev`: when no token is configured, create one in this file (mode 600) instead of failing. */
  tokenFile?: string;
  uiUrl?: string;
  taskQueue?: string;
}

/** Resolves the API token: explicit, `ROLLOUT_API_TOKEN`, or (dev only) a generated one kept in a file. */
export async function resolveApiToken(
  options: Pick<ServeOptions, 'token' | 'tokenFile' | 'catalog'>,
): Promise<string | undefined> {
  const token = options.token ?? process.env.ROLLOUT_API_TOKEN;
  if (token) return token;
  const principals = Object.keys(options.catalog?.catalog.principals ?? {}).length;
  if (principals > 0 && !options.tokenFile) return undefined;
  if (!options.tokenFile) {
    throw new RolloutError(
      'The HTTP API needs a bearer token and none is configured.',
      'Declare principals in the catalog (--config), or set ROLLOUT_API_TOKEN to a long random secret.',
    );
  }
  const existing = await readFile(options.tokenFile, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const generated = randomBytes(24).toString('base64url');
  await mkdir(dirname(options.tokenFile), { recursive: true });
  await writeFile(options.tokenFile, `${generated}\n`, { mode: 0o600 });
  return generated;
}

/** Creates and starts the HTTP API; returns the running server and its URL. */
export async function serveApi(options: ServeOptions): Promise<{ app: FastifyInstance; url: string }> {
  const token = await resolveApiToken(options);
  const app = await createApiServer({
    client: new RolloutClient(options.client),
    temporalClient: options.client,
    ...(token !== undefined ? { token } : {}),
    ...(options.catalog ? { catalog: options.catalog } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    logger: options.logger,
    ...(options.uiUrl ? { uiUrl: options.uiUrl } : {}),
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
  });
  const url = await app.listen({ host: options.host, port: options.port });
  return { app, url };
}

import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RolloutClient } from '../client/rollout-client.js';
import type { PinoLogger } from '../logger.js';
import { installBearerAuth } from './auth.js';
import type { ApiContext } from './context.js';
import { installErrorHandlers } from './errors.js';
import { createApiMetrics } from './metrics.js';
import { collectOpenApi } from './openapi.js';
import { alertRoutes } from './routes/alerts.js';
import { commandRoutes } from './routes/commands.js';
import { opsRoutes } from './routes/ops.js';
import { rolloutRoutes, YAML_TYPES } from './routes/rollouts.js';

/** Default request body limit: specs and alert batches are small; anything larger is a mistake or an attack. */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

export interface ApiServerOptions {
  client: RolloutClient;
  /** The raw Temporal client, for visibility (list and count) and health checks. */
  temporalClient: Client;
  /** Every route but `/healthz` requires `Authorization: Bearer <token>`. Must not be empty. */
  token: string;
  logger: PinoLogger;
  bodyLimitBytes?: number;
  /** Task queue new rollouts are started on (default: the workers' `rollouts`). */
  taskQueue?: string;
  /** The Temporal Web UI's base URL; when set, `POST /rollouts` answers with a link to the new rollout. */
  uiUrl?: string;
}

/** Version of the HTTP contract (the OpenAPI `info.version`), not of the package. */
export const API_VERSION = '1';

/**
 * The HTTP API of `rollout serve`: start, list, inspect and operate rollouts, receive Alertmanager breaches, and
 * expose metrics, health and an OpenAPI document. The caller listens (`app.listen`) and closes it.
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const logger = options.logger.child({ component: 'api' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // workflow IDs carry the flag (up to 200 characters) and arrive URL-encoded
    routerOptions: { maxParamLength: 512 },
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;

  installBearerAuth(app, options.token);
  installErrorHandlers(app);
  // YAML (and JSON sent as text) arrives as a string; the spec parser reads both
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const openApiDocument = collectOpenApi(app, { title: 'rollout-orchestrator API', version: API_VERSION });

  const ctx: ApiContext = {
    client: options.client,
    temporalClient: options.temporalClient,
    logger,
    metrics: createApiMetrics(options.temporalClient, logger),
    ...(options.taskQueue !== undefined ? { taskQueue: options.taskQueue } : {}),
    ...(options.uiUrl !== undefined ? { uiUrl: options.uiUrl } : {}),
  };
  await app.register(rolloutRoutes(ctx));
  await app.register(commandRoutes(ctx));
  await app.register(alertRoutes(ctx));
  await app.register(opsRoutes(ctx, openApiDocument));
  return app;
}

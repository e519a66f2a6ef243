import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RolloutClient } from '../client/rollout-client.js';
import type { PinoLogger } from '../logger.js';
import { catalogAuthenticator, installBearerAuth, type Authenticate } from './auth.js';
import type { LoadedCatalog } from '../catalog/load.js';
import type { SecretStore } from '../catalog/secrets.js';
import { RolloutError } from '../errors.js';
import type { ApiContext } from './context.js';
import { installErrorHandlers } from './errors.js';
import { createApiMetrics } from './metrics.js';
import { collectOpenApi } from './openapi.js';
import { dashboardRoutes } from './dashboard/routes.js';
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
  /**
   * The operator's catalog: its principals are the API's callers (a token each, by secret name, and roles), and
   * every spec is checked against it before anything starts.
   */
  catalog?: LoadedCatalog;
  /** The catalog's secrets (principal tokens); default: a store over `catalog` and `process.env`. */
  secrets?: SecretStore;
  /** One more principal, `api`, with every role: the single `ROLLOUT_API_TOKEN` of deployments without principals. */
  token?: string;
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

  const authenticate = authenticatorOf(options);
  installBearerAuth(app, authenticate);
  installErrorHandlers(app);
  // YAML (and JSON sent as text) arrives as a string; the spec parser reads both
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const openApiDocument = collectOpenApi(app, { title: 'rollout-orchestrator API', version: API_VERSION });

  const ctx: ApiContext = {
    ...(options.catalog ? { catalog: options.catalog.catalog } : {}),
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
  await app.register(dashboardRoutes(ctx, authenticate));
  return app;
}

/** The name of the principal `options.token` authenticates. */
export const TOKEN_PRINCIPAL = 'api';

/**
 * The API's principals: the catalog's (each token read from its secret per request, so a rotated one applies at
 * once) and, with `token`, `api` holding every role. Refuses to serve with none: the API never runs unauthenticated.
 */
function authenticatorOf(options: ApiServerOptions): Authenticate {
  const authenticate = catalogAuthenticator({ ...options, tokenPrincipal: TOKEN_PRINCIPAL });
  if (authenticate) return authenticate;
  throw new RolloutError(
    'The HTTP API has no principals (none in the catalog, no ROLLOUT_API_TOKEN): refusing to serve unauthenticated.',
    'Declare `principals` in the catalog (--config), or set ROLLOUT_API_TOKEN to a long random secret.',
  );
}

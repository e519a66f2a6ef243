import type { Client } from '@temporalio/client';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import type { RolloutClient } from '../client/rollout-client.js';
import { rolloutIdForFlag } from '../domain/ids.js';
import type { PinoLogger } from '../logger.js';
import type { Catalog, Role } from '../domain/catalog.schema.js';
import type { ApiMetrics } from './metrics.js';
import type { RouteDoc } from './openapi.js';

/** What every route module needs. */
export interface ApiContext {
  /** The operator's catalog, when the API has one: specs are checked against it before they start. */
  catalog?: Catalog;
  client: RolloutClient;
  temporalClient: Client;
  logger: PinoLogger;
  metrics: ApiMetrics;
  taskQueue?: string;
  uiUrl?: string;
}

/** How long one request may wait on Temporal (an Update waits for a worker to run its validator). */
export const TEMPORAL_DEADLINE_MS = 15_000;

/** Runs `fn` with a deadline on every Temporal call in it, so a stuck server or a missing worker yields 504, not a hang. */
export function withTemporalDeadline<T>(ctx: ApiContext, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + TEMPORAL_DEADLINE_MS;
  // both clients, in case they were built over different connections (the deadline lives on the connection)
  return ctx.client.client.connection.withDeadline(deadline, () =>
    ctx.temporalClient.connection.withDeadline(deadline, fn),
  );
}

/**
 * Registers a route on a rollout twice: `/rollouts/:id<suffix>` with the ID URL-encoded (`rollout%2Fcheckout`) and
 * `/rollouts/rollout/:flag<suffix>` for the unencoded form. The handler receives the workflow ID either way.
 */
export function rolloutRoute(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  suffix: string,
  doc: RouteDoc,
  handler: (id: string, ...args: Parameters<RouteHandlerMethod>) => ReturnType<RouteHandlerMethod>,
  role?: Role,
): void {
  const needs = role === undefined ? {} : { role };
  app.route({
    method,
    url: `/rollouts/:id${suffix}`,
    config: { doc, ...needs },
    handler(request, reply) {
      return handler.call(this, (request.params as { id: string }).id, request, reply);
    },
  });
  app.route({
    method,
    url: `/rollouts/rollout/:flag${suffix}`,
    config: { doc: { ...doc, summary: `${doc.summary} (ID given as rollout/{flag})` }, ...needs },
    handler(request, reply) {
      return handler.call(this, rolloutIdForFlag((request.params as { flag: string }).flag), request, reply);
    },
  });
}

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { renderApiDocs } from '../docs-page.js';

/** How long `/healthz` waits for Temporal before calling it down. */
const HEALTH_TIMEOUT_MS = 3_000;

/** `GET /healthz` (no token), `GET /metrics`, `GET /openapi.json`, and `GET /docs` rendering it as HTML. */
export function opsRoutes(ctx: ApiContext, openApiDocument: () => Record<string, unknown>) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/healthz',
      {
        config: {
          public: true,
          doc: {
            summary: 'Liveness and Temporal reachability (no token needed)',
            tags: ['ops'],
            responses: { 200: ['up', 'Health'], 503: ['Temporal unreachable', 'Health'] },
          },
        },
      },
      async (request, reply) => {
        try {
          const connection = ctx.temporalClient.connection;
          // getSystemInfo is the cheapest authenticated call every frontend serves (the SDK calls it on connect)
          await connection.withDeadline(Date.now() + HEALTH_TIMEOUT_MS, () =>
            connection.workflowService.getSystemInfo({}),
          );
          return { ok: true };
        } catch (err) {
          request.log.warn({ err: (err as Error).message }, 'health check: Temporal unreachable');
          return reply.code(503).send({ ok: false, error: 'Temporal is unreachable' });
        }
      },
    );

    app.get(
      '/metrics',
      {
        config: {
          doc: {
            summary:
              'Prometheus metrics: rollouts{phase}, rollouts_rolled_back, rollout_time_to_rollback_seconds, process',
            tags: ['ops'],
            responses: { 200: ['Prometheus text exposition', 'text'] },
          },
        },
      },
      async (_request, reply) => {
        const body = await ctx.metrics.registry.metrics();
        return reply.type(ctx.metrics.registry.contentType).send(body);
      },
    );

    app.get(
      '/openapi.json',
      { config: { doc: { summary: 'This OpenAPI 3.1 document', tags: ['ops'], responses: { 200: 'the document' } } } },
      async () => openApiDocument(),
    );

    // the reference page: the same document as HTML, no script at all; like the document, only for a principal (a
    // browser signed in to the dashboard presents its session cookie)
    app.get('/docs', async (_request, reply) =>
      reply
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(renderApiDocs(openApiDocument())),
    );
  };
}

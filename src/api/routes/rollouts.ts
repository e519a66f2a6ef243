import type { FastifyInstance } from 'fastify';
import { describeIssues, flattenIssues } from '../../domain/validation.js';
import { ValidationError } from '../../errors.js';
import { readYamlText } from '../../spec/load.js';
import { workflowWebUiUrl } from '../../temporal/web-ui.js';
import type { progressiveRollout } from '../../../workflows/progressive-rollout.js';
import { rolloutRoute, withTemporalDeadline, type ApiContext } from '../context.js';
import { listRollouts, ListQuery, type RolloutSummary } from '../../client/visibility.js';

/** Content types `POST /rollouts` reads as YAML text (JSON is YAML, so text/plain may hold either). */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];
/** Finished rollbacks whose results one list call fetches for the time-to-rollback histogram. */
const RESULTS_PER_LIST = 20;

/** `POST /rollouts`, `GET /rollouts`, `GET /rollouts/:id`. */
export function rolloutRoutes(ctx: ApiContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/rollouts',
      {
        config: {
          role: 'start',
          doc: {
            summary: 'Validate a spec (JSON or YAML) against the catalog and start its rollout',
            tags: ['rollouts'],
            body: { schema: 'RolloutSpec', contentTypes: ['application/json', ...YAML_TYPES] },
            responses: {
              201: ['started', 'StartResponse'],
              400: 'invalid spec, or one the catalog or its policy refuses (issues name the paths); nothing was started',
              403: 'the principal lacks the start role',
              409: 'a rollout for this flag is already running',
              413: 'body too large',
              415: 'unsupported content type',
            },
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const read = typeof body === 'string' ? readYamlText(body) : { ok: true as const, value: body };
        if (!read.ok) {
          const issues = [{ path: '(root)', message: read.problem }];
          throw new ValidationError(`invalid rollout spec:\n${describeIssues(issues)}`, issues);
        }
        // the client checks the spec against the catalog (or its shape, without one) before anything starts
        const options = {
          ...(ctx.taskQueue === undefined ? {} : { taskQueue: ctx.taskQueue }),
          ...(ctx.catalog === undefined ? {} : { catalog: ctx.catalog }),
        };
        const started = await withTemporalDeadline(ctx, () => ctx.client.start(read.value, options));
        request.log.info({ workflowId: started.workflowId, runId: started.runId }, 'rollout started');
        const uiUrl =
          ctx.uiUrl &&
          workflowWebUiUrl(ctx.uiUrl, ctx.temporalClient.options.namespace, started.workflowId, started.runId);
        return reply.code(201).send({ ...started, ...(uiUrl ? { uiUrl } : {}) });
      },
    );

    app.get(
      '/rollouts',
      {
        config: {
          doc: {
            summary: `List rollouts from Temporal visibility, newest first (at most 200)`,
            tags: ['rollouts'],
            query: true,
            responses: { 200: ['rollouts', 'RolloutList'], 400: 'invalid filter (phase must be a rollout phase)' },
          },
        },
      },
      async (request) => {
        const parsed = ListQuery.safeParse(request.query ?? {});
        if (!parsed.success) {
          const issues = flattenIssues(parsed.error.issues);
          throw new ValidationError(`invalid list filter:\n${describeIssues(issues)}`, issues);
        }
        const rollouts = await withTemporalDeadline(ctx, () => listRollouts(ctx.temporalClient, parsed.data));
        learnRollbacks(ctx, rollouts);
        return { rollouts };
      },
    );

    rolloutRoute(
      app,
      'GET',
      '',
      {
        summary: 'The status of one rollout (phase, step, exposure, pauses, guards, timeline)',
        tags: ['rollouts'],
        responses: { 200: ['status', 'RolloutStatus'], 404: 'no such rollout' },
      },
      async (id) => {
        const status = await withTemporalDeadline(ctx, () => ctx.client.status(id));
        ctx.metrics.observeRollback(id, status.phase, status.rollback);
        return status;
      },
    );
  };
}

/**
 * Feeds the time-to-rollback histogram from listed rollouts that ended in a rollback: their results (one cheap
 * close-event read each) are fetched in the background, at most {@link RESULTS_PER_LIST} per call, each run once.
 */
function learnRollbacks(ctx: ApiContext, rows: readonly RolloutSummary[]): void {
  const fresh = rows
    .filter((r) => (r.phase === 'RolledBack' || r.phase === 'Aborted') && r.status !== 'RUNNING')
    .filter((r) => !ctx.metrics.seen(`run:${r.workflowId}@${r.runId}`))
    .slice(0, RESULTS_PER_LIST);
  for (const row of fresh) {
    ctx.metrics.markSeen(`run:${row.workflowId}@${row.runId}`);
    ctx.temporalClient.workflow
      .getHandle<typeof progressiveRollout>(row.workflowId, row.runId)
      .result()
      .then(
        (result) => ctx.metrics.observeRollback(row.workflowId, result.phase, result.rollback),
        (err: unknown) =>
          ctx.logger.debug(
            { err: (err as Error).message, workflowId: row.workflowId },
            'no result for a listed rollback',
          ),
      );
  }
}

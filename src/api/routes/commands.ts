import type { FastifyInstance } from 'fastify';
import type { RolloutClient } from '../../client/rollout-client.js';
import type { CommandAck } from '../../domain/commands.js';
import { rolloutRoute, withTemporalDeadline, type ApiContext } from '../context.js';
import type { SchemaName } from '../openapi.js';
import { RestartCommand } from '../../domain/commands.schema.js';
import { describeIssues, flattenIssues } from '../../domain/validation.js';
import { ValidationError } from '../../errors.js';
import { workflowWebUiUrl } from '../../temporal/web-ui.js';

type CommandName = 'pause' | 'resume' | 'promote' | 'approve' | 'abort';

/** The operator commands; bodies are validated by the client against the command schemas (400 with paths). */
const COMMANDS: Record<
  CommandName,
  { summary: string; schema: SchemaName; run: (c: RolloutClient, id: string, body: never) => Promise<CommandAck> }
> = {
  pause: {
    summary: 'Hold the rollout (reason, actor)',
    schema: 'PauseCommand',
    run: (c, id, body) => c.pause(id, body),
  },
  resume: { summary: 'Clear pause reasons (actor)', schema: 'ResumeCommand', run: (c, id, body) => c.resume(id, body) },
  promote: {
    summary: 'End the current window, pause step or pause early (actor)',
    schema: 'PromoteCommand',
    run: (c, id, body) => c.promote(id, body),
  },
  approve: {
    summary: 'Approve a waiting approval step (step, actor, comment?)',
    schema: 'ApproveCommand',
    run: (c, id, body) => c.approve(id, body),
  },
  abort: { summary: 'Roll back now (reason, actor)', schema: 'AbortCommand', run: (c, id, body) => c.abort(id, body) },
};

/** `POST /rollouts/:id/{pause,resume,promote,approve,abort}`. */
export function commandRoutes(ctx: ApiContext) {
  return async (app: FastifyInstance): Promise<void> => {
    for (const [name, command] of Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]) {
      rolloutRoute(
        app,
        'POST',
        `/${name}`,
        {
          summary: command.summary,
          tags: ['commands'],
          body: { schema: command.schema },
          responses: {
            200: ['accepted', 'CommandAck'],
            400: 'invalid command body (issues name the paths)',
            403: `the principal lacks the ${name === 'approve' ? 'approve' : 'operate'} role, or the body names another actor`,
            404: 'no such rollout',
            409: 'the rollout refused the command now (the error says why); nothing changed',
          },
        },
        async (id, request, reply) => {
          const body = (request.body ?? {}) as Record<string, unknown>;
          const principal = request.principal!;
          const impersonation = otherActor(body.actor, principal.name);
          if (impersonation) return reply.code(403).send(impersonation);
          const cmd = typeof body === 'object' && !Array.isArray(body) ? { ...body, actor: principal.name } : body;
          // RolloutClient turns an Update to a finished rollout into a CommandRejectedError (409)
          return withTemporalDeadline(ctx, () => command.run(ctx.client, id, cmd as never));
        },
        name === 'approve' ? 'approve' : 'operate',
      );
    }
    restartRoute(ctx, app, 'retry');
    restartRoute(ctx, app, 'undo');
  };
}

/**
 * `POST /rollouts/:id/{retry,undo}`: a new run of the last run's spec. `retry` runs it forward again (the start
 * role); `undo` takes a completed rollout back to its baseline (the operate role, as a rollback).
 */
function restartRoute(ctx: ApiContext, app: FastifyInstance, name: 'retry' | 'undo'): void {
  rolloutRoute(
    app,
    'POST',
    `/${name}`,
    {
      summary:
        name === 'retry'
          ? 'Start an aborted, rolled-back or failed rollout again with its spec (reason)'
          : 'Take a completed rollout back to its baseline: compensations, then exposure (reason)',
      tags: ['commands'],
      body: { schema: 'RestartCommand' },
      responses: {
        201: ['the new run started', 'RestartResponse'],
        400: 'invalid body, or a spec the catalog or its policy now refuses (issues name the paths)',
        403: `the principal lacks the ${name === 'retry' ? 'start' : 'operate'} role, or the body names another actor`,
        404: 'no such rollout',
        409:
          name === 'retry'
            ? 'the rollout runs, or it completed'
            : 'the rollout runs, or its last run did not complete (its exposure is at its baseline)',
      },
    },
    async (id, request, reply) => {
      const raw = (request.body ?? {}) as Record<string, unknown>;
      const parsed = RestartCommand.safeParse(raw);
      if (!parsed.success) {
        const issues = flattenIssues(parsed.error.issues);
        throw new ValidationError(`invalid ${name} command:\n${describeIssues(issues)}`, issues);
      }
      const principal = request.principal!;
      const impersonation = otherActor(parsed.data.actor, principal.name);
      if (impersonation) return reply.code(403).send(impersonation);
      const opts = {
        reason: parsed.data.reason,
        actor: principal.name,
        ...(ctx.catalog === undefined ? {} : { catalog: ctx.catalog }),
      };
      const started: { workflowId: string; runId: string } = await withTemporalDeadline(
        ctx,
        (): Promise<{ workflowId: string; runId: string }> =>
          name === 'retry' ? ctx.client.retry(id, opts) : ctx.client.undo(id, opts),
      );
      request.log.info({ workflowId: started.workflowId, runId: started.runId, command: name }, 'rollout restarted');
      const uiUrl =
        ctx.uiUrl &&
        workflowWebUiUrl(ctx.uiUrl, ctx.temporalClient.options.namespace, started.workflowId, started.runId);
      return reply.code(201).send({ ...started, ...(uiUrl ? { uiUrl } : {}) });
    },
    name === 'retry' ? 'start' : 'operate',
  );
}

/** The actor is who called: a body may repeat it, never name somebody else (403 with this body). */
function otherActor(actor: unknown, principal: string): { error: string } | undefined {
  return actor !== undefined && actor !== principal
    ? { error: `actor must be the calling principal ("${principal}") or left out` }
    : undefined;
}

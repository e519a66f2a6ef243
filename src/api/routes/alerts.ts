import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { MAX_FLAG, MAX_LABEL, MAX_TEXT, truncate } from '../../domain/bounds.js';
import type { GuardBreach } from '../../domain/commands.schema.js';
import { ROLLOUT_ID_PREFIX, rolloutIdFromIdOrFlag } from '../../domain/ids.js';
import { describeIssues, flattenIssues } from '../../domain/validation.js';
import { ValidationError } from '../../errors.js';
import { withTemporalDeadline, type ApiContext } from '../context.js';
import { AlertmanagerWebhook, type AlertmanagerAlert, type AlertmanagerResponse } from '../schemas.js';

/** One breach to signal, derived from a firing alert. */
interface BreachTarget {
  workflowId: string;
  breach: GuardBreach;
}

/** The longest workflow ID a rollout has; a longer `rollout` label names none and is reported (truncated), not sent. */
const MAX_ROLLOUT_ID = ROLLOUT_ID_PREFIX.length + MAX_FLAG;

/** A number only when the whole annotation is one (`"0.12"`, not `"12%"` or `""`). */
function numericValue(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The breach a firing alert stands for, or undefined when it does not name a rollout and a guard. Alert text is
 * the sender's: the guard label and the summary (or else the description) are cut to the bounds a breach has, so
 * no alert, however large, grows the rollout's history or state by more than a breach may.
 */
export function breachOf(alert: AlertmanagerAlert): BreachTarget | undefined {
  const { rollout, guard } = alert.labels;
  if (alert.status !== 'firing' || !rollout || !guard) return undefined;
  const value = numericValue(alert.annotations.value);
  const reason = alert.annotations.summary || alert.annotations.description;
  return {
    // alert rules may label a rollout by its workflow ID (`rollout/checkout`) or just by its flag (`checkout`)
    workflowId: rolloutIdFromIdOrFlag(rollout),
    breach: {
      guard: truncate(guard, MAX_LABEL),
      ...(value !== undefined ? { value } : {}),
      source: 'alertmanager',
      ...(reason ? { reason: truncate(reason, MAX_TEXT) } : {}),
    },
  };
}

/**
 * `POST /alerts/alertmanager`: each firing alert labelled `rollout` and `guard` becomes one `guardBreach` signal.
 * Several alerts for the same rollout and guard in one notification (one per instance, say) are signalled once,
 * since each signal to a non-critical guard counts as a failed measurement. Always 200 for a valid payload so
 * Alertmanager does not retry alerts that were delivered; per-rollout failures are listed in `errors`.
 */
export function alertRoutes(ctx: ApiContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/alerts/alertmanager',
      {
        config: {
          role: 'operate',
          doc: {
            summary: 'Alertmanager webhook (v4): firing alerts labelled rollout+guard signal guardBreach',
            tags: ['alerts'],
            body: { schema: 'AlertmanagerWebhook' },
            responses: {
              200: ['alerts handled', 'AlertmanagerResponse'],
              400: 'not an Alertmanager v4 payload',
              403: 'the principal lacks the operate role',
              413: 'body too large',
            },
          },
        },
      },
      async (request): Promise<AlertmanagerResponse> => {
        const parsed = AlertmanagerWebhook.safeParse(request.body);
        if (!parsed.success) {
          const issues = flattenIssues(parsed.error.issues);
          throw new ValidationError(`invalid Alertmanager payload:\n${describeIssues(issues)}`, issues);
        }
        const targets = new Map<string, BreachTarget>();
        let ignored = 0;
        for (const alert of parsed.data.alerts) {
          const target = breachOf(alert);
          const key = target && `${target.workflowId}\u0000${target.breach.guard}`;
          if (!target || !key || targets.has(key)) ignored++;
          else targets.set(key, target);
        }
        const outcomes = await Promise.all([...targets.values()].map((t) => signal(ctx, t)));
        const errors = outcomes.filter((e) => e !== undefined);
        const signalled = outcomes.length - errors.length;
        request.log.info(
          { signalled, ignored, errors: errors.length, receiver: parsed.data.receiver },
          'alertmanager notification',
        );
        return { signalled, ignored, errors };
      },
    );
  };
}

async function signal(
  ctx: ApiContext,
  { workflowId, breach }: BreachTarget,
): Promise<AlertmanagerResponse['errors'][number] | undefined> {
  if (workflowId.length > MAX_ROLLOUT_ID)
    return {
      rollout: truncate(workflowId, MAX_ROLLOUT_ID),
      guard: breach.guard,
      error: 'no running rollout with this ID',
    };
  try {
    await withTemporalDeadline(ctx, () => ctx.client.breach(workflowId, breach));
    ctx.logger.warn(
      { workflowId, guard: breach.guard, value: breach.value },
      'guard breach signalled from Alertmanager',
    );
    return undefined;
  } catch (err) {
    const error =
      err instanceof WorkflowNotFoundError ? 'no running rollout with this ID' : 'could not signal the rollout';
    if (!(err instanceof WorkflowNotFoundError)) ctx.logger.error({ err, workflowId }, 'guardBreach signal failed');
    return { rollout: workflowId, guard: breach.guard, error };
  }
}

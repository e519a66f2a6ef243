import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { RolloutPhaseKey } from '../temporal/search-attributes.js';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { z } from 'zod';
import type { ObserveProgress } from '../../activities/guards/observe-window.js';
import { guardStatusOf } from '../domain/rollout-state.js';
import {
  AbortCommand,
  ApproveCommand,
  PauseCommand,
  PromoteCommand,
  ResumeCommand,
  UndoCommand,
  type GuardBreach,
} from '../domain/commands.schema.js';
import { type CommandAck } from '../domain/commands.js';
import { MAX_DESCRIPTION } from '../domain/bounds.js';
import { describeIssues, flattenIssues } from '../domain/validation.js';
import { RolloutError, ValidationError } from '../errors.js';
import {
  abortUpdate,
  approveUpdate,
  guardBreachSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  statusQuery,
  type RolloutResult,
  type RolloutStatus,
} from '../../workflows/messages.js';
import type { progressiveRollout } from '../../workflows/progressive-rollout.js';
import { startRollout, type StartOptions } from './start.js';
import { listRollouts, type ListQuery, type RolloutSummary } from './visibility.js';

/** The workflow refused an operator command; `reason` is its validator's explanation. */
export class CommandRejectedError extends RolloutError {
  override readonly name = 'CommandRejectedError';
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${command} rejected: ${reason}`);
  }
}

type Update =
  typeof pauseUpdate | typeof resumeUpdate | typeof promoteUpdate | typeof approveUpdate | typeof abortUpdate;

/** A typed client for rollouts: start, inspect and operate them from any service. */
export class RolloutClient {
  constructor(readonly client: Client) {}

  /** Validates and starts a rollout; returns its workflow ID. */
  async start(spec: unknown, options: StartOptions = {}): Promise<{ workflowId: string; runId: string }> {
    const handle = await startRollout(this.client, spec, options);
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  }

  /** The workflow handle for a rollout ID (`rollout/<flag>`). */
  handle(id: string): WorkflowHandle<typeof progressiveRollout> {
    return this.client.workflow.getHandle<typeof progressiveRollout>(id);
  }

  /**
   * The rollout's status. While a window with guards runs, guard values come live from the observation
   * activity's heartbeat (no history cost); `guardsAsOf` says when they were measured.
   */
  async status(id: string): Promise<RolloutStatus & { guardsAsOf?: string }> {
    const handle = this.handle(id);
    const [status, description] = await Promise.all([
      handle.query(statusQuery),
      handle.describe().catch(() => undefined),
    ]);
    let guards = status.guards;
    let asOf: string | undefined;
    // a window's guards and the background guards each report in their own activity's heartbeats
    for (const type of ['observeWindow', 'watchGuards']) {
      const pending = description?.raw.pendingActivities?.find((a) => a.activityType?.name === type);
      const payloads = pending?.heartbeatDetails?.payloads;
      if (!payloads?.length) continue;
      const [progress] = (await decodeArrayFromPayloads(this.client.options.loadedDataConverter, payloads)) as [
        ObserveProgress | undefined,
      ];
      if (!progress?.tallies) continue;
      const live = new Map(
        progress.tallies.map((t) => {
          const known = guards.find((g) => g.name === t.guard);
          const extra = {
            ...(known?.unit ? { unit: known.unit } : {}),
            ...(known?.dryRun ? { dryRun: true } : {}),
            ...(known?.during ? { during: known.during } : {}),
            ...(known?.failureLimit !== undefined ? { failureLimit: known.failureLimit } : {}),
          };
          return [t.guard, guardStatusOf(t, t.last?.verdict ?? 'Inconclusive', progress.updatedAt, extra)] as const;
        }),
      );
      guards = [
        ...guards.map((g) => live.get(g.name) ?? g),
        ...[...live.values()].filter((l) => !guards.some((g) => g.name === l.name)),
      ];
      if (!asOf || progress.updatedAt > asOf) asOf = progress.updatedAt;
    }
    return asOf ? { ...status, guards, guardsAsOf: asOf } : status;
  }

  /**
   * Starts an ended rollout's spec again, as its caller sent it, under the same workflow ID and task queue: after
   * an abort, a rollback or a failed start (never after Completed, nor while it runs). The new run's description
   * says who retried it, after what, and why.
   */
  async retry(
    id: string,
    opts: { reason: string; actor: string; catalog?: StartOptions['catalog'] },
  ): Promise<{ workflowId: string; runId: string; after: string }> {
    const ended = await this.endedRun(id, 'retry');
    if (ended.phase === 'Completed') throw new CommandRejectedError('retry', 'the rollout completed: nothing to retry');
    const before = (ended.spec as { description?: unknown }).description;
    const note = `retried by ${opts.actor} after ${ended.phase}: ${opts.reason}`;
    const description = (typeof before === 'string' && before ? `${before} — ${note}` : note).slice(0, MAX_DESCRIPTION);
    const started = await this.start(
      { ...ended.spec, description },
      { taskQueue: ended.taskQueue, ...(opts.catalog ? { catalog: opts.catalog } : {}) },
    );
    return { ...started, after: ended.phase };
  }

  /**
   * Undoes the rollout's last run, which must have completed: a new run of its spec, under the same workflow ID and
   * task queue, runs no step; it runs the spec's compensations and sets the target back to the spec's baseline
   * (`rollback.exposure`), verified by reading it back, and ends RolledBack. Refused while the rollout runs (abort
   * it instead) and after a run that did not complete (its exposure is at its baseline already).
   */
  async undo(
    id: string,
    opts: { reason: string; actor: string; catalog?: StartOptions['catalog'] },
  ): Promise<{ workflowId: string; runId: string; undoes: string; baseline: number }> {
    const cmd = UndoCommand.safeParse({ reason: opts.reason, actor: opts.actor });
    if (!cmd.success) {
      const issues = flattenIssues(cmd.error.issues);
      throw new ValidationError(`invalid undo command:\n${describeIssues(issues)}`, issues);
    }
    const ended = await this.endedRun(id, 'undo', 'abort it instead');
    if (ended.phase !== 'Completed')
      throw new CommandRejectedError(
        'undo',
        `the last run ended ${ended.phase}, so its exposure is at its baseline already: nothing to undo`,
      );
    const started = await this.start(ended.spec, {
      taskQueue: ended.taskQueue,
      undo: { of: ended.runId, actor: cmd.data.actor, reason: cmd.data.reason },
      ...(opts.catalog ? { catalog: opts.catalog } : {}),
    });
    const baseline = (ended.spec as { rollback?: { exposure?: unknown } }).rollback?.exposure;
    return { ...started, undoes: ended.runId, baseline: typeof baseline === 'number' ? baseline : 0 };
  }

  /** The last run of an ended rollout: how it ended, its task queue, and the spec its caller sent. */
  private async endedRun(
    id: string,
    verb: string,
    whileRunning = 'abort it first',
  ): Promise<{ phase: string; runId: string; taskQueue: string; spec: Record<string, unknown> }> {
    const handle = this.handle(id);
    const described = await handle.describe();
    if (described.status.name === 'RUNNING')
      throw new CommandRejectedError(verb, `the rollout is still running; ${whileRunning}`);
    const run = this.client.workflow.getHandle(id, described.runId);
    const phase = await run.result().then(
      (r: RolloutResult) => r.phase as string,
      () => 'Failed',
    );
    const history = await run.fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const [input] = (await decodeArrayFromPayloads(this.client.options.loadedDataConverter, payloads)) as [
      { spec?: unknown; undo?: unknown } | undefined,
    ];
    const spec = input?.spec;
    if (typeof spec !== 'object' || spec === null)
      throw new CommandRejectedError(verb, 'the ended run holds no spec to start again');
    // an undo run ends RolledBack; it is a way back, never a spec to run forward or undo again
    const ended = input?.undo !== undefined && phase !== 'Failed' ? 'RolledBack (an undo)' : phase;
    return {
      phase: ended,
      runId: described.runId,
      taskQueue: described.taskQueue,
      spec: spec as Record<string, unknown>,
    };
  }

  /** Rollouts from Temporal visibility, newest first, filtered by phase and target flag. */
  list(filter: ListQuery = {}): Promise<RolloutSummary[]> {
    return listRollouts(this.client, filter);
  }

  /** Waits for the rollout to end and returns its result. */
  result(id: string): Promise<RolloutResult> {
    return this.handle(id).result();
  }

  pause(id: string, cmd: PauseCommand): Promise<CommandAck> {
    return this.command(id, 'pause', pauseUpdate, PauseCommand, cmd);
  }
  resume(id: string, cmd: ResumeCommand): Promise<CommandAck> {
    return this.command(id, 'resume', resumeUpdate, ResumeCommand, cmd);
  }
  /**
   * Ends the current window or pause; with `full`, skips to the last step. A full promotion is refused while a guard
   * is failing unless forced with a reason: the workflow's validator judges the guards it has recorded, and this
   * also judges the live values of the window that runs now (its heartbeat), which the workflow sees only at the
   * window's end.
   */
  async promote(id: string, cmd: PromoteCommand): Promise<CommandAck> {
    if (cmd.full === true && cmd.force !== true) {
      const live = await this.status(id).catch(() => undefined);
      const failing = live?.guards.filter((g) => g.verdict === 'Failed' && g.dryRun !== true) ?? [];
      if (failing.length > 0)
        throw new CommandRejectedError(
          'promote',
          `cannot promote to full: guard ${failing.map((g) => g.name).join(', ')} is failing; add force with a reason to promote anyway`,
        );
    }
    return this.command(id, 'promote', promoteUpdate, PromoteCommand, cmd);
  }
  approve(id: string, cmd: ApproveCommand): Promise<CommandAck> {
    return this.command(id, 'approve', approveUpdate, ApproveCommand, cmd);
  }
  abort(id: string, cmd: AbortCommand): Promise<CommandAck> {
    return this.command(id, 'abort', abortUpdate, AbortCommand, cmd);
  }

  /** Pushes a breach (e.g. from an alert) to the rollout. */
  async breach(id: string, breach: GuardBreach): Promise<void> {
    await this.handle(id).signal(guardBreachSignal, breach);
  }

  private async command<T>(
    id: string,
    name: string,
    update: Update,
    schema: z.ZodType<T>,
    cmd: T,
  ): Promise<CommandAck> {
    const parsed = schema.safeParse(cmd);
    if (!parsed.success) {
      const issues = flattenIssues(parsed.error.issues);
      throw new ValidationError(`invalid ${name} command:\n${describeIssues(issues)}`, issues);
    }
    try {
      return await this.handle(id).executeUpdate(update as typeof pauseUpdate, { args: [parsed.data as PauseCommand] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new CommandRejectedError(name, (err.cause as Error | undefined)?.message ?? err.message);
      throw await this.explainClosed(id, name, err);
    }
  }

  /**
   * Temporal refuses an Update to a finished workflow as "not found" before any validator runs; when the
   * rollout exists, say that it has ended, like any other refusal.
   */
  private async explainClosed(id: string, name: string, err: unknown): Promise<unknown> {
    if (!(err instanceof WorkflowNotFoundError)) return err;
    const described = await this.handle(id)
      .describe()
      .catch(() => undefined);
    if (!described || described.status.name === 'RUNNING') return err;
    const phase = described.typedSearchAttributes.get(RolloutPhaseKey) ?? described.status.name;
    return new CommandRejectedError(name, `cannot ${name}: the rollout has ended (${phase})`);
  }
}

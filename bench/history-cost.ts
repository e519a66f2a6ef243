/**
 * History cost: events per guard check over a long window (a synthetic guard every 10 ms), events per step, and
 * a rollout long enough to pass Temporal's continue-as-new suggestion at its default, counting runs and events
 * per run. Every rollout uses the in-memory target; events do not depend on the target.
 */
import type { temporal } from '@temporalio/proto';
import type { RolloutSpecInput } from '../src/domain/spec.schema.js';
import { startRolloutWorker, type BenchContext, type Measurement } from './context.js';
import { atMost, type Row } from './report.js';

const CHECK_INTERVAL = '10ms';
const EVENTS_PER_RUN_LIMIT = 4_096;
const STEP_WINDOW = '10ms';

interface RunCount {
  runId: string;
  events: number;
  /** Event ID of the first WorkflowTaskStarted that carried `suggestContinueAsNew`. */
  firstSuggestedAt: number | undefined;
  historyBytes: number;
  continuedAsNew: boolean;
}

function spec(
  flag: string,
  steps: RolloutSpecInput['steps'],
  guards: RolloutSpecInput['guards'] = [],
): RolloutSpecInput {
  return {
    name: 'bench-history',
    target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
    steps,
    guards,
  };
}

const exposureSteps = (count: number): RolloutSpecInput['steps'] =>
  Array.from({ length: count }, (_, i) => ({ exposure: 1 + (i % 99), observe: STEP_WINDOW }));

/** Starts a rollout, waits for it, and counts every run of its continue-as-new chain. */
async function runAndCount(ctx: BenchContext, taskQueue: string, input: RolloutSpecInput) {
  const { workflowId, runId } = await ctx.rollouts.start(input, { taskQueue });
  const result = await ctx.rollouts.result(workflowId);
  if (result.phase !== 'Completed') throw new Error(`${workflowId} ended ${result.phase}: ${result.reason}`);
  const runs: RunCount[] = [];
  for (let next: string | undefined = runId; next;) {
    const history = await ctx.client.workflow.getHandle(workflowId, next).fetchHistory();
    const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
    const started = events.filter((e) => e.workflowTaskStartedEventAttributes);
    const suggested = started.find((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew);
    const last: temporal.api.history.v1.IHistoryEvent | undefined = events[events.length - 1];
    const continued: string | undefined =
      last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    runs.push({
      runId: next,
      events: events.length,
      firstSuggestedAt: suggested ? Number(suggested.eventId) : undefined,
      historyBytes: Number(started[started.length - 1]?.workflowTaskStartedEventAttributes?.historySizeBytes ?? 0),
      continuedAsNew: Boolean(continued),
    });
    next = continued || undefined;
  }
  return { result, runs, events: runs.reduce((n, r) => n + r.events, 0) };
}

export const historyCost: Measurement = {
  name: 'history-cost',
  title: 'History cost: events per guard check, per step, and per run with continue-as-new at its default',
  async run(ctx) {
    const windowS = ctx.size('HISTORY_WINDOW_S', 12, 2);
    const worker = await startRolloutWorker(ctx, 'history');
    const rows: Row[] = [];
    const details: Record<string, unknown> = {};
    try {
      ctx.progress(
        `long window: ${windowS} s with a synthetic guard every ${CHECK_INTERVAL}, beside the same rollout without guards`,
      );
      const guard = {
        name: 'synthetic-ok',
        source: { type: 'synthetic' as const, series: { e: [0.01] } },
        query: 'e',
        max: 0.05,
        interval: CHECK_INTERVAL,
      };
      const step = [{ exposure: 10, observe: `${windowS}s` }];
      const [guarded, plain] = await Promise.all([
        runAndCount(ctx, worker.taskQueue, spec(`${ctx.tag}-hist-guarded`, step, [guard])),
        runAndCount(ctx, worker.taskQueue, spec(`${ctx.tag}-hist-plain`, step)),
      ]);
      const checks = guarded.result.windows.reduce((n, w) => n + w.checks, 0);
      rows.push(
        {
          metric: `guard checks in one ${windowS} s window`,
          value: checks,
          unit: 'checks',
          ...(checks < 1_000 ? { note: 'fewer than the 1,000 checks the brief asks for (quick size?)' } : {}),
        },
        { metric: 'events in that rollout (whole run)', value: guarded.events, unit: 'events' },
        {
          metric: 'events per check, amortized (whole run / checks)',
          value: guarded.events / checks,
          unit: 'events',
          target: atMost(1),
        },
        {
          metric: 'marginal events per check (vs no guards)',
          value: (guarded.events - plain.events) / checks,
          unit: 'events',
        },
      );
      details.longWindow = {
        windowS,
        interval: CHECK_INTERVAL,
        checks,
        guardedEvents: guarded.events,
        plainEvents: plain.events,
      };

      ctx.progress('events per step: 1-step and 11-step rollouts');
      const [one, eleven] = await Promise.all([
        runAndCount(ctx, worker.taskQueue, spec(`${ctx.tag}-hist-steps1`, exposureSteps(1))),
        runAndCount(ctx, worker.taskQueue, spec(`${ctx.tag}-hist-steps11`, exposureSteps(11))),
      ]);
      const perStep = (eleven.events - one.events) / 10;
      rows.push({
        metric: `events per exposure step (observe ${STEP_WINDOW}, no guards)`,
        value: perStep,
        unit: 'events',
      });
      details.perStep = { oneStep: one.events, elevenSteps: eleven.events, perStep };

      // enough steps for about 1.5 runs' worth of events at the default suggestion: one continue-as-new at least
      const steps = ctx.size('CAN_STEPS', Math.ceil((1.5 * EVENTS_PER_RUN_LIMIT) / Math.max(perStep, 1)), 40);
      ctx.progress(
        `continue-as-new: one rollout with ${steps} steps (server default limit.historyCount.suggestContinueAsNew)`,
      );
      const long = await runAndCount(ctx, worker.taskQueue, spec(`${ctx.tag}-hist-can`, exposureSteps(steps)));
      const maxEvents = Math.max(...long.runs.map((r) => r.events));
      const suggestedAt = long.runs.map((r) => r.firstSuggestedAt).filter((x): x is number => x !== undefined);
      rows.push(
        {
          metric: `runs for a ${steps}-step rollout (${long.events} events in all)`,
          value: long.runs.length,
          unit: 'runs',
        },
        {
          metric: 'max events in one run',
          value: maxEvents,
          unit: 'events',
          target: atMost(EVENTS_PER_RUN_LIMIT),
          ...(maxEvents > EVENTS_PER_RUN_LIMIT && suggestedAt.length
            ? {
                note: `the server first suggested continue-as-new at event ${Math.min(...suggestedAt)}, i.e. only once the run already held ≥ ${EVENTS_PER_RUN_LIMIT} events; a run that waits for the suggestion (then finishes its step) ends past it`,
              }
            : {}),
        },
        {
          metric: 'continue-as-new first suggested at event',
          value: suggestedAt.length ? Math.min(...suggestedAt) : Number.NaN,
          unit: 'events',
          ...(suggestedAt.length
            ? {}
            : { note: 'never suggested: the rollout was too short to reach the server default' }),
        },
        {
          metric: 'max history size of one run',
          value: Math.max(...long.runs.map((r) => r.historyBytes)) / 1024,
          unit: 'KiB',
        },
      );
      details.continueAsNew = { steps, runs: long.runs, dynamicConfig: 'server defaults (none overridden)' };
      return { rows, details };
    } catch (err) {
      return { rows, details, error: (err as Error).stack ?? String(err) };
    } finally {
      await worker.stop();
    }
  },
};

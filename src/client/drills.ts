import { ScheduleOverlapPolicy, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { checkDrill, type DrillSpec, type DrillSpecInput } from '../domain/drill.schema.js';
import { type DrillReport } from '../domain/drill.js';
import { toMs } from '../domain/time.js';
import { describeIssues } from '../domain/validation.js';
import { ValidationError } from '../errors.js';
import { TASK_QUEUE } from '../temporal/connection.js';
import type { rolloutDrill } from '../../workflows/rollout-drill.js';

export const DRILL_WORKFLOW_TYPE = 'rolloutDrill';

/** Validates a drill spec (and the rollout it drills); throws a path-specific {@link ValidationError}. */
export function validateDrill(input: unknown): DrillSpec {
  const checked = checkDrill(input);
  if (!checked.ok) throw new ValidationError(`invalid drill spec:\n${describeIssues(checked.issues)}`, checked.issues);
  return checked.drill;
}

/** Pass rate and time-to-rollback percentiles over past drills. */
export interface DrillSummary {
  since: string;
  drills: number;
  passed: number;
  failed: number;
  passRate: number | null;
  timeToRollbackMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  timeToDetectMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  reports: (DrillReport & { workflowId: string; closedAt: string })[];
}

/** Runs, schedules and reports rollout drills through Temporal (Schedules API for the recurring ones). */
export class DrillClient {
  constructor(
    readonly client: Client,
    readonly taskQueue = TASK_QUEUE,
  ) {}

  /** Starts one drill now; returns its handle. */
  async run(input: DrillSpecInput, workflowId?: string) {
    const drill = validateDrill(input);
    return this.client.workflow.start<typeof rolloutDrill>(DRILL_WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId: workflowId ?? `drill/${drill.name}/${Date.now()}`,
      args: [{ drill }],
      workflowExecutionTimeout: toMs(drill.deadline) + 120_000,
      staticSummary: `drill ${drill.name}`,
    });
  }

  /** Schedules a drill every `every` (e.g. 1d) or by cron; overlapping runs are skipped. */
  async schedule(input: DrillSpecInput, when: { every?: string; cron?: string }): Promise<string> {
    const drill = validateDrill(input);
    if (!when.every === !when.cron)
      throw new ValidationError('give exactly one of --every or --cron', [
        { path: 'schedule', message: 'give exactly one of every or cron' },
      ]);
    const scheduleId = `drill-${drill.name}`;
    await this.client.schedule.create({
      scheduleId,
      spec: when.every ? { intervals: [{ every: toMs(when.every) }] } : { cronExpressions: [when.cron!] },
      action: {
        type: 'startWorkflow',
        workflowType: DRILL_WORKFLOW_TYPE,
        workflowId: `drill/${drill.name}`,
        taskQueue: this.taskQueue,
        args: [{ drill }],
        workflowExecutionTimeout: toMs(drill.deadline) + 120_000,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
      memo: { drill: drill.name },
      state: { note: `rollout drill ${drill.name}` },
    });
    return scheduleId;
  }

  async list(): Promise<
    {
      scheduleId: string;
      paused: boolean;
      note: string | undefined;
      recentActions: number;
      nextActionTimes: string[];
    }[]
  > {
    const out = [];
    for await (const s of this.client.schedule.list()) {
      if (!s.scheduleId.startsWith('drill-')) continue;
      out.push({
        scheduleId: s.scheduleId,
        paused: s.state.paused,
        note: s.state.note,
        recentActions: s.info.recentActions.length,
        nextActionTimes: s.info.nextActionTimes.map((t) => t.toISOString()),
      });
    }
    return out;
  }

  trigger(scheduleId: string) {
    return this.client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
  }
  pause(scheduleId: string, note?: string) {
    return this.client.schedule.getHandle(scheduleId).pause(note);
  }
  unpause(scheduleId: string, note?: string) {
    return this.client.schedule.getHandle(scheduleId).unpause(note);
  }
  delete(scheduleId: string) {
    return this.client.schedule.getHandle(scheduleId).delete();
  }

  /** Reads every closed drill since `sinceMs` ago from visibility and its report (result or failure details). */
  async report(sinceMs: number, filter: { name?: string } = {}): Promise<DrillSummary> {
    const since = new Date(Date.now() - sinceMs).toISOString();
    const query = `WorkflowType = '${DRILL_WORKFLOW_TYPE}' AND CloseTime > '${since}' AND ExecutionStatus != 'Running'`;
    const reports: DrillSummary['reports'] = [];
    for await (const w of this.client.workflow.list({ query })) {
      const report = await this.reportOf(w.workflowId, w.runId);
      if (!report || (filter.name && report.drill !== filter.name)) continue;
      reports.push({ ...report, workflowId: w.workflowId, closedAt: w.closeTime?.toISOString() ?? '' });
    }
    const passed = reports.filter((r) => r.passed).length;
    return {
      since,
      drills: reports.length,
      passed,
      failed: reports.length - passed,
      passRate: reports.length ? passed / reports.length : null,
      timeToRollbackMs: percentiles(reports.map((r) => r.timeToRollbackMs)),
      timeToDetectMs: percentiles(reports.map((r) => r.timeToDetectMs)),
      reports,
    };
  }

  private async reportOf(workflowId: string, runId: string): Promise<DrillReport | undefined> {
    try {
      return (await this.client.workflow.getHandle(workflowId, runId).result()) as DrillReport;
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'DrillFailed') return cause.details?.[0] as DrillReport;
      return undefined;
    }
  }
}

/** Nearest-rank percentiles over the defined values. */
export function percentiles(values: (number | undefined)[]): DrillSummary['timeToRollbackMs'] {
  const sorted = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : null;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : null };
}

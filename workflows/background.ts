import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { WindowReport } from '../activities/index.js';
import { toMs } from '../src/domain/time.js';
import { guardActivities } from './activities.js';
import { causeMessage } from './failure-message.js';
import { backgroundGuards, failuresOf, setGuardStatuses } from './guard-budget.js';
import type { Rollout } from './rollout.js';

/** A segment of background watching lasts 20 checks of the slowest guard, within 1 to 10 minutes. */
const MIN_SEGMENT_MS = 60_000;
const MAX_SEGMENT_MS = 600_000;

/**
 * The guards with `during: rollout`: watched from the first exposure change until the rollout completes, whatever
 * the main flow waits for (a window, an approval, a pause, the final bake). One `watchGuards` activity runs a
 * segment (three history events for up to 20 checks per guard) and starts from the tallies of the one before; a
 * failure ends it early and rolls the rollout back. Stopped before completion and before a continue-as-new (the
 * next run starts again from the carried tallies).
 */
export class BackgroundGuards {
  private running?: Promise<void>;
  private scope?: CancellationScope;
  private stopped = false;

  constructor(private readonly r: Rollout) {}

  /** Starts watching, once; a rollout with no background guard starts nothing. */
  start(): void {
    if (this.running || this.stopped || backgroundGuards(this.r).length === 0) return;
    this.running = this.loop();
  }

  /** Stops watching and waits for the loop to end (the open segment is cancelled, its partial tallies dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.scope?.cancel();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { r } = this;
    try {
      while (!this.stopped && !r.rollingBack) {
        const report = await this.segment();
        if (!report) return;
        r.state.background = report.tallies;
        r.state.measurements.push(...report.decisive);
        setGuardStatuses(
          r,
          report.tallies,
          report.verdicts.map((v) => v.verdict),
        );
        if (report.outcome === 'failed') {
          r.requestRollback('guard', report.reason);
          return;
        }
      }
    } catch (err) {
      // the workflow was cancelled: the main flow rolls back; anything else is a failure to watch
      if (!isCancellation(err) && !r.rollingBack)
        r.requestRollback('error', `background guards could not run: ${causeMessage(err)}`);
    }
  }

  private async segment(): Promise<WindowReport | undefined> {
    const { r } = this;
    const guards = backgroundGuards(r);
    const slowest = Math.max(...guards.map((g) => toMs(g.interval)));
    const segmentMs = Math.min(MAX_SEGMENT_MS, Math.max(MIN_SEGMENT_MS, 20 * slowest));
    const startMs = Date.now();
    const carried = r.state.background;
    const scope = new CancellationScope();
    this.scope = scope;
    let report: WindowReport | undefined;
    let failure: unknown;
    void scope
      .run(() =>
        guardActivities.watchGuards.executeWithOptions(
          {
            startToCloseTimeout: segmentMs + slowest + 120_000,
            summary: `background guards ${guards.map((g) => g.name).join(', ')}`,
          },
          [
            {
              guards,
              step: r.state.step,
              windowStartMs: startMs,
              windowEndMs: startMs + segmentMs,
              prior: guards.map((g) => failuresOf(r, g.name)),
              ...(carried ? { tallies: guards.map((g) => carried.find((t) => t.guard === g.name) ?? null) } : {}),
              context: { rollout: r.spec.name, target: r.spec.target.flag, exposure: r.state.exposure.percent },
            },
          ],
        ),
      )
      .then(
        (value) => (report = value),
        (err: unknown) => (failure = err),
      );
    await condition(() => report !== undefined || failure !== undefined || this.stopped || r.rollingBack);
    if (report) return report;
    if (failure !== undefined && !isCancellation(failure)) throw failure;
    scope.cancel();
    return undefined;
  }
}

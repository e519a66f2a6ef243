import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { WindowReport } from '../activities/index.js';
import { guardStatusOf } from '../src/domain/rollout-state.js';
import type { WindowSummary } from '../src/domain/rollout-state.schema.js';
import type { ExposureStep } from '../src/domain/spec.schema.js';
import { windowVerdict } from '../src/domain/tally.js';
import { toMs } from '../src/domain/time.js';
import { guardActivities } from './activities.js';
import { now, type Rollout } from './rollout.js';
import { WindowTimer } from './window-timer.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Observes one window. Without guards it is a durable timer. With guards, one `observeWindow` activity
 * evaluates them all on their intervals (so history grows per window, not per check); promote, abort or a
 * breach cancel it at once. A failed guard rolls back; inconclusive guards extend the window up to the
 * spec's limit, then pause for a human or roll back.
 */
export function observe(r: Rollout, step: ExposureStep, windowMs: number): Promise<void> {
  const { spec, state } = r;
  const interrupted = () => state.promoteRequested || r.rollingBack;
  // the caller has set state.windowEndsAt (before publishing Observing); without guards the window is one timer, returned as is (no async wrapper: fewer promises per step)
  if (spec.guards.length === 0)
    return (r.windowTimer ??= new WindowTimer(interrupted)).wait(
      windowMs,
      `observe ${step.observe} at ${step.exposure}%`,
    );
  return observeGuarded(r, windowMs, interrupted);
}

async function observeGuarded(r: Rollout, windowMs: number, interrupted: () => boolean): Promise<void> {
  const { spec, state } = r;
  const startMs = Date.now();
  let endMs = startMs + windowMs;
  for (let extensions = 0; ;) {
    const report = await runWindow(r, startMs, endMs, interrupted);
    if (!report) {
      summarise(
        r,
        startMs,
        state.promoteRequested ? 'promoted' : 'interrupted',
        state.promoteRequested ? 'promoted by operator' : 'rollback requested',
        0,
      );
      return;
    }
    record(r, report);
    summarise(r, startMs, report.outcome, report.reason, report.checks);
    if (report.outcome === 'passed') return;
    if (report.outcome === 'failed') {
      r.requestRollback('guard', report.reason);
      return;
    }
    const { extendBy, maxExtensions, onInconclusive } = spec.analysis;
    if (extendBy && extensions < maxExtensions) {
      extensions += 1;
      endMs = Date.now() + toMs(extendBy);
      state.windowEndsAt = iso(endMs);
      r.enter(
        'Observing',
        `step ${state.step}: window extended by ${extendBy} (${extensions}/${maxExtensions}): ${report.reason}`,
      );
      continue;
    }
    if (onInconclusive === 'rollback') r.requestRollback('guard', report.reason);
    else r.addPause({ kind: 'guard', reason: report.reason, at: now() });
    return;
  }
}

async function runWindow(
  r: Rollout,
  startMs: number,
  endMs: number,
  interrupted: () => boolean,
): Promise<WindowReport | undefined> {
  const { spec, state } = r;
  const scope = new CancellationScope();
  let report: WindowReport | undefined;
  let failure: unknown;
  const maxIntervalMs = Math.max(...spec.guards.map((g) => toMs(g.interval)));
  void scope
    .run(() =>
      guardActivities.observeWindow.executeWithOptions(
        {
          startToCloseTimeout: endMs - startMs + maxIntervalMs + 120_000,
          summary: `guards ${spec.guards.map((g) => g.name).join(', ')} at ${state.exposure.percent}%`,
        },
        [{ guards: spec.guards, step: state.step, windowStartMs: startMs, windowEndMs: endMs }],
      ),
    )
    .then(
      (value) => (report = value),
      (err: unknown) => (failure = err),
    );
  await condition(() => report !== undefined || failure !== undefined || interrupted());
  if (report) return report;
  if (failure !== undefined && !isCancellation(failure)) throw failure;
  scope.cancel();
  return undefined;
}

function record(r: Rollout, report: WindowReport): void {
  const { spec, state } = r;
  state.measurements.push(...report.decisive);
  state.guards = report.tallies.map((t, i) =>
    guardStatusOf(t, report.verdicts[i]?.verdict ?? windowVerdict(t, spec.guards[i]!), now()),
  );
}

function summarise(r: Rollout, startMs: number, outcome: WindowSummary['outcome'], reason: string, checks: number) {
  r.state.windows.push({ step: r.state.step, startedAt: iso(startMs), endedAt: now(), checks, outcome, reason });
}

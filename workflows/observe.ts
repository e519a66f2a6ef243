import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { WindowReport } from '../activities/index.js';
import type { MeasuredGuard } from '../src/domain/guard-spec.schema.js';
import { guardStatusOf } from '../src/domain/rollout-state.js';
import type { WindowSummary } from '../src/domain/rollout-state.schema.js';
import { windowVerdict } from '../src/domain/tally.js';
import { toMs } from '../src/domain/time.js';
import { guardActivities } from './activities.js';
import { addFailures, failuresOf, setGuardStatuses, windowGuards } from './guard-budget.js';
import { now, type Rollout } from './rollout.js';
import { WindowTimer } from './window-timer.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** What a window observes: a step's `observe` at its exposure, or the final bake. */
export interface WindowOf {
  observe: string;
  exposure: number;
}

/**
 * Observes one window. Without guards it is a durable timer. With guards, one `observeWindow` activity
 * evaluates them all on their intervals (so history grows per window, not per check); promote, abort or a
 * breach cancel it at once. A failed guard rolls back; inconclusive guards extend the window up to the
 * spec's limit, then pause for a human or roll back.
 */
export function observe(r: Rollout, step: WindowOf, windowMs: number): Promise<void> {
  const { state } = r;
  const interrupted = () => state.promoteRequested || r.rollingBack;
  const guards = windowGuards(r);
  // the caller has set state.windowEndsAt (before publishing Observing); without guards the window is one timer, returned as is (no async wrapper: fewer promises per step)
  if (guards.length === 0)
    return (r.windowTimer ??= new WindowTimer(interrupted)).wait(
      windowMs,
      `observe ${step.observe} at ${step.exposure}%`,
    );
  return observeGuarded(r, guards, windowMs, interrupted);
}

async function observeGuarded(
  r: Rollout,
  guards: MeasuredGuard[],
  windowMs: number,
  interrupted: () => boolean,
): Promise<void> {
  const { spec, state } = r;
  const startMs = Date.now();
  let endMs = startMs + windowMs;
  for (let extensions = 0; ;) {
    const prior = r.v5 ? guards.map((g) => failuresOf(r, g.name)) : undefined;
    const report = await runWindow(r, guards, startMs, endMs, interrupted, prior);
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
    const overBudget = record(r, guards, report, prior);
    if (overBudget && report.outcome !== 'failed') {
      summarise(r, startMs, 'failed', overBudget, report.checks);
      r.requestRollback('guard', overBudget);
      return;
    }
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
        `step ${state.step + 1}: window extended by ${extendBy} (${extensions}/${maxExtensions}): ${report.reason}`,
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
  guards: MeasuredGuard[],
  startMs: number,
  endMs: number,
  interrupted: () => boolean,
  prior: number[] | undefined,
): Promise<WindowReport | undefined> {
  const { spec, state } = r;
  const scope = new CancellationScope();
  let report: WindowReport | undefined;
  let failure: unknown;
  const maxIntervalMs = Math.max(...guards.map((g) => toMs(g.interval)));
  // a source error at the window's end is retried after errorInterval, while the guard's error limit allows
  const retriesMs = r.v5
    ? Math.max(...guards.map((g) => toMs(g.errorInterval ?? '10s') * (g.consecutiveErrorLimit + 1)))
    : 0;
  void scope
    .run(() =>
      guardActivities.observeWindow.executeWithOptions(
        {
          startToCloseTimeout: endMs - startMs + maxIntervalMs + retriesMs + 120_000,
          summary: `guards ${guards.map((g) => g.name).join(', ')} at ${state.exposure.percent}%`,
        },
        [
          {
            guards,
            step: state.step,
            windowStartMs: startMs,
            windowEndMs: endMs,
            ...(prior ? { prior } : {}),
            ...(r.v5
              ? { context: { rollout: spec.name, target: spec.target.flag, exposure: state.exposure.percent } }
              : {}),
          },
        ],
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

/**
 * Records a window's measurements and guard statuses. From version 5 it also counts each guard's failures in its
 * rollout-wide tally (`budget: rollout`) and returns why the window fails when this window's failures and the
 * breaches pushed while it ran add up past a guard's limit (neither alone did).
 */
function record(
  r: Rollout,
  guards: MeasuredGuard[],
  report: WindowReport,
  prior: number[] | undefined,
): string | undefined {
  const { state } = r;
  state.measurements.push(...report.decisive);
  if (!r.v5 || !prior) {
    state.guards = report.tallies.map((t, i) =>
      guardStatusOf(t, report.verdicts[i]?.verdict ?? windowVerdict(t, guards[i]!), now()),
    );
    return undefined;
  }
  let over: string | undefined;
  let overGuard: string | undefined;
  guards.forEach((g, i) => {
    const t = report.tallies[i]!;
    const pushedDuring = failuresOf(r, g.name) - prior[i]!;
    const total = g.budget === 'window' ? failuresOf(r, g.name) + t.failed : addFailures(r, g.name, t.failed);
    if (over || g.dryRun || report.outcome === 'failed' || pushedDuring === 0 || total <= g.failureLimit) return;
    overGuard = g.name;
    over = `guard ${g.name} failed ${total}× (limit ${g.failureLimit}): ${t.failed} in this window, ${state.breaches[g.name] ?? 0} pushed`;
  });
  setGuardStatuses(
    r,
    report.tallies,
    report.verdicts.map((v) => (v.guard === overGuard ? 'Failed' : v.verdict)),
  );
  return over;
}

function summarise(r: Rollout, startMs: number, outcome: WindowSummary['outcome'], reason: string, checks: number) {
  r.state.windows.push({ step: r.state.step, startedAt: iso(startMs), endedAt: now(), checks, outcome, reason });
}

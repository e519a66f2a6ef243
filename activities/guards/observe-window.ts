import { Context } from '@temporalio/activity';
import { assessGuard, emptyTally, measuredValue, tallyMeasurement, worstVerdict } from '../../src/domain/tally.js';
import { type GuardTally, type MeasurementRecord, type Verdict } from '../../src/domain/tally.schema.js';
import { toMs } from '../../src/domain/time.js';
import type { MeasuredGuard } from '../../src/domain/guard-spec.schema.js';
import type { MetricSource } from '../sources/port.js';
import { evaluateGuard, type CohortJudgement, type RolloutContext } from './evaluate-guard.js';

export interface ObserveWindowInput {
  guards: MeasuredGuard[];
  step: number;
  windowStartMs: number;
  windowEndMs: number;
  /**
   * Failures each guard had before this window (earlier windows under `budget: rollout`, pushed breaches); they
   * count against its `failureLimit` here. Absent: none (every window starts an empty tally).
   */
  prior?: number[];
  /**
   * `background`: one segment of the guards that watch the whole rollout. It starts from `tallies` (carried from
   * the segment before), never judges missing data at its end, and ends early only when a guard fails.
   */
  mode?: 'window' | 'background';
  tallies?: (GuardTally | null)[];
  /** What a status-code guard's webhook is told about the rollout. */
  context?: RolloutContext;
}

/** Progress carried in heartbeats: a retried attempt (worker crash) resumes the same tallies. */
export interface ObserveProgress {
  tallies: GuardTally[];
  nextCheckAtMs: number[];
  /** A source error's retry, `errorInterval` after it (null: none due). */
  retryAtMs?: (number | null)[];
  decisive: MeasurementRecord[];
  /** Dry-run guards that have failed in this window (recorded once each, never acted on). */
  dryRunFailed?: string[];
  updatedAt: string;
}

export interface GuardVerdict {
  guard: string;
  verdict: Verdict;
  dryRun?: boolean;
  /** Why, when the guard failed or is inconclusive. */
  message?: string;
}

export interface WindowReport {
  outcome: 'passed' | 'failed' | 'inconclusive';
  reason: string;
  verdicts: GuardVerdict[];
  tallies: GuardTally[];
  /** Measurements that changed a decision (or would have, for a dry-run guard), exactly as judged. */
  decisive: MeasurementRecord[];
  checks: number;
}

const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Evaluates every guard on its interval until the window ends, inside ONE activity: history records the
 * window, not each check (≤ 1 event per check amortized). Returns early when a guard fails. Tallies travel
 * in heartbeat details, which `status` reads live and a retry resumes from. A source error is checked again after
 * the guard's `errorInterval`, off its regular schedule (also past the window's end, while the limit allows), so
 * a blip costs seconds and no success. A dry-run guard is measured and recorded like any other, and never ends,
 * fails or holds the window.
 */
export async function observeWindow(
  input: ObserveWindowInput,
  sourceOf: (g: MeasuredGuard) => MetricSource,
  /** Applied to every heartbeat: they bypass the activity's result redaction, and `status` shows them live. */
  redact: <T>(value: T) => T = (value) => value,
): Promise<WindowReport> {
  const ctx = Context.current();
  const background = input.mode === 'background';
  const span = input.windowEndMs - input.windowStartMs;
  const firstCheck = (g: MeasuredGuard, t: GuardTally | undefined) => {
    const delay = g.initialDelay !== undefined && (t?.checks ?? 0) === 0 ? toMs(g.initialDelay) : toMs(g.interval);
    return input.windowStartMs + (background ? delay : Math.min(delay, span));
  };
  const resumed = ctx.info.heartbeatDetails as ObserveProgress | undefined;
  const progress: ObserveProgress = resumed ?? {
    tallies: input.guards.map((g, i) => {
      const prior = input.prior?.[i] ?? 0;
      const carried = input.tallies?.[i];
      if (!carried) return emptyTally(g.name, prior);
      const { prior: _before, ...rest } = carried;
      return prior > 0 ? { ...rest, prior } : rest;
    }),
    nextCheckAtMs: input.guards.map((g, i) => firstCheck(g, input.tallies?.[i] ?? undefined)),
    decisive: [],
    updatedAt: new Date().toISOString(),
  };
  const retryAt = (progress.retryAtMs ??= input.guards.map(() => null));
  const dryRunFailed = (progress.dryRunFailed ??= []);
  let lastBeat = 0;
  const beat = (force = false) => {
    if (!force && Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return;
    lastBeat = Date.now();
    progress.updatedAt = new Date().toISOString();
    ctx.heartbeat(redact(progress));
  };
  beat(true);
  const nextAt = (i: number) => Math.min(progress.nextCheckAtMs[i]!, retryAt[i] ?? Infinity);
  // a window's error retry may run past its end; a background segment's is left to the next segment
  const pending = (i: number) =>
    progress.nextCheckAtMs[i]! <= input.windowEndMs ||
    (retryAt[i] !== null && (!background || retryAt[i]! <= input.windowEndMs));

  for (;;) {
    const now = Date.now();
    const due = input.guards.map((_, i) => i).filter((i) => pending(i) && nextAt(i) <= now);
    for (const i of due) {
      const guard = input.guards[i]!;
      const record = await measure(guard, sourceOf(guard), input, progress.tallies[i]!.checks, ctx.cancellationSignal);
      const tally = tallyMeasurement(progress.tallies[i]!, record);
      progress.tallies[i] = tally;
      if (progress.nextCheckAtMs[i]! <= now) {
        const next = progress.nextCheckAtMs[i]! + toMs(guard.interval);
        // the final check lands on the window end, so the end verdict sees the whole window
        progress.nextCheckAtMs[i] =
          !background && next > input.windowEndMs && progress.nextCheckAtMs[i]! < input.windowEndMs
            ? input.windowEndMs
            : next;
      }
      // specs of runs started before errorInterval existed have none
      const retry = Date.now() + toMs(guard.errorInterval ?? '10s');
      // a retry that comes before the next regular check, or after the window's last one (a window, not a segment)
      const regularLeft = background || progress.nextCheckAtMs[i]! <= input.windowEndMs;
      retryAt[i] = record.verdict === 'Error' && (!regularLeft || retry < progress.nextCheckAtMs[i]!) ? retry : null;
      const assessed = assessGuard(tally, guard, 'check');
      if (assessed.verdict !== 'Failed') continue;
      if (!guard.dryRun) {
        progress.decisive.push(record);
        beat(true);
        return report(input, progress, 'failed', assessed.message, i);
      }
      if (!dryRunFailed.includes(guard.name)) {
        dryRunFailed.push(guard.name);
        progress.decisive.push({ ...record, dryRun: true, detail: `dry run: ${assessed.message}` });
      }
    }
    if (due.length) beat(true);
    const waiting = input.guards.map((_, i) => i).filter(pending);
    if (waiting.length === 0) break;
    const wait = Math.max(0, Math.min(...waiting.map(nextAt)) - Date.now());
    await ctx.sleep(Math.min(wait, HEARTBEAT_EVERY_MS));
    beat();
  }
  return background ? report(input, progress, 'passed', 'segment ended') : endOfWindow(input, progress);
}

async function measure(
  guard: MeasuredGuard,
  source: MetricSource,
  input: ObserveWindowInput,
  check: number,
  signal: AbortSignal,
): Promise<MeasurementRecord> {
  const nowMs = Date.now();
  const base = {
    guard: guard.name,
    at: new Date(nowMs).toISOString(),
    step: input.step,
    check,
    ...(guard.unit ? { unit: guard.unit } : {}),
    ...(guard.dryRun ? { dryRun: true } : {}),
  };
  let judgements: CohortJudgement[];
  try {
    judgements = await evaluateGuard(guard, source, {
      check,
      step: input.step,
      nowMs,
      windowStartMs: input.windowStartMs,
      signal,
      ...(input.context ? { rollout: input.context } : {}),
    });
  } catch (err) {
    return {
      ...base,
      verdict: 'Error',
      value: null,
      threshold: '—',
      detail: `source error: ${(err as Error).message}`,
    };
  }
  const worst = worstVerdict(judgements.map((j) => j.verdict));
  const pick = judgements.find((j) => j.verdict === worst) ?? judgements[0]!;
  const others =
    judgements.length > 1
      ? ` (cohorts: ${judgements.map((j) => `${j.cohort}=${measuredValue(j.value, guard.unit)} ${j.verdict}`).join(', ')})`
      : '';
  return {
    ...base,
    verdict: pick.verdict,
    value: pick.value,
    threshold: pick.threshold,
    ...(pick.sampleSize !== undefined ? { sampleSize: pick.sampleSize } : {}),
    ...(pick.pValue !== undefined ? { pValue: pick.pValue } : {}),
    ...(pick.interval !== undefined ? { interval: pick.interval } : {}),
    ...(pick.cohort !== undefined ? { cohort: pick.cohort } : {}),
    detail: `${pick.detail}${others}`,
  };
}

function endOfWindow(input: ObserveWindowInput, progress: ObserveProgress): WindowReport {
  const verdicts = verdictsOf(input, progress);
  const holding = verdicts.filter((v) => v.verdict !== 'Successful' && !v.dryRun);
  const dry = verdicts.filter((v) => v.dryRun && v.verdict !== 'Successful');
  const dryNote = dry.length ? ` (dry run, not acted on: ${dry.map((v) => `${v.guard} ${v.verdict}`).join(', ')})` : '';
  if (holding.length === 0) return report(input, progress, 'passed', `all guards successful${dryNote}`, -1, verdicts);
  for (const v of holding) {
    const last = progress.tallies.find((t) => t.guard === v.guard)?.last;
    if (last) progress.decisive.push(last);
  }
  const why = holding.map((v) => v.message ?? v.guard);
  return report(input, progress, 'inconclusive', `inconclusive guards: ${why.join('; ')}${dryNote}`, -1, verdicts);
}

function verdictsOf(input: ObserveWindowInput, progress: ObserveProgress): GuardVerdict[] {
  return input.guards.map((g, i) => {
    const tally = progress.tallies[i]!;
    const assessed =
      input.mode === 'background'
        ? { verdict: tally.last?.verdict ?? 'Inconclusive', message: undefined }
        : assessGuard(tally, g, 'end');
    const verdict: Verdict = assessed.verdict === 'Running' ? 'Inconclusive' : assessed.verdict;
    return {
      guard: g.name,
      verdict: progress.dryRunFailed?.includes(g.name) ? 'Failed' : verdict,
      ...(g.dryRun ? { dryRun: true } : {}),
      ...(verdict !== 'Successful' && assessed.message ? { message: assessed.message } : {}),
    };
  });
}

function report(
  input: ObserveWindowInput,
  progress: ObserveProgress,
  outcome: WindowReport['outcome'],
  reason: string,
  /** The guard that failed (outcome `failed`). */
  failedGuard = -1,
  verdicts = verdictsOf(input, progress),
): WindowReport {
  return {
    outcome,
    reason,
    verdicts: verdicts.map((v, i) => (i === failedGuard ? { ...v, verdict: 'Failed' as const, message: reason } : v)),
    tallies: progress.tallies,
    decisive: progress.decisive,
    checks: progress.tallies.reduce((n, t) => n + t.checks, 0),
  };
}

import { Context } from '@temporalio/activity';
import { worstVerdict, emptyTally, measuredValue, tallyMeasurement, windowVerdict } from '../../src/domain/tally.js';
import { type GuardTally, type MeasurementRecord, type Verdict } from '../../src/domain/tally.schema.js';
import { toMs } from '../../src/domain/time.js';
import type { GuardSpec } from '../../src/domain/guard-spec.schema.js';
import type { MetricSource } from '../sources/port.js';
import { evaluateGuard, type CohortJudgement } from './evaluate-guard.js';

export interface ObserveWindowInput {
  guards: GuardSpec[];
  step: number;
  windowStartMs: number;
  windowEndMs: number;
}

/** Progress carried in heartbeats: a retried attempt (worker crash) resumes the same tallies. */
export interface ObserveProgress {
  tallies: GuardTally[];
  nextCheckAtMs: number[];
  decisive: MeasurementRecord[];
  updatedAt: string;
}

export interface WindowReport {
  outcome: 'passed' | 'failed' | 'inconclusive';
  reason: string;
  verdicts: { guard: string; verdict: Verdict }[];
  tallies: GuardTally[];
  /** Measurements that changed a decision, exactly as judged. */
  decisive: MeasurementRecord[];
  checks: number;
}

const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Evaluates every guard on its interval until the window ends, inside ONE activity: history records the
 * window, not each check (≤ 1 event per check amortized). Returns early when a guard fails. Tallies travel
 * in heartbeat details, which `status` reads live and a retry resumes from.
 */
export async function observeWindow(
  input: ObserveWindowInput,
  sourceOf: (g: GuardSpec) => MetricSource,
  /** Applied to every heartbeat: they bypass the activity's result redaction, and `status` shows them live. */
  redact: <T>(value: T) => T = (value) => value,
): Promise<WindowReport> {
  const ctx = Context.current();
  const resumed = ctx.info.heartbeatDetails as ObserveProgress | undefined;
  const progress: ObserveProgress = resumed ?? {
    tallies: input.guards.map((g) => emptyTally(g.name)),
    nextCheckAtMs: input.guards.map(
      (g) => input.windowStartMs + Math.min(toMs(g.interval), input.windowEndMs - input.windowStartMs),
    ),
    decisive: [],
    updatedAt: new Date().toISOString(),
  };
  let lastBeat = 0;
  const beat = (force = false) => {
    if (!force && Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return;
    lastBeat = Date.now();
    progress.updatedAt = new Date().toISOString();
    ctx.heartbeat(redact(progress));
  };
  beat(true);

  for (;;) {
    const now = Date.now();
    const due = input.guards.map((_, i) => i).filter((i) => progress.nextCheckAtMs[i]! <= now);
    for (const i of due) {
      const guard = input.guards[i]!;
      const record = await measure(guard, sourceOf(guard), input, progress.tallies[i]!.checks, ctx.cancellationSignal);
      const { tally, decision } = tallyMeasurement(progress.tallies[i]!, record, guard);
      progress.tallies[i] = tally;
      const intervalMs = toMs(guard.interval);
      const next = progress.nextCheckAtMs[i]! + intervalMs;
      // the final check lands on the window end, so the end verdict sees the whole window
      progress.nextCheckAtMs[i] =
        next > input.windowEndMs && progress.nextCheckAtMs[i]! < input.windowEndMs ? input.windowEndMs : next;
      if (decision.kind === 'fail') {
        progress.decisive.push(record);
        beat(true);
        return report(input, progress, 'failed', decision.reason);
      }
    }
    if (due.length) beat(true);
    const pending = progress.nextCheckAtMs.filter((t) => t <= input.windowEndMs);
    if (pending.length === 0) break;
    const wait = Math.max(0, Math.min(...pending) - Date.now());
    await ctx.sleep(Math.min(wait, HEARTBEAT_EVERY_MS));
    beat();
  }
  return endOfWindow(input, progress);
}

async function measure(
  guard: GuardSpec,
  source: MetricSource,
  input: ObserveWindowInput,
  check: number,
  signal: AbortSignal,
): Promise<MeasurementRecord> {
  const nowMs = Date.now();
  const base = { guard: guard.name, at: new Date(nowMs).toISOString(), step: input.step, check };
  let judgements: CohortJudgement[];
  try {
    judgements = await evaluateGuard(guard, source, {
      check,
      step: input.step,
      nowMs,
      windowStartMs: input.windowStartMs,
      signal,
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
      ? ` (cohorts: ${judgements.map((j) => `${j.cohort}=${measuredValue(j.value)} ${j.verdict}`).join(', ')})`
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
  const verdicts = input.guards.map((g, i) => ({ guard: g.name, verdict: windowVerdict(progress.tallies[i]!, g) }));
  const inconclusive = verdicts.filter((v) => v.verdict !== 'Successful');
  if (inconclusive.length === 0) return report(input, progress, 'passed', 'all guards successful', verdicts);
  for (const v of inconclusive) {
    const last = progress.tallies.find((t) => t.guard === v.guard)?.last;
    if (last) progress.decisive.push(last);
  }
  const why = inconclusive.map(
    (v) => `${v.guard}: ${progress.tallies.find((t) => t.guard === v.guard)?.last?.detail ?? 'no measurement'}`,
  );
  return report(input, progress, 'inconclusive', `inconclusive guards: ${why.join('; ')}`, verdicts);
}

function report(
  input: ObserveWindowInput,
  progress: ObserveProgress,
  outcome: WindowReport['outcome'],
  reason: string,
  verdicts = input.guards.map((g, i) => ({ guard: g.name, verdict: windowVerdict(progress.tallies[i]!, g) })),
): WindowReport {
  return {
    outcome,
    reason,
    verdicts:
      outcome === 'failed'
        ? verdicts.map((v) => (reason.includes(`guard ${v.guard}`) ? { ...v, verdict: 'Failed' as const } : v))
        : verdicts,
    tallies: progress.tallies,
    decisive: progress.decisive,
    checks: progress.tallies.reduce((n, t) => n + t.checks, 0),
  };
}

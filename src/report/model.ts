import { parseValue } from '../domain/units.js';
import type { Verdict } from '../domain/tally.schema.js';
import { isTerminal } from '../domain/rollout-state.js';
import { type Phase, type TimelineEntry, type WindowSummary } from '../domain/rollout-state.schema.js';
import type { RolloutStatus } from '../../workflows/messages.js';

/** What the report draws from: a status as `RolloutClient.status` returns it (live guard values included). */
export type ReportStatus = RolloutStatus & { guardsAsOf?: string };

/** Who the report is about and when it was made (ISO time; "now" for a rollout still running). */
export interface ReportOptions {
  id: string;
  generatedAt: string;
}

/** A span of time in epoch milliseconds; `open` when it had not ended when the report was made. */
export interface Span {
  fromMs: number;
  toMs: number;
  open: boolean;
}

/** How long the rollout stayed in one phase, and the cause (and actor) of entering it. */
export interface PhaseSpan extends Span {
  phase: Phase;
  step: number;
  cause: string;
  actor?: string;
}

/** One observation window with guards, as summarised in status (checks are counted over all guards). */
export interface WindowSpan extends Span {
  step: number;
  outcome: WindowSummary['outcome'];
  checks: number;
  reason: string;
}

/** One plotted guard value: a measurement that changed a decision, or the guard's last known value. */
export interface GuardPoint {
  atMs: number;
  value: number | null;
  verdict: Verdict;
  kind: 'decisive' | 'last';
  detail: string;
  step?: number;
  cohort?: string;
}

/** A guard's panel: its points and, when its threshold is an absolute bound, the bound to draw. */
export interface GuardSeries {
  name: string;
  threshold: string;
  bounds: { min?: number; max?: number };
  points: GuardPoint[];
  verdict?: Verdict;
  checks?: number;
  failed?: number;
  /** Failures counted against the limit over the rollout (version 5 runs). */
  failures?: number;
  failureLimit?: number;
  /** Measured and shown, never acted on. */
  dryRun?: boolean;
  during?: 'rollout';
}

/** How far the rollout got with a step; `interrupted` is the step a rollback or abort stopped. */
export type StepState = 'done' | 'current' | 'interrupted' | 'not reached';

/** A step of the spec as the report lists it. */
export interface StepRow {
  index: number;
  description: string;
  state: StepState;
  reachedAtMs?: number;
}

/** Everything the pictures need, in epoch milliseconds, derived once from a status. */
export interface ReportModel {
  id: string;
  name: string;
  target: string;
  phase: Phase;
  generatedAt: string;
  guardsAsOf?: string;
  range: Span;
  /** Exposure as recorded at each phase change, then the current exposure at the end of the range. */
  exposure: { atMs: number; percent: number }[];
  phases: PhaseSpan[];
  pauses: PhaseSpan[];
  rollback?: Span & { reason: string; trigger: string; actor?: string; retrying: boolean };
  approvals: { atMs: number; step: number; actor: string; comment?: string }[];
  windows: WindowSpan[];
  guards: GuardSeries[];
  steps: StepRow[];
  timeline: TimelineEntry[];
}

const NUM = String.raw`-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?: (?:%|ms|s))?`;
const WITHIN = new RegExp(`^within \\[(${NUM}), (${NUM})\\](?: \\(passes [^)]*\\))?$`);
const AT_MOST = new RegExp(`^≤ (${NUM})(?: \\(passes [^)]*\\))?$`);
const AT_LEAST = new RegExp(`^≥ (${NUM})(?: \\(passes [^)]*\\))?$`);

/**
 * The absolute bounds in a threshold text (`≤ 0.02`, `≥ 0.9`, `within [1, 2]`). Comparative thresholds
 * (`rate ≤ 1.5× baseline …`) bound a ratio while the value is a difference, so they get no line.
 */
export function thresholdBounds(threshold: string, unit?: string): { min?: number; max?: number } {
  const value = (text: string) => parseValue(text, unit);
  const within = WITHIN.exec(threshold);
  if (within) return { min: value(within[1]!), max: value(within[2]!) };
  const max = AT_MOST.exec(threshold);
  if (max) return { max: value(max[1]!) };
  const min = AT_LEAST.exec(threshold);
  if (min) return { min: value(min[1]!) };
  return {};
}

/** Epoch ms of an ISO time, or `fallback` when the text is no time. */
const msOf = (iso: string | undefined, fallback: number): number => {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isFinite(ms) ? ms : fallback;
};

/** Derives the report model: time range, exposure steps, phase spans, pauses, rollback, guards and steps. */
export function buildReportModel(status: ReportStatus, options: ReportOptions): ReportModel {
  const generatedMs = msOf(options.generatedAt, Date.now());
  const startMs = Math.min(msOf(status.startedAt, generatedMs), ...status.timeline.map((t) => msOf(t.at, generatedMs)));
  const at = (iso: string | undefined) => msOf(iso, startMs);
  const live = !isTerminal(status.phase);
  const events = [
    ...status.timeline.map((t) => at(t.at)),
    ...status.measurements.map((m) => at(m.at)),
    ...status.guards.map((g) => at(g.at)),
    ...status.approvals.map((a) => at(a.at)),
    ...status.windows.map((w) => at(w.endedAt)),
    ...(status.rollback?.finishedAt ? [at(status.rollback.finishedAt)] : []),
  ];
  const lastEvent = Math.max(startMs, ...events);
  // a finished rollout ends at its last event, a live one at "now"; at least 1 s wide so the axis has a scale
  const endMs = Math.max(live ? Math.max(generatedMs, lastEvent) : lastEvent, startMs + 1_000);
  const range: Span = { fromMs: startMs, toMs: endMs, open: live };

  const phases: PhaseSpan[] = status.timeline.map((t, i) => {
    const next = status.timeline[i + 1];
    return {
      phase: t.phase,
      step: t.step,
      cause: t.cause,
      ...(t.actor !== undefined ? { actor: t.actor } : {}),
      fromMs: at(t.at),
      toMs: next ? at(next.at) : endMs,
      open: !next && live,
    };
  });
  const exposure = status.timeline.map((t) => ({ atMs: at(t.at), percent: t.exposure }));
  exposure.push({ atMs: endMs, percent: status.exposure.percent });

  const rollback = rollbackSpan(status, at, endMs);
  return {
    id: options.id,
    name: status.name,
    target: status.target,
    phase: status.phase,
    generatedAt: options.generatedAt,
    ...(status.guardsAsOf ? { guardsAsOf: status.guardsAsOf } : {}),
    range,
    exposure,
    phases,
    pauses: phases.filter((p) => p.phase === 'Paused'),
    ...(rollback ? { rollback } : {}),
    approvals: status.approvals.map((a) => ({
      atMs: at(a.at),
      step: a.step,
      actor: a.actor,
      ...(a.comment ? { comment: a.comment } : {}),
    })),
    windows: status.windows.map((w) => ({
      fromMs: at(w.startedAt),
      toMs: at(w.endedAt),
      open: false,
      step: w.step,
      outcome: w.outcome,
      checks: w.checks,
      reason: w.reason,
    })),
    guards: guardSeries(status, at),
    steps: stepRows(status, at),
    timeline: status.timeline,
  };
}

/** The rollback from its request to its end (or to the end of the range while it still runs). */
function rollbackSpan(status: ReportStatus, at: (iso: string) => number, endMs: number): ReportModel['rollback'] {
  const rb = status.rollback;
  if (!rb) return undefined;
  return {
    fromMs: at(rb.requestedAt),
    toMs: rb.finishedAt ? at(rb.finishedAt) : endMs,
    open: !rb.finishedAt,
    reason: rb.reason,
    trigger: rb.trigger,
    retrying: rb.retrying,
    ...(rb.actor !== undefined ? { actor: rb.actor } : {}),
  };
}

/** One series per guard: its decisive measurements, then its last value; guards in status order first. */
function guardSeries(status: ReportStatus, at: (iso: string) => number): GuardSeries[] {
  const names = [...new Set([...status.guards.map((g) => g.name), ...status.measurements.map((m) => m.guard)])];
  return names.map((name) => {
    const last = status.guards.find((g) => g.name === name);
    const decisive = status.measurements.filter((m) => m.guard === name);
    const points: GuardPoint[] = decisive.map((m) => ({
      atMs: at(m.at),
      value: m.value,
      verdict: m.verdict,
      kind: 'decisive',
      detail: m.detail,
      step: m.step,
      ...(m.cohort ? { cohort: m.cohort } : {}),
    }));
    if (last) {
      points.push({
        atMs: at(last.at),
        value: last.value,
        verdict: last.verdict,
        kind: 'last',
        detail: last.detail ?? '',
        ...(last.cohort ? { cohort: last.cohort } : {}),
      });
    }
    const threshold =
      last && last.threshold !== '—' ? last.threshold : (decisive.find((m) => m.threshold !== '—')?.threshold ?? '—');
    return {
      name,
      threshold,
      bounds: thresholdBounds(threshold, last?.unit ?? decisive[0]?.unit),
      points,
      ...(last ? { verdict: last.verdict } : {}),
      ...(last?.checks !== undefined ? { checks: last.checks } : {}),
      ...(last?.failed !== undefined ? { failed: last.failed } : {}),
      ...(last?.failures !== undefined && last.failureLimit !== undefined
        ? { failures: last.failures, failureLimit: last.failureLimit }
        : {}),
      ...(last?.dryRun || decisive.some((m) => m.dryRun) ? { dryRun: true } : {}),
      ...(last?.during === 'rollout' ? { during: 'rollout' as const } : {}),
    };
  });
}

/** Each step of the spec with how far the rollout got: done, current, interrupted by a rollback/abort, not reached. */
function stepRows(status: ReportStatus, at: (iso: string) => number): StepRow[] {
  const ended = status.phase === 'RolledBack' || status.phase === 'Aborted';
  return status.steps.map((description, index) => {
    const first = status.timeline.find((t) => t.step === index && t.phase !== 'Pending');
    const state: StepState =
      status.phase === 'Completed' || index < status.step
        ? 'done'
        : index > status.step || !first
          ? 'not reached'
          : ended || status.phase === 'RollingBack'
            ? 'interrupted'
            : 'current';
    return { index, description, state, ...(first && state !== 'not reached' ? { reachedAtMs: at(first.at) } : {}) };
  });
}

import { judgeCompare, judgeThreshold, type Judgement } from '../../src/analysis/index.js';
import type { CompareGuard, CompareSide, MeasuredGuard, ThresholdGuard } from '../../src/domain/guard-spec.schema.js';
import { isCompareGuard, isWebhookGuard, type WebhookGuard } from '../../src/domain/guard-spec.schema.js';
import { toMs } from '../../src/domain/time.js';
import type { MetricPoint, MetricSamples, MetricSource } from '../sources/port.js';

export interface EvalContext {
  check: number;
  step?: number;
  nowMs: number;
  windowStartMs: number;
  signal?: AbortSignal;
  rollout?: RolloutContext;
}

/** What a status-code guard's webhook is told, besides the guard, step and check. */
export interface RolloutContext {
  rollout: string;
  target: string;
  exposure: number;
}

/** One judgement per cohort (`cohort` undefined when the guard is not per-cohort). */
export interface CohortJudgement extends Judgement {
  cohort?: string;
}

/** `$window` → time observed so far in this window, `$interval` → the guard's interval (PromQL durations). */
export function expandQuery(query: string, guard: MeasuredGuard, ctx: EvalContext): string {
  const windowS = Math.max(1, Math.round((ctx.nowMs - ctx.windowStartMs) / 1_000));
  const intervalS = Math.max(1, Math.round(toMs(guard.interval) / 1_000));
  return query.replaceAll('$window', `${windowS}s`).replaceAll('$interval', `${intervalS}s`);
}

const ALL = '(all)';
const cohortOf = (labels: Record<string, string>, label: string | undefined) => (label ? (labels[label] ?? ALL) : ALL);

function byCohort<T extends { labels: Record<string, string> }>(
  series: T[],
  label: string | undefined,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const s of series) {
    const key = cohortOf(s.labels, label);
    out.set(key, [...(out.get(key) ?? []), s]);
  }
  return out;
}

/** Sum of point values in a group (several series without a cohort label add up); null when none has data. */
function sumValues(points: MetricPoint[] | undefined): number | null {
  const values = (points ?? []).map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

const samplesOf = (groups: MetricSamples[] | undefined) =>
  (groups ?? []).flatMap((g) => g.values.filter(Number.isFinite));

/** Evaluates one guard once: queries its source and judges each cohort. Source errors propagate. */
export async function evaluateGuard(
  guard: MeasuredGuard,
  source: MetricSource,
  ctx: EvalContext,
): Promise<CohortJudgement[]> {
  if (isWebhookGuard(guard)) return [await evaluateWebhook(guard, source, ctx)];
  return isCompareGuard(guard) ? evaluateCompare(guard, source, ctx) : evaluateThreshold(guard, source, ctx);
}

/** `2xx`, or the listed codes. */
export function describeExpected(expect: WebhookGuard['webhook']['expect']): string {
  return expect === '2xx' ? 'status 2xx' : `status ${expect.join(' or ')}`;
}

/**
 * A status-code guard: one request with the rollout's context; the status is the value. An expected status is
 * Successful, any other Failed; no answer (timeout, refused) is a source error, retried after `errorInterval`.
 */
async function evaluateWebhook(guard: WebhookGuard, source: MetricSource, ctx: EvalContext): Promise<CohortJudgement> {
  if (!source.call) throw new Error(`guard ${guard.name}: source ${source.describe} is not a webhook`);
  const { method, expect } = guard.webhook;
  const answer = await source.call({
    method,
    body: {
      guard: guard.name,
      check: ctx.check,
      ...(ctx.step !== undefined ? { step: ctx.step } : {}),
      ...(ctx.rollout ?? {}),
      at: new Date(ctx.nowMs).toISOString(),
    },
    ...sig(ctx),
  });
  const ok = expect === '2xx' ? answer.status >= 200 && answer.status < 300 : expect.includes(answer.status);
  const threshold = describeExpected(expect);
  return {
    verdict: ok ? 'Successful' : 'Failed',
    value: answer.status,
    threshold,
    detail: `${method} answered ${answer.status}${ok ? '' : `, expected ${threshold}`}${answer.snippet}`,
  };
}

async function evaluateThreshold(
  guard: ThresholdGuard,
  source: MetricSource,
  ctx: EvalContext,
): Promise<CohortJudgement[]> {
  const points = await source.instant(expandQuery(guard.query, guard, ctx), {
    check: ctx.check,
    atMs: ctx.nowMs,
    ...stepOf(ctx),
    ...sig(ctx),
  });
  const groups = byCohort(points, guard.perCohort);
  if (groups.size === 0) groups.set(ALL, []);
  const opts = {
    min: guard.min,
    max: guard.max,
    warnMin: guard.warnMin,
    warnMax: guard.warnMax,
    unit: guard.unit,
    onNoData: guard.onNoData,
  };
  return [...groups].map(([cohort, pts]) => withCohort(judgeThreshold(sumValues(pts), opts), cohort));
}

async function evaluateCompare(
  guard: CompareGuard,
  source: MetricSource,
  ctx: EvalContext,
): Promise<CohortJudgement[]> {
  const options = {
    confidence: guard.confidence,
    direction: guard.direction,
    maxRatio: guard.maxRatio,
    minSamples: guard.minSamples,
    onNoData: guard.onNoData,
    ...(guard.drift?.maxDistance !== undefined ? { maxDistance: guard.drift.maxDistance } : {}),
    ...(guard.drift?.maxPsi !== undefined ? { maxPsi: guard.drift.maxPsi } : {}),
    ...(guard.drift?.bins !== undefined ? { bins: guard.drift.bins } : {}),
  };
  const counts =
    guard.test === 'two-proportion' || (guard.test === 'sequential' && guard.compare.canary.errors !== undefined);
  if (counts) {
    const [c, b] = await Promise.all([
      countSide(guard.compare.canary, guard, source, ctx),
      countSide(guard.compare.baseline, guard, source, ctx),
    ]);
    return cohortsOf(c, b).map((cohort) =>
      withCohort(
        judgeCompare(
          guard.test,
          c.get(cohort) ?? { errors: 0, total: 0 },
          b.get(cohort) ?? { errors: 0, total: 0 },
          options,
        ),
        cohort,
      ),
    );
  }
  if (guard.test === 'ratio') {
    const [c, b] = await Promise.all([
      instantSide(guard.compare.canary.query!, guard, source, ctx),
      instantSide(guard.compare.baseline.query!, guard, source, ctx),
    ]);
    return cohortsOf(c, b).map((cohort) =>
      withCohort(judgeCompare('ratio', sumValues(c.get(cohort)), sumValues(b.get(cohort)), options), cohort),
    );
  }
  const [c, b] = await Promise.all([
    rangeSide(guard.compare.canary.query!, guard, source, ctx),
    rangeSide(guard.compare.baseline.query!, guard, source, ctx),
  ]);
  return cohortsOf(c, b).map((cohort) =>
    withCohort(judgeCompare(guard.test, samplesOf(c.get(cohort)), samplesOf(b.get(cohort)), options), cohort),
  );
}

function cohortsOf(a: Map<string, unknown>, b: Map<string, unknown>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.length ? keys : [ALL];
}

async function instantSide(query: string, guard: MeasuredGuard, source: MetricSource, ctx: EvalContext) {
  return byCohort(
    await source.instant(expandQuery(query, guard, ctx), {
      check: ctx.check,
      atMs: ctx.nowMs,
      ...stepOf(ctx),
      ...sig(ctx),
    }),
    guard.perCohort,
  );
}

async function rangeSide(query: string, guard: MeasuredGuard, source: MetricSource, ctx: EvalContext) {
  const stepMs = Math.max(1_000, Math.floor(toMs(guard.interval) / 6));
  const range = {
    check: ctx.check,
    ...stepOf(ctx),
    startMs: ctx.windowStartMs,
    endMs: ctx.nowMs,
    stepMs,
    atMs: ctx.nowMs,
    ...sig(ctx),
  };
  return byCohort(await source.range(expandQuery(query, guard, ctx), range), guard.perCohort);
}

async function countSide(side: CompareSide, guard: MeasuredGuard, source: MetricSource, ctx: EvalContext) {
  const [errors, total] = await Promise.all([
    instantSide(side.errors!, guard, source, ctx),
    instantSide(side.total!, guard, source, ctx),
  ]);
  const out = new Map<string, { errors: number; total: number }>();
  for (const cohort of cohortsOf(errors, total)) {
    out.set(cohort, {
      errors: Math.round(sumValues(errors.get(cohort)) ?? 0),
      total: Math.round(sumValues(total.get(cohort)) ?? 0),
    });
  }
  return out;
}

const stepOf = (ctx: EvalContext) => (ctx.step !== undefined ? { step: ctx.step } : {});
const sig = (ctx: EvalContext) => (ctx.signal ? { signal: ctx.signal } : {});
const withCohort = (j: Judgement, cohort: string): CohortJudgement => (cohort === ALL ? j : { ...j, cohort });

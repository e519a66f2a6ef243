import { Duration } from '../domain/duration.schema.js';
import { rolloutIdForFlag } from '../domain/ids.js';
import { toMs } from '../domain/time.js';
import type { RolloutSpecInput } from '../domain/spec.schema.js';
import { ValidationError } from '../errors.js';

/** The flag the demo rolls out, in a flagd file relative to the directory `rollout dev --demo` runs in. */
export const DEMO_FLAG = {
  key: 'demo-checkout',
  path: '.rollout/demo/flags.json',
  variant: 'new',
  baselineVariant: 'old',
} as const;
/** The workflow ID `RolloutClient.start` derives from the flag. */
export const DEMO_ROLLOUT_ID = rolloutIdForFlag(DEMO_FLAG.key);
/** Exposure per step; the fault (`--fault`) switches on when the rollout reaches step 1. */
export const DEMO_STEPS = [1, 10, 50, 100] as const;
export const FAULT_AT_STEP = 1;

/** Where guard metrics come from: a real Prometheus (through the demo service's proxy) or a direct scrape. */
export type DemoMetrics = { kind: 'prometheus'; url: string } | { kind: 'scrape'; url: string };

/** Canary error ratio and mean latency above these fail a check; two failed checks roll back. */
export const DEMO_LIMITS = { errorRatio: 0.05, meanLatencySeconds: 0.2 } as const;

/** The observation window: `ROLLOUT_DEMO_WINDOW` (e.g. `3s` in tests), else 20 s. An invalid value is an error. */
export function demoWindow(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.ROLLOUT_DEMO_WINDOW;
  if (raw === undefined || raw === '') return '20s';
  if (!Duration.safeParse(raw).success)
    throw new ValidationError(`ROLLOUT_DEMO_WINDOW=${raw} is not a duration like 20s or 1m`, []);
  return raw;
}

/**
 * The demo rollout: `demo-checkout` to the `new` variant, 1% → 10% → 50% → 100%, each step observed for `window`
 * while two guards check the canary (the `new` variant) every 2 s over the window so far. A window without
 * enough canary traffic to judge (1% of 40 rps is 0.4 requests a second) is extended, up to three times, rather
 * than passed: missing data never passes.
 */
export function demoSpec(opts: { metrics: DemoMetrics; window: string }): RolloutSpecInput {
  const { metrics, window } = opts;
  const queries = metrics.kind === 'prometheus' ? promQueries() : scrapeQueries();
  const source =
    metrics.kind === 'prometheus'
      ? { type: 'prometheus' as const, url: metrics.url }
      : { type: 'scrape' as const, url: metrics.url };
  const common = { source, interval: '2s', failureLimit: 1, inconclusiveLimit: 2 };
  return {
    name: 'demo-checkout',
    description: 'The rollout-orchestrator demo: a new checkout variant, guarded by its error ratio and latency.',
    target: {
      type: 'flagd',
      path: DEMO_FLAG.path,
      flag: DEMO_FLAG.key,
      variant: DEMO_FLAG.variant,
      baselineVariant: DEMO_FLAG.baselineVariant,
    },
    steps: DEMO_STEPS.map((exposure, i) => (i < DEMO_STEPS.length - 1 ? { exposure, observe: window } : { exposure })),
    guards: [
      { name: 'canary-error-ratio', query: queries.errorRatio, max: DEMO_LIMITS.errorRatio, ...common },
      { name: 'canary-latency-mean', query: queries.meanLatency, max: DEMO_LIMITS.meanLatencySeconds, ...common },
    ],
    analysis: {
      extendBy: `${Math.max(1, Math.round(toMs(window) / 2_000))}s`,
      maxExtensions: 3,
      onInconclusive: 'pause',
    },
    rollback: { exposure: 0 },
  };
}

/** PromQL over the window so far (`$window`), summed over series. */
function promQueries() {
  const canary = `variant="${DEMO_FLAG.variant}"`;
  const increase = (selector: string) => `sum(increase(${selector}[$window]))`;
  return {
    errorRatio: `${increase(`demo_requests_total{${canary},code=~"5.."}`)} / ${increase(`demo_requests_total{${canary}}`)}`,
    meanLatency: `${increase(`demo_request_duration_seconds_sum{${canary}}`)} / ${increase(`demo_request_duration_seconds_count{${canary}}`)}`,
  };
}

/** The scrape source's own (not PromQL) form for the same two measurements. */
function scrapeQueries() {
  const canary = `variant="${DEMO_FLAG.variant}"`;
  return {
    errorRatio: `ratio(demo_requests_total{${canary},code=~"5.."} / demo_requests_total{${canary}} [$window])`,
    meanLatency: `ratio(demo_request_duration_seconds_sum{${canary}} / demo_request_duration_seconds_count{${canary}} [$window])`,
  };
}

import { basename, dirname, resolve } from 'node:path';
import type { CatalogInput } from '../domain/catalog.schema.js';
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
/** Exposure per live step, after one shadow step (step 0) at {@link DEMO_SHADOW} %. */
export const DEMO_STEPS = [1, 10, 50, 100] as const;
/** The shadow step's share: the new variant also runs, unserved, for this share of requests first. */
export const DEMO_SHADOW = 10;
/** The fault (`--fault`) switches on when the rollout reaches step index 2: 10 % live. */
export const FAULT_AT_STEP = 2;

/** What step `index` of the demo spec exposes, for messages: `10%`, or `shadow 10%`. */
export function demoStepLabel(index: number): string | undefined {
  if (index === 0) return `shadow ${DEMO_SHADOW}%`;
  const live = DEMO_STEPS[index - 1];
  return live === undefined ? undefined : `${live}%`;
}

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

/** The catalog names the demo adds to the worker's catalog (`extendCatalog`) and its spec refers to. */
export const DEMO_NAMES = {
  root: 'demo',
  target: DEMO_FLAG.key,
  provider: 'demo-metrics',
  errorRatio: 'canary-error-ratio',
  latency: 'canary-latency-mean',
} as const;

/**
 * The demo's flag file as root `demo` and target `demo-checkout`: in the worker's catalog before the worker starts,
 * so a demo rollout resumed from an earlier run finds its target at once (the metrics provider joins later, once
 * the demo knows where its metrics are).
 */
export function demoTargetCatalog(baseDir: string): CatalogInput {
  return {
    roots: { [DEMO_NAMES.root]: resolve(baseDir, dirname(DEMO_FLAG.path)) },
    targets: {
      [DEMO_NAMES.target]: {
        type: 'flagd',
        root: DEMO_NAMES.root,
        path: basename(DEMO_FLAG.path),
        flag: DEMO_FLAG.key,
        variant: DEMO_FLAG.variant,
        baselineVariant: DEMO_FLAG.baselineVariant,
      },
    },
  };
}

/**
 * The demo's catalog entries: its flag file (under `.rollout/demo` of `baseDir`) as target `demo-checkout`, its
 * metrics as provider `demo-metrics`, and two guard templates over them, each with its limit as an argument.
 */
export function demoCatalog(opts: { metrics: DemoMetrics; baseDir: string }): CatalogInput {
  const { metrics } = opts;
  const queries = metrics.kind === 'prometheus' ? promQueries() : scrapeQueries();
  const guard = (query: string, unit: 'ratio' | 's') => ({
    source: DEMO_NAMES.provider,
    query,
    max: '{{ args.max }}',
    unit,
    interval: '2s',
    failureLimit: 1,
    inconclusiveLimit: 2,
  });
  return {
    ...demoTargetCatalog(opts.baseDir),
    providers: {
      [DEMO_NAMES.provider]:
        metrics.kind === 'prometheus' ? { type: 'prometheus', url: metrics.url } : { type: 'scrape', url: metrics.url },
    },
    templates: {
      [DEMO_NAMES.errorRatio]: {
        description: "The canary's share of 5xx answers over the window so far",
        args: { max: { type: 'number', default: DEMO_LIMITS.errorRatio, min: 0, max: 1 } },
        guard: guard(queries.errorRatio, 'ratio'),
      },
      [DEMO_NAMES.latency]: {
        description: "The canary's mean latency (seconds) over the window so far",
        args: { max: { type: 'number', default: DEMO_LIMITS.meanLatencySeconds, min: 0 } },
        guard: guard(queries.meanLatency, 's'),
      },
    },
  };
}

/**
 * The demo rollout: target `demo-checkout` to the `new` variant, first in shadow for 10 % of requests (run, not
 * served), then 1% → 10% → 50% → 100%, each step observed for `window` while two guard templates check the canary
 * (the `new` variant, served or in shadow) every 2 s over the window so far. A
 * window without enough canary traffic to judge (1% of 40 rps is 0.4 requests a second) is extended, up to three
 * times, rather than passed: missing data never passes. Every name is an entry of {@link demoCatalog}.
 */
export function demoSpec(opts: { window: string }): RolloutSpecInput {
  const { window } = opts;
  return {
    name: 'demo-checkout',
    description: 'The rollout-orchestrator demo: a new checkout variant, guarded by its error ratio and latency.',
    target: DEMO_NAMES.target,
    steps: [
      { shadow: DEMO_SHADOW, observe: window },
      ...DEMO_STEPS.map((exposure, i) => (i < DEMO_STEPS.length - 1 ? { exposure, observe: window } : { exposure })),
    ],
    guards: [{ template: DEMO_NAMES.errorRatio }, { template: DEMO_NAMES.latency }],
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

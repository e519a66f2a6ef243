import { z } from 'zod';
import { MAX_QUERY, MAX_TEMPLATE_ARG, MAX_TEMPLATE_ARGS } from './bounds.js';
import { BoundedText, CatalogName, Headers, HttpAuth, HttpUrl, Label } from './common.schema.js';
import { Duration } from './duration.schema.js';

const Endpoint = {
  url: HttpUrl,
  timeoutMs: z.number().int().positive().max(60_000).default(5_000),
};
/** Credentials and headers: set only in the catalog, never inline in a spec. */
const Credentials = { auth: HttpAuth.optional(), headers: Headers.optional() };

/** Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`). */
export const PrometheusSource = z.object({ type: z.literal('prometheus'), ...Endpoint, ...Credentials }).strict();

/** Any HTTP endpoint returning JSON; `query` is a JSON path (`$.data.errorRate`, `$.samples[*]`). */
export const HttpJsonSource = z.object({ type: z.literal('http-json'), ...Endpoint, ...Credentials }).strict();

/**
 * A deterministic scripted series, for drills and tests: `query` names a series; check n reads element n
 * (the last one repeats). A number is one value; an array of numbers is a sample set; `null` is no data;
 * the string "error" makes the source fail. `cohorts` scripts per-cohort series: under `label`, one script
 * per label value (e.g. `{ label: region, series: { errors: { eu-west: [...], us-east: [...] } } }`).
 */
const ScriptPoint = z.union([z.number(), z.array(z.number()), z.null(), z.literal('error')]);
const Script = z.array(ScriptPoint).min(1);
export const SyntheticSource = z
  .object({
    type: z.literal('synthetic'),
    series: z.record(Label, Script).optional(),
    /** Scripts for one rollout step (key: step index), overriding `series` while that step is observed. */
    steps: z.record(z.string().regex(/^\d{1,6}$/, 'must be a step index'), z.record(Label, Script)).optional(),
    cohorts: z
      .object({ label: Label, series: z.record(Label, z.record(Label, Script)) })
      .strict()
      .optional(),
  })
  .strict();
export type SyntheticSource = z.infer<typeof SyntheticSource>;
export type ScriptPoint = z.infer<typeof ScriptPoint>;

/**
 * A Prometheus text endpoint (`/metrics`) scraped directly, with no Prometheus server in between. Its queries are
 * a small expression form of its own, NOT PromQL (see activities/sources/scrape/scrape-expression.ts).
 */
export const ScrapeSource = z.object({ type: z.literal('scrape'), ...Endpoint, ...Credentials }).strict();
export type ScrapeSource = z.infer<typeof ScrapeSource>;

/**
 * A webhook a `webhook` guard calls: the load-test or conformance check of Flagger. The guard passes on the status
 * codes it expects, within the timeout.
 */
export const WebhookSource = z.object({ type: z.literal('webhook'), ...Endpoint, ...Credentials }).strict();
export type WebhookSource = z.infer<typeof WebhookSource>;

/**
 * Datadog's metric query API (`GET /api/v1/query`); `query` is a metric query as a dashboard writes it
 * (`sum:trace.http.request.errors{service:checkout} by {region}.as_count()`). The API is `https://api.<site>`
 * (default site `datadoghq.com`) or `url` (a proxy). `apiKey` and `appKey` name catalog secrets: catalog only.
 */
export const DatadogSource = z
  .object({
    type: z.literal('datadog'),
    site: z
      .string()
      .max(100)
      .regex(/^[a-z0-9]+([.-][a-z0-9]+)*\.[a-z]{2,}$/, 'must be a Datadog site such as datadoghq.com or datadoghq.eu')
      .optional(),
    url: HttpUrl.optional(),
    apiKey: CatalogName,
    appKey: CatalogName,
    /** How far back an instant query reads; each series answers its latest non-null point. */
    lookback: Duration.default('5m'),
    timeoutMs: Endpoint.timeoutMs,
  })
  .strict()
  .refine((s) => s.site === undefined || s.url === undefined, { message: 'set site or url, not both', path: ['url'] });
export type DatadogSource = z.infer<typeof DatadogSource>;

/**
 * CloudWatch `GetMetricData`; `query` is a metric math expression or Metrics Insights `SELECT`, or a JSON array of
 * `MetricDataQuery` objects (activities/sources/cloudwatch). `endpoint` overrides the regional one (VPC endpoints);
 * the credentials name catalog secrets: catalog only. `periodSeconds`: 1, 5, 10, 20, 30 or a multiple of 60.
 */
export const CloudWatchSource = z
  .object({
    type: z.literal('cloudwatch'),
    region: z
      .string()
      .max(40)
      .regex(/^[a-z]{2,}(-[a-z0-9]+)*-\d{1,2}$/, 'must be an AWS region such as us-east-1'),
    endpoint: HttpUrl.optional(),
    accessKeyId: CatalogName,
    secretAccessKey: CatalogName,
    sessionToken: CatalogName.optional(),
    periodSeconds: z
      .number()
      .int()
      .positive()
      .max(86_400)
      .refine((p) => [1, 5, 10, 20, 30].includes(p) || p % 60 === 0, 'must be 1, 5, 10, 20, 30 or a multiple of 60')
      .default(60),
    /** How far back an instant query reads; each series answers its latest point. */
    lookback: Duration.default('5m'),
    timeoutMs: Endpoint.timeoutMs,
  })
  .strict();
export type CloudWatchSource = z.infer<typeof CloudWatchSource>;

/**
 * InfluxDB's 1.x HTTP API (`/query`, InfluxQL). Every query reads `database`; the
 * query is one `SELECT` with `:start:`, `:end:` and `:step:` placeholders (activities/sources/influxdb).
 */
export const InfluxDbSource = z
  .object({ type: z.literal('influxdb'), ...Endpoint, database: Label, ...Credentials })
  .strict();
export type InfluxDbSource = z.infer<typeof InfluxDbSource>;

export type PrometheusSource = z.infer<typeof PrometheusSource>;
export type HttpJsonSource = z.infer<typeof HttpJsonSource>;
/** A metric source as the worker uses it: a catalog provider, or an inline source the catalog allows. */
export const MetricSourceSpec = z.discriminatedUnion('type', [
  PrometheusSource,
  HttpJsonSource,
  SyntheticSource,
  ScrapeSource,
  WebhookSource,
  InfluxDbSource,
  DatadogSource,
  CloudWatchSource,
]);
export type MetricSourceSpec = z.infer<typeof MetricSourceSpec>;

/** A source written inline in a spec, where the catalog allows it: a URL with no credentials, or a script. */
export const InlineSourceSpec = z.discriminatedUnion('type', [
  PrometheusSource.omit({ auth: true, headers: true }).strict(),
  HttpJsonSource.omit({ auth: true, headers: true }).strict(),
  SyntheticSource,
  ScrapeSource.omit({ auth: true, headers: true }).strict(),
  WebhookSource.omit({ auth: true, headers: true }).strict(),
  InfluxDbSource.omit({ auth: true, headers: true }).strict(),
]);
export type InlineSourceSpec = z.infer<typeof InlineSourceSpec>;

/** What a guard says about its source: a catalog provider's name, or an inline source. */
export const SourceRef = z.union([CatalogName, InlineSourceSpec]);
export type SourceRef = z.infer<typeof SourceRef>;

/** A metric query: PromQL, a JSON path or a scrape expression, at most 4,000 characters. */
const Query = BoundedText(MAX_QUERY).min(1);

/** One side of a comparison: a query for values/samples, or error and total counts for two-proportion tests. */
export const CompareSide = z
  .object({
    query: Query.optional(),
    errors: Query.optional(),
    total: Query.optional(),
  })
  .strict();
export type CompareSide = z.infer<typeof CompareSide>;

/** How values of a guard's metric print: `ratio` 0.332 → 33.2 %, `percent` 33.2 → 33.2 %, `s` 0.332 → 332 ms. */
export const GuardUnit = z.enum(['ratio', 'percent', 's', 'ms', 'count']);
export type GuardUnit = z.infer<typeof GuardUnit>;

const Limits = {
  interval: Duration.default('30s'),
  /** Failed measurements tolerated; one more fails the guard (Argo semantics). */
  failureLimit: z.number().int().min(0).default(0),
  /** Inconclusive measurements tolerated; one more pauses for a human. */
  inconclusiveLimit: z.number().int().min(0).default(0),
  /** Source errors in a row tolerated; one more counts the guard as failed. */
  consecutiveErrorLimit: z.number().int().min(0).default(4),
  /** A window passes only after this many successful measurements in a row (Argo `consecutiveSuccessLimit`). */
  consecutiveSuccessLimit: z.number().int().min(1).max(1_000).optional(),
  /** After a source error the guard checks again this soon, not a whole interval later (Argo: 10 s). */
  errorInterval: Duration.default('10s'),
  /** The first check comes this long after the guard starts watching, instead of one interval after. */
  initialDelay: Duration.optional(),
  onNoData: z.enum(['fail', 'inconclusive']).default('inconclusive'),
  /** A failure rolls back at once, whatever the limits. */
  critical: z.boolean().default(false),
  /** Measured, recorded and shown like any guard, but never rolls back, pauses or extends a window. */
  dryRun: z.boolean().default(false),
  /**
   * `windows`: the guard runs in each step's observation window. `rollout`: it also watches everything between
   * them, from the first exposure change until the rollout completes: approval waits, pauses and the final bake.
   */
  during: z.enum(['windows', 'rollout']).default('windows'),
  /** Where `failureLimit` counts: over the whole rollout (Flagger's threshold), or afresh in each window. */
  budget: z.enum(['rollout', 'window']).default('rollout'),
  unit: GuardUnit.optional(),
  /** Evaluate per value of this label; the worst cohort's verdict wins. */
  perCohort: Label.optional(),
  minSamples: z.number().int().min(1).default(1),
};

/** A threshold guard: `query` must stay within `min`/`max`. */
const thresholdGuard = <S extends z.ZodType>(source: S) =>
  z
    .object({
      name: Label,
      source,
      query: Query,
      max: z.number().optional(),
      min: z.number().optional(),
      /** The gray zone: a value past `warnMax` but within `max` is Inconclusive, neither a pass nor a failure. */
      warnMax: z.number().optional(),
      /** The gray zone's lower side: below `warnMin` but not below `min` is Inconclusive. */
      warnMin: z.number().optional(),
      ...Limits,
    })
    .strict()
    .refine((g) => g.max !== undefined || g.min !== undefined, { message: 'must set max, min or both', path: ['max'] })
    .refine((g) => g.max === undefined || g.min === undefined || g.min <= g.max, {
      message: 'must be ≥ min',
      path: ['max'],
    })
    .refine((g) => g.warnMax === undefined || (g.max !== undefined && g.warnMax <= g.max), {
      message: 'needs max, and must be ≤ max',
      path: ['warnMax'],
    })
    .refine((g) => g.warnMin === undefined || (g.min !== undefined && g.warnMin >= g.min), {
      message: 'needs min, and must be ≥ min',
      path: ['warnMin'],
    });

/**
 * A status-code guard (Flagger's load-test and conformance webhooks): each check calls the source's URL and passes
 * when the status is one the guard expects. Its source must be a `webhook` source; `webhook: {}` takes the defaults
 * (POST, any 2xx).
 */
const webhookGuard = <S extends z.ZodType>(source: S) =>
  z
    .object({
      name: Label,
      source,
      webhook: z
        .object({
          method: z.enum(['GET', 'POST']).default('POST'),
          /** `2xx` (any success), or the exact codes that pass. */
          expect: z
            .union([z.literal('2xx'), z.array(z.number().int().min(100).max(599)).min(1).max(20)])
            .default('2xx'),
        })
        .strict(),
      ...Limits,
    })
    .strict();

/** A canary-versus-baseline guard judged by a statistical test. */
const compareGuard = <S extends z.ZodType>(source: S) =>
  z
    .object({
      name: Label,
      source,
      compare: z.object({ canary: CompareSide, baseline: CompareSide }).strict(),
      test: z.enum(['ratio', 'mann-whitney', 'two-proportion', 'sequential', 'ks', 'psi']),
      direction: z.enum(['increase', 'decrease', 'either']).default('increase'),
      /** Tolerated canary/baseline ratio (ratio test) or effect size (statistical tests). */
      maxRatio: z.number().positive().default(1.2),
      confidence: z.number().gt(0.5).lt(1).default(0.95),
      /** Drift tests: the largest tolerated KS distance (default 0.1), PSI (default 0.2), and PSI's bins (10). */
      drift: z
        .object({
          maxDistance: z.number().gt(0).max(1).optional(),
          maxPsi: z.number().gt(0).max(100).optional(),
          bins: z.number().int().min(2).max(100).optional(),
        })
        .strict()
        .optional(),
      ...Limits,
    })
    .strict()
    .superRefine((g, ctx) => {
      if (g.drift && g.test !== 'ks' && g.test !== 'psi')
        ctx.addIssue({ code: 'custom', path: ['drift'], message: `applies to the ks and psi tests, not ${g.test}` });
      if (g.drift?.maxDistance !== undefined && g.test !== 'ks')
        ctx.addIssue({ code: 'custom', path: ['drift', 'maxDistance'], message: 'applies to the ks test' });
      if ((g.drift?.maxPsi !== undefined || g.drift?.bins !== undefined) && g.test !== 'psi')
        ctx.addIssue({ code: 'custom', path: ['drift'], message: 'maxPsi and bins apply to the psi test' });
      for (const side of ['canary', 'baseline'] as const) {
        const s = g.compare[side];
        const counts = g.test === 'two-proportion' || (g.test === 'sequential' && s.errors !== undefined);
        if (counts && (!s.errors || !s.total)) {
          ctx.addIssue({
            code: 'custom',
            path: ['compare', side],
            message: `${g.test} needs errors and total queries`,
          });
        }
        if (!counts && !s.query)
          ctx.addIssue({ code: 'custom', path: ['compare', side, 'query'], message: `${g.test} needs a query` });
      }
    });

/**
 * A guard that runs no query: it counts the breaches pushed to the rollout under its name (an Alertmanager alert
 * labelled `guard: NAME`, a `guardBreach` signal) against its `failureLimit`, or rolls back on the first when
 * critical. A pushed breach naming no guard of the rollout is refused.
 */
export const AlertGuard = z
  .object({
    name: Label,
    alert: z.object({}).strict(),
    failureLimit: Limits.failureLimit,
    critical: Limits.critical,
    dryRun: Limits.dryRun,
    unit: Limits.unit,
  })
  .strict();
export type AlertGuard = z.infer<typeof AlertGuard>;

export const ThresholdGuard = thresholdGuard(MetricSourceSpec);
export type ThresholdGuard = z.infer<typeof ThresholdGuard>;
export const CompareGuard = compareGuard(MetricSourceSpec);
export type CompareGuard = z.infer<typeof CompareGuard>;
export const WebhookGuard = webhookGuard(MetricSourceSpec);
export type WebhookGuard = z.infer<typeof WebhookGuard>;

/** A guard that measures: its source resolved, its template (if any) expanded. */
export const MeasuredGuard = z.union([ThresholdGuard, CompareGuard, WebhookGuard]);
export type MeasuredGuard = z.infer<typeof MeasuredGuard>;

/** A guard as the worker runs it: one that measures, or one that counts pushed breaches. */
export const GuardSpec = z.union([ThresholdGuard, CompareGuard, WebhookGuard, AlertGuard]);
export type GuardSpec = z.infer<typeof GuardSpec>;

/** A guard written out in a spec (or a catalog template's body): its source by provider name or inline. */
export const InlineGuard = z.union([
  thresholdGuard(SourceRef),
  compareGuard(SourceRef),
  webhookGuard(SourceRef),
  AlertGuard,
]);
export type InlineGuard = z.infer<typeof InlineGuard>;

/** A value a spec passes to a template argument. */
export const TemplateArgValue = z.union([BoundedText(MAX_TEMPLATE_ARG), z.number().finite(), z.boolean()]);
export type TemplateArgValue = z.infer<typeof TemplateArgValue>;

/**
 * A guard from a catalog template (the Argo AnalysisTemplate idea): `{ template: error-rate, args: { service: x } }`.
 * The guard is named after the template unless `name` says otherwise.
 */
export const TemplateGuard = z
  .object({
    template: CatalogName,
    name: Label.optional(),
    args: z
      .record(Label, TemplateArgValue)
      .refine((a) => Object.keys(a).length <= MAX_TEMPLATE_ARGS, `must pass at most ${MAX_TEMPLATE_ARGS} arguments`)
      .default({}),
  })
  .strict();
export type TemplateGuard = z.infer<typeof TemplateGuard>;

/** What a spec says about a guard: a catalog template with arguments, or a guard written out. */
export const GuardRef = z.union([TemplateGuard, InlineGuard]);
export type GuardRef = z.infer<typeof GuardRef>;

/** The name a guard reference gives its guard. */
export const guardRefName = (g: GuardRef): string => ('template' in g ? (g.name ?? g.template) : g.name);

export const isCompareGuard = (g: GuardSpec): g is CompareGuard => 'compare' in g;
export const isWebhookGuard = (g: GuardSpec): g is WebhookGuard => 'webhook' in g;
export const isAlertGuard = (g: GuardSpec): g is AlertGuard => 'alert' in g;
export const isMeasured = (g: GuardSpec): g is MeasuredGuard => !('alert' in g);

/** What to do when guards stay inconclusive (too little data) at the end of a window. */
export const AnalysisSpec = z
  .object({
    /** Extend the window by this much while data is insufficient… */
    extendBy: Duration.optional(),
    /** …at most this many times… */
    maxExtensions: z.number().int().min(0).max(100).default(0),
    /** …then pause for a human or roll back. */
    onInconclusive: z.enum(['pause', 'rollback']).default('pause'),
    /**
     * After the last step, observe this long more before Completed: every guard judges it as a window, and a
     * failure rolls back as in any window.
     */
    finalBake: Duration.optional(),
  })
  .strict();
export type AnalysisSpec = z.infer<typeof AnalysisSpec>;

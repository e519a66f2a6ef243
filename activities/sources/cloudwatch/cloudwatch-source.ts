import type * as CloudWatchApi from '@aws-sdk/client-cloudwatch';
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { z } from 'zod';
import type { CloudWatchSource } from '../../../src/domain/guard-spec.schema.js';
import { toMs } from '../../../src/domain/time.js';
import { bodySnippet, describeFetchError } from '../../../src/util/http-text.js';
import { noSecrets, redactHeaders, type SecretLookup } from '../../credentials.js';
import { displayUrl } from '../http-json/http-json-source.js';
import { SourceError, type MetricPoint, type MetricSamples, type MetricSource } from '../port.js';

const SERVICE = 'CloudWatch';
/** Pages of one answer followed (`NextToken`); a query needing more asks for too much. */
const MAX_PAGES = 5;
/** Queries in one guard's JSON form: a guard compares a few series, and each one is billed. */
const MAX_QUERIES = 20;

/**
 * CloudWatch through the official SDK's `GetMetricData`, one request per page. A guard's query is either
 *
 * - one expression: a metric math expression (`SUM(SEARCH('{AWS/ApplicationELB,LoadBalancer} 5XX', 'Sum', 60))`)
 *   or a Metrics Insights query (`SELECT SUM(Errors) FROM "AWS/Lambda" GROUP BY FunctionName`, which is given the
 *   source's `periodSeconds`), sent as the query `q`; or
 * - a JSON array of `MetricDataQuery` objects (Flagger's form): `MetricStat`s and expressions over their `Id`s, the
 *   ones with `ReturnData: false` only feeding the others.
 *
 * instant reads `[atMs - lookback, atMs]` and each series answers its latest point (`null` when it has none); range
 * reads `[startMs, endMs]`, each series its values in time order (a Metrics Insights query's period is the step,
 * rounded up to a period CloudWatch takes, and never below `periodSeconds`). Labels: `{ id, label }`, the result's
 * `Id` and `Label` (for a `GROUP BY`, the group's values).
 *
 * Errors: unreachable, timeouts, throttling, 5xx and a result's `InternalError` are UNAVAILABLE; a credential or
 * permission error (whatever its status: AWS answers 400 to an unknown key) and a result's `Forbidden` are CONFIG;
 * other 400s (`InvalidParameterValue`...) and a malformed JSON query are BAD_QUERY; other statuses are CONFIG;
 * anything but an answer is UNPARSABLE. The key id and session token are redacted from every message.
 */
export function createCloudWatchSource(spec: CloudWatchSource, opts: { secret?: SecretLookup } = {}): MetricSource {
  const lookbackMs = toMs(spec.lookback);
  const shown = spec.endpoint === undefined ? spec.region : `${spec.region} at ${displayUrl(spec.endpoint)}`;

  async function query(expression: string, fromMs: number, toMs: number, periodS: number, signal?: AbortSignal) {
    const where = `${SERVICE} ${shown} (query ${JSON.stringify(expression)})`;
    const queries = parseQuery(expression, periodS, where);
    const credentials = await readCredentials(spec, opts.secret, `${SERVICE} ${shown}`);
    const redact = (text: string) => redactHeaders(text, credentials);
    const sdk = await loadSdk();
    const client = new sdk.CloudWatchClient({
      region: spec.region,
      ...(spec.endpoint === undefined ? {} : { endpoint: spec.endpoint }),
      credentials: { ...credentials }, // a copy: the SDK marks up the object it is given
      maxAttempts: 1, // the guard's own error limits decide when to ask again
    });
    const timeout = AbortSignal.timeout(spec.timeoutMs);
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const page = (nextToken: string | undefined) =>
      client.send(
        new sdk.GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(fromMs),
          EndTime: new Date(Math.max(toMs, fromMs + 1000)),
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        }),
        { abortSignal },
      );
    try {
      return await readPages(page, where, redact);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new SourceError(`${where}: no answer within ${spec.timeoutMs} ms`, 'UNAVAILABLE');
      throw sdkError(err, where, redact);
    } finally {
      client.destroy();
    }
  }

  return {
    describe: `cloudwatch:${spec.endpoint === undefined ? spec.region : displayUrl(spec.endpoint)}`,
    async instant(expression, ctx) {
      const atMs = ctx.atMs ?? Date.now();
      const sets = await query(expression, atMs - lookbackMs, atMs, spec.periodSeconds, ctx.signal);
      return sets.map((s): MetricPoint => ({ labels: s.labels, value: s.values.at(-1) ?? null }));
    },
    async range(expression, ctx) {
      const period = Math.max(spec.periodSeconds, validPeriod(ctx.stepMs / 1000));
      return query(expression, ctx.startMs, ctx.endMs, period, ctx.signal);
    },
  };
}

// Loaded on the first query: most workers never query CloudWatch.
let loading: Promise<typeof CloudWatchApi> | undefined;
const loadSdk = () => (loading ??= import('@aws-sdk/client-cloudwatch'));

/**
 * Every page of one answer (`NextToken`), each series' points joined across pages (a series is its `Id` and
 * `Label`: one expression may answer many) and put in time order.
 */
async function readPages(
  page: (nextToken: string | undefined) => Promise<unknown>,
  where: string,
  redact: (text: string) => string,
): Promise<MetricSamples[]> {
  const series = new Map<string, { id: string; label: string; points: [number, number][] }>();
  let nextToken: string | undefined;
  for (let n = 0; n === 0 || nextToken !== undefined; n++) {
    if (n === MAX_PAGES)
      throw new SourceError(`${where}: the answer runs past ${MAX_PAGES} pages: narrow the query`, 'BAD_QUERY');
    const out = Answer.safeParse(await page(nextToken));
    if (!out.success)
      throw new SourceError(`${where}: not a CloudWatch answer: ${z.prettifyError(out.error)}`, 'UNPARSABLE');
    for (const r of out.data.MetricDataResults) {
      checkStatus(r, where, redact);
      const key = `${r.Id}\u0000${r.Label ?? ''}`;
      const s = series.get(key) ?? { id: r.Id, label: r.Label ?? r.Id, points: [] };
      r.Values.forEach((v, i) => s.points.push([r.Timestamps[i]?.getTime() ?? 0, v]));
      series.set(key, s);
    }
    nextToken = out.data.NextToken;
  }
  return [...series.values()].map((s) => ({
    labels: { id: s.id, label: s.label },
    values: s.points.sort((a, b) => a[0] - b[0]).map((p) => p[1]),
  }));
}

/** The smallest period CloudWatch takes at or above `seconds`: 1, 5, 10, 20, 30, then whole minutes. */
function validPeriod(seconds: number): number {
  return [1, 5, 10, 20, 30].find((p) => p >= seconds) ?? Math.ceil(seconds / 60) * 60;
}

const Dimension = z.object({ Name: z.string().min(1), Value: z.string().min(1) }).strict();
const MetricStat = z
  .object({
    Metric: z
      .object({
        Namespace: z.string().min(1),
        MetricName: z.string().min(1),
        Dimensions: z.array(Dimension).optional(),
      })
      .strict(),
    Period: z.number().int().positive(),
    Stat: z.string().min(1),
    Unit: z.string().optional(),
  })
  .strict();
const DataQuery = z
  .object({
    Id: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'must start with a lowercase letter, then letters, digits or _'),
    Expression: z.string().min(1).optional(),
    MetricStat: MetricStat.optional(),
    Label: z.string().optional(),
    ReturnData: z.boolean().optional(),
    Period: z.number().int().positive().optional(),
    // no AccountId: a query may not reach into another (linked) account than the catalog's credentials name
  })
  .strict()
  .refine((q) => (q.Expression === undefined) !== (q.MetricStat === undefined), 'needs Expression or MetricStat');

/** The guard's query as `MetricDataQueries`: a JSON array of them, or one expression. */
function parseQuery(expression: string, periodS: number, where: string): MetricDataQuery[] {
  const text = expression.trim();
  const insights = (e: string) => /^select\b/i.test(e.trim());
  if (!text.startsWith('[')) return [{ Id: 'q', Expression: text, ...(insights(text) ? { Period: periodS } : {}) }];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SourceError(`${where}: not a JSON array of MetricDataQuery: ${(err as Error).message}`, 'BAD_QUERY');
  }
  const parsed = z.array(DataQuery).min(1).max(MAX_QUERIES, `must list at most ${MAX_QUERIES} queries`).safeParse(json);
  if (!parsed.success)
    throw new SourceError(`${where}: not a list of MetricDataQuery: ${z.prettifyError(parsed.error)}`, 'BAD_QUERY');
  return parsed.data.map((q) =>
    q.Expression !== undefined && q.Period === undefined && insights(q.Expression) ? { ...q, Period: periodS } : q,
  ) as MetricDataQuery[];
}

/** The SDK's `GetMetricDataOutput`, checked: a body that is not one deserializes to anything. */
const Result = z.object({
  Id: z.string(),
  Label: z.string().optional(),
  Timestamps: z.array(z.date()).default([]),
  Values: z.array(z.number()).default([]),
  StatusCode: z.string().optional(),
  Messages: z.array(z.object({ Code: z.string().optional(), Value: z.string().optional() })).optional(),
});
const Answer = z.object({ MetricDataResults: z.array(Result).default([]), NextToken: z.string().optional() });

/** A result's own status: `Forbidden` (no permission on that metric's account) and `InternalError` fail it. */
function checkStatus(r: z.infer<typeof Result>, where: string, redact: (t: string) => string): void {
  if (r.Timestamps.length !== r.Values.length)
    throw new SourceError(
      `${where}: result ${r.Id} has ${r.Timestamps.length} timestamps for ${r.Values.length} values`,
      'UNPARSABLE',
    );
  if (r.StatusCode !== 'Forbidden' && r.StatusCode !== 'InternalError') return;
  const said = redact((r.Messages ?? []).map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).join('; '));
  const message = `${where}: result ${r.Id} is ${r.StatusCode}${bodySnippet(said)}`;
  throw new SourceError(message, r.StatusCode === 'Forbidden' ? 'CONFIG' : 'UNAVAILABLE');
}

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'NotAuthorized',
  'OptInRequired',
]);

/** An SDK failure as a SourceError: by AWS's error code first (AWS answers 400 to throttling and bad keys). */
function sdkError(err: unknown, where: string, redact: (t: string) => string): SourceError {
  const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined)
    return new SourceError(`${where}: unreachable: ${redact(describeFetchError(err))}`, 'UNAVAILABLE');
  // the SDK appends advice on more lines ("Deserialization error: to see the raw response, inspect ...")
  const said = redact((e.message ?? '').split('\n')[0] ?? '');
  if (status >= 200 && status < 300)
    return new SourceError(`${where}: not a CloudWatch answer${bodySnippet(said)}`, 'UNPARSABLE');
  const code = e.Code ?? e.name ?? 'Unknown';
  // a SyntaxError is the SDK failing to read an error page (a proxy's HTML) as JSON, not AWS's error code
  const message = `${where}: HTTP ${status}${code === 'SyntaxError' ? ', not JSON' : ` ${code}`}${bodySnippet(said)}`;
  if (THROTTLED.has(code) || status >= 500 || status === 408 || status === 429)
    return new SourceError(message, 'UNAVAILABLE');
  if (DENIED.has(code)) return new SourceError(message, 'CONFIG');
  if (status === 400 || status === 422) return new SourceError(message, 'BAD_QUERY');
  return new SourceError(message, 'CONFIG');
}

/** The catalog's credentials, read per query so rotated keys apply at once; a missing one is CONFIG, named. */
async function readCredentials(spec: CloudWatchSource, secret: SecretLookup = noSecrets, who: string) {
  try {
    return {
      accessKeyId: await secret(spec.accessKeyId),
      secretAccessKey: await secret(spec.secretAccessKey),
      ...(spec.sessionToken === undefined ? {} : { sessionToken: await secret(spec.sessionToken) }),
    };
  } catch (err) {
    throw new SourceError(`${who}: ${(err as Error).message}`, 'CONFIG');
  }
}

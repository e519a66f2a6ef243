import type * as DatadogApi from '@datadog/datadog-api-client';
import { z } from 'zod';
import type { DatadogSource } from '../../../src/domain/guard-spec.schema.js';
import { toMs } from '../../../src/domain/time.js';
import { bodySnippet } from '../../../src/util/http-text.js';
import { noSecrets, redactHeaders, type SecretLookup } from '../../credentials.js';
import { displayUrl, getText, type SourceOptions } from '../http-json/http-json-source.js';
import { SourceError, type MetricPoint, type MetricSamples, type MetricSource } from '../port.js';

const SERVICE = 'Datadog';

/**
 * Datadog through its official client's v1 `MetricsApi.queryMetrics` (`GET /api/v1/query?from&to&query`). v1, not
 * the v2 timeseries API: v1 takes a guard's query exactly as a dashboard or monitor writes it (arithmetic, functions
 * and `by {tag}` included) in one GET and answers each series with its tag set and `[ms, value | null]` points;
 * v2 wants the same query split into named queries and formulas, and answers in columns.
 *
 * - instant: reads `[atMs - lookback, atMs]`; each series answers its latest non-null point, `null` when all are.
 * - range: reads `[startMs, endMs]`; each series its non-null values in time order. Datadog picks the interval
 *   from the span (`stepMs` does not apply): a query fixes it with `.rollup(avg, 60)`.
 * - labels: the series' `tag_set` (`region:eu-west` → `{ region: 'eu-west' }`), else its scope; `{}` ungrouped.
 *
 * The client's requests go through {@link getText}: the timeout and the caller's signal, no redirects, and both
 * keys redacted from every answer. Errors map as the other HTTP sources' (`getJson`): unreachable, timeouts, 408,
 * 429 and 5xx are UNAVAILABLE; 400 and 422 (Datadog's "Error parsing query") and a `status: "error"` answer are
 * BAD_QUERY; other statuses (403: a wrong key) and a missing key secret are CONFIG; anything else is UNPARSABLE.
 */
export function createDatadogSource(spec: DatadogSource, opts: SourceOptions = {}): MetricSource {
  const doFetch = opts.fetch ?? fetch;
  const base = (spec.url ?? `https://api.${spec.site ?? 'datadoghq.com'}`).replace(/\/+$/, '');
  const lookbackMs = toMs(spec.lookback);

  async function query(expression: string, fromMs: number, toMs: number, signal: AbortSignal | undefined) {
    const where = `${SERVICE} ${displayUrl(`${base}/api/v1/query`)} (query ${JSON.stringify(expression)})`;
    const keys = await readKeys(spec, opts.secret, `${SERVICE} ${displayUrl(base)}`);
    const dd = await loadClient();
    const configuration = dd.client.createConfiguration({
      baseServer: new dd.client.BaseServerConfiguration(base, {}),
      authMethods: { apiKeyAuth: keys.apiKey, appKeyAuth: keys.appKey },
      httpApi: transport(dd, { where, timeoutMs: spec.timeoutMs, signal, fetch: doFetch }),
    });
    const from = Math.floor(fromMs / 1000);
    let answer: unknown;
    try {
      answer = await new dd.v1.MetricsApi(configuration).queryMetrics({
        from,
        to: Math.max(Math.ceil(toMs / 1000), from + 1),
        query: expression,
      });
    } catch (err) {
      if (err instanceof SourceError) throw err;
      if (signal?.aborted) throw err; // the caller's own reason, rethrown by getText
      if (err instanceof dd.client.ApiException) throw statusError(where, err.code, err.body);
      const said = redactHeaders(err instanceof Error ? err.message : String(err), keysAsHeaders(keys));
      throw new SourceError(`${where}: not a Datadog answer${bodySnippet(said)}`, 'UNPARSABLE');
    }
    const parsed = QueryAnswer.safeParse(answer);
    if (!parsed.success)
      throw new SourceError(`${where}: not a Datadog answer: ${z.prettifyError(parsed.error)}`, 'UNPARSABLE');
    if (parsed.data.status !== 'ok')
      throw new SourceError(`${where}${bodySnippet(parsed.data.error ?? `status ${parsed.data.status}`)}`, 'BAD_QUERY');
    return parsed.data.series;
  }

  return {
    describe: `datadog:${displayUrl(base)}`,
    async instant(expression, ctx) {
      const atMs = ctx.atMs ?? Date.now();
      const series = await query(expression, atMs - lookbackMs, atMs, ctx.signal);
      return series.map((s): MetricPoint => ({ labels: labelsOf(s), value: latest(s.pointlist) }));
    },
    async range(expression, ctx) {
      const series = await query(expression, ctx.startMs, ctx.endMs, ctx.signal);
      return series.map((s): MetricSamples => ({ labels: labelsOf(s), values: inOrder(s.pointlist) }));
    },
  };
}

// The client carries every Datadog API (about 3 s of module loading): it is loaded on the first query, once.
let loading: Promise<typeof DatadogApi> | undefined;
const loadClient = () => (loading ??= import('@datadog/datadog-api-client'));

/**
 * The client's HTTP library: its request (URL, auth headers) sent by {@link getText}, so this source times out,
 * refuses redirects and redacts the keys exactly as the other HTTP sources do. `queryMetrics` is a GET.
 */
function transport(
  dd: typeof DatadogApi,
  req: { where: string; timeoutMs: number; signal: AbortSignal | undefined; fetch: typeof fetch },
): DatadogApi.client.HttpLibrary {
  return {
    async send(request) {
      // getText sets its own accept; every other header it sends is also redacted from the answer
      const { Accept: _accept, ...headers } = request.getHeaders();
      const { response, text } = await getText({ ...req, url: request.getUrl(), accept: 'application/json', headers });
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => (responseHeaders[name] = value));
      return new dd.client.ResponseContext(response.status, responseHeaders, {
        text: () => Promise.resolve(text),
        binary: () => Promise.resolve(Buffer.from(text)),
      });
    },
  };
}

/** The catalog's keys, read per query so a rotated key applies at once; a missing one is CONFIG, named. */
async function readKeys(spec: DatadogSource, secret: SecretLookup = noSecrets, who: string) {
  try {
    return { apiKey: await secret(spec.apiKey), appKey: await secret(spec.appKey) };
  } catch (err) {
    throw new SourceError(`${who}: ${(err as Error).message}`, 'CONFIG');
  }
}

const keysAsHeaders = (keys: { apiKey: string; appKey: string }) => ({ a: keys.apiKey, b: keys.appKey });

/** Datadog errors are `{ errors: [...] }`; statuses the client has no model for arrive as its "Unknown" text. */
function statusError(where: string, status: number, body: unknown): SourceError {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const detail = Array.isArray(errors)
    ? errors.map(String).join('; ')
    : typeof body === 'string'
      ? body.replace(/^Unknown API Status Code!\s*Body:\s*"?/, '').replace(/"$/, '')
      : (JSON.stringify(body) ?? '');
  const message = `${where}: HTTP ${status}${bodySnippet(detail)}`;
  if (status === 400 || status === 422) return new SourceError(message, 'BAD_QUERY');
  if (status >= 500 || status === 408 || status === 429) return new SourceError(message, 'UNAVAILABLE');
  return new SourceError(message, 'CONFIG');
}

/** The client's deserialized `MetricsQueryResponse` (camelCase), as far as a guard reads it. */
const Series = z.object({
  pointlist: z.array(z.tuple([z.number(), z.number().nullable()])).default([]),
  tagSet: z.array(z.string()).optional(),
  scope: z.string().optional(),
});
type Series = z.infer<typeof Series>;
const QueryAnswer = z.object({
  status: z.string(),
  error: z.string().optional(),
  series: z.array(Series).default([]),
});

function labelsOf(series: Series): Record<string, string> {
  const tags = series.tagSet ?? (series.scope === undefined || series.scope === '*' ? [] : series.scope.split(','));
  return Object.fromEntries(
    tags.map((tag) => {
      const colon = tag.indexOf(':');
      return colon < 0 ? [tag, ''] : [tag.slice(0, colon), tag.slice(colon + 1)];
    }),
  );
}

const finitePoints = (points: Series['pointlist']) =>
  points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1])).sort((a, b) => a[0] - b[0]);

function latest(points: Series['pointlist']): number | null {
  return finitePoints(points).at(-1)?.[1] ?? null;
}

function inOrder(points: Series['pointlist']): number[] {
  return finitePoints(points).map((p) => p[1]);
}

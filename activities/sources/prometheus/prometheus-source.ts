import { z } from 'zod';
import type { PrometheusSource } from '../../../src/domain/guard-spec.schema.js';
import {
  displayUrl,
  endpointHeaders,
  getJson,
  withCredentialNote,
  type SourceOptions,
} from '../http-json/http-json-source.js';
import { SourceError, type MetricPoint, type MetricSamples, type MetricSource } from '../port.js';

const SERVICE = 'Prometheus';

/**
 * The Prometheus HTTP API. `instant` GETs `/api/v1/query?query=&time=` (time from `ctx.atMs`, else the server's
 * now); `range` GETs `/api/v1/query_range?query=&start=&end=&step=`. Both accept every result type: a vector is one
 * point (or sample set) per series, a scalar is one with labels `{}`, a matrix (a range selector such as `x[5m]`
 * in an instant query) gives each series' latest sample. `NaN` and `±Inf` are `null` in points and dropped from
 * sample sets. Labels are the series' labels without `__name__`. `spec.url` may carry a path prefix
 * (`https://host/prometheus`). Errors: see {@link getJson}; 400/422 carry Prometheus' own `error` text.
 */
export function createPrometheusSource(spec: PrometheusSource, opts: SourceOptions = {}): MetricSource {
  const doFetch = opts.fetch ?? fetch;
  // A trailing slash makes the API paths resolve under a prefix instead of replacing its last segment.
  const base = new URL(spec.url.endsWith('/') ? spec.url : `${spec.url}/`);

  async function query(
    endpoint: 'query' | 'query_range',
    expression: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ) {
    const url = new URL(`api/v1/${endpoint}`, base);
    url.searchParams.set('query', expression);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const headers = await endpointHeaders(spec, opts.secret, `${SERVICE} ${displayUrl(url)}`);
    const body = await getJson({
      service: SERVICE,
      url,
      query: expression,
      headers,
      timeoutMs: spec.timeoutMs,
      signal,
      fetch: doFetch,
    }).catch((err: unknown) => {
      throw withCredentialNote(err, spec.auth);
    });
    const answer = PrometheusAnswer.safeParse(body);
    if (!answer.success) {
      throw new SourceError(
        `${SERVICE} ${displayUrl(url)} (query ${JSON.stringify(expression)}): not a Prometheus answer: ${z.prettifyError(answer.error)}`,
        'UNPARSABLE',
      );
    }
    if (answer.data.status === 'error') {
      const detail = answer.data.error ?? answer.data.errorType ?? 'no error text';
      throw new SourceError(
        `${SERVICE} ${displayUrl(url)} (query ${JSON.stringify(expression)}): ${detail}`,
        'BAD_QUERY',
      );
    }
    if (answer.data.data.resultType === 'string') {
      throw new SourceError(
        `${SERVICE} ${displayUrl(url)} (query ${JSON.stringify(expression)}): yields a string, not a number`,
        'BAD_QUERY',
      );
    }
    return answer.data.data;
  }

  return {
    describe: `prometheus:${displayUrl(spec.url)}`,
    async instant(expression, ctx) {
      const params: Record<string, string> = ctx.atMs === undefined ? {} : { time: seconds(ctx.atMs) };
      return toPoints(await query('query', expression, params, ctx.signal));
    },
    async range(expression, ctx) {
      const params = { start: seconds(ctx.startMs), end: seconds(ctx.endMs), step: String(ctx.stepMs / 1000) };
      return toSamples(await query('query_range', expression, params, ctx.signal));
    },
  };
}

/** `[unix seconds, "value"]`; values are strings because JSON has no NaN or Inf. */
const Sample = z.tuple([z.number(), z.string()]);
const Metric = z.record(z.string(), z.string());
const Data = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: Metric, value: Sample })) }),
  z.object({ resultType: z.literal('scalar'), result: Sample }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: Metric, values: z.array(Sample) })) }),
  z.object({ resultType: z.literal('string'), result: Sample }),
]);
const PrometheusAnswer = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: Data }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);
type NumericData = Exclude<z.infer<typeof Data>, { resultType: 'string' }>;

function toPoints(data: NumericData): MetricPoint[] {
  switch (data.resultType) {
    case 'vector':
      return data.result.map((s) => ({ labels: labelsOf(s.metric), value: valueOf(s.value[1]) }));
    case 'scalar':
      return [{ labels: {}, value: valueOf(data.result[1]) }];
    case 'matrix':
      return data.result.map((s) => {
        const last = s.values.at(-1);
        return { labels: labelsOf(s.metric), value: last ? valueOf(last[1]) : null };
      });
  }
}

function toSamples(data: NumericData): MetricSamples[] {
  const finite = (samples: [number, string][]) =>
    samples.map((s) => valueOf(s[1])).filter((v): v is number => v !== null);
  switch (data.resultType) {
    case 'vector':
      return data.result.map((s) => ({ labels: labelsOf(s.metric), values: finite([s.value]) }));
    case 'scalar':
      return [{ labels: {}, values: finite([data.result]) }];
    case 'matrix':
      return data.result.map((s) => ({ labels: labelsOf(s.metric), values: finite(s.values) }));
  }
}

/** "NaN", "+Inf" and "-Inf" are not measurements a guard can compare: null. */
function valueOf(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function labelsOf(metric: Record<string, string>): Record<string, string> {
  const { __name__: _name, ...labels } = metric;
  return labels;
}

/** Prometheus takes float seconds; millisecond precision is all a guard needs. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

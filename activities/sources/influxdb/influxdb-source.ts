import { z } from 'zod';
import { bodySnippet } from '../../../src/util/http-text.js';
import type { InfluxDbSource } from '../../../src/domain/guard-spec.schema.js';
import {
  credentialNote,
  displayUrl,
  endpointHeaders,
  getJson,
  type SourceOptions,
} from '../http-json/http-json-source.js';
import {
  SourceError,
  type MetricPoint,
  type MetricSamples,
  type MetricSource,
  type QueryContext,
  type RangeContext,
} from '../port.js';

const SERVICE = 'InfluxDB';

/**
 * InfluxDB's 1.x HTTP API: each query GETs `/query?db=<database>&q=<InfluxQL>&epoch=ms`. A guard's query is one
 * InfluxQL `SELECT` (no `INTO`, no second statement: InfluxDB runs any statement it is sent, even over GET, and the
 * query comes from a spec) selecting exactly one field or aggregate; the series' tags are its labels (empty tags
 * dropped). Before sending, the source replaces these placeholders with InfluxQL time literals:
 *
 * | placeholder | instant                                  | range                        |
 * | ----------- | ---------------------------------------- | ---------------------------- |
 * | `:end:`     | `ctx.atMs` (else now): `1700000000000ms` | `ctx.endMs`                  |
 * | `:start:`   | — (BAD_QUERY)                            | `ctx.startMs`                |
 * | `:step:`    | — (BAD_QUERY)                            | `ctx.stepMs`, e.g. `10000ms` |
 *
 * `instant` gives each series' last non-null value (null when it has none), so a `GROUP BY time()` that ends in
 * empty buckets reads the latest bucket with data; `range` gives each series' non-null values and must bound time
 * with `:start:` and `:end:`, e.g.
 * `SELECT mean("rate") FROM "http_errors" WHERE time >= :start: AND time <= :end: GROUP BY time(:step:), "region"`.
 *
 * Credentials: `auth.basic` is an InfluxDB user and password; `auth.bearer` a JWT signed with the server's
 * `[http] shared-secret` (`Authorization: Bearer`).
 *
 * Errors: a parse error (400) or a statement's own error is BAD_QUERY, an unknown database CONFIG, a refused
 * credential (401/403) CONFIG naming the secret, the rest as for every HTTP source (see {@link getJson}).
 */
export function createInfluxDbSource(spec: InfluxDbSource, opts: SourceOptions = {}): MetricSource {
  const doFetch = opts.fetch ?? fetch;
  const base = new URL(spec.url.endsWith('/') ? spec.url : `${spec.url}/`);
  const endpoint = new URL('query', base);
  const where = (query: string) =>
    `${SERVICE} ${displayUrl(endpoint)} (database ${JSON.stringify(spec.database)}, query ${JSON.stringify(query)})`;

  async function select(query: string, times: Partial<Record<Placeholder, number>>, signal?: AbortSignal) {
    const influxql = expand(checkReadOnly(query, where(query)), times, where(query));
    const url = new URL(endpoint);
    url.search = new URLSearchParams({ db: spec.database, q: influxql, epoch: 'ms' }).toString();
    const headers = await endpointHeaders(spec, opts.secret, `${SERVICE} ${displayUrl(endpoint)}`);
    let body: unknown;
    try {
      body = await getJson({
        service: SERVICE,
        url,
        query,
        headers,
        timeoutMs: spec.timeoutMs,
        signal,
        fetch: doFetch,
      });
    } catch (err) {
      // Every CONFIG from getJson is a 4xx other than 400/422: most often the credentials.
      if (err instanceof SourceError && err.code === 'CONFIG' && spec.auth)
        throw new SourceError(`${err.message} (${credentialNote(spec.auth)})`, 'CONFIG');
      throw err;
    }
    return seriesOf(body, where(query), spec.database);
  }

  return {
    describe: `influxdb:${displayUrl(spec.url)} (database ${spec.database})`,
    async instant(expression: string, ctx: QueryContext): Promise<MetricPoint[]> {
      const rows = await select(expression, { end: ctx.atMs ?? Date.now() }, ctx.signal);
      return rows.map((s) => ({ labels: s.labels, value: s.values.findLast((v) => v !== null) ?? null }));
    },
    async range(expression: string, ctx: RangeContext): Promise<MetricSamples[]> {
      for (const p of ['start', 'end'] as const) {
        if (!expression.includes(`:${p}:`))
          throw new SourceError(
            `${where(expression)}: a range query must bound time with :start: and :end: (WHERE time >= :start: AND time <= :end:)`,
            'BAD_QUERY',
          );
      }
      const times = { start: ctx.startMs, end: ctx.endMs, step: ctx.stepMs };
      const rows = await select(expression, times, ctx.signal);
      return rows.map((s) => ({ labels: s.labels, values: s.values.filter((v): v is number => v !== null) }));
    },
  };
}

type Placeholder = 'start' | 'end' | 'step';

/** `:start:`/`:end:` become epoch literals, `:step:` a duration; one the context does not define is a BAD_QUERY. */
function expand(query: string, times: Partial<Record<Placeholder, number>>, where: string): string {
  return query.replace(/:(start|end|step):/g, (_whole, name: Placeholder) => {
    const ms = times[name];
    if (ms === undefined)
      throw new SourceError(`${where}: :${name}: is defined only for range queries; use :end: - 5m`, 'BAD_QUERY');
    return `${Math.round(ms)}ms`;
  });
}

/**
 * Refuses anything but one `SELECT` without `INTO`. Deliberately coarse: any `;` but a trailing one, and the word
 * INTO anywhere (even quoted), are refused, so that no quoting or regex trick can smuggle in a second statement.
 */
function checkReadOnly(query: string, where: string): string {
  const text = query.trim().replace(/;$/, '');
  const refuse = (why: string) => new SourceError(`${where}: ${why}`, 'BAD_QUERY');
  if (!/^select\s/i.test(text)) throw refuse('only a SELECT statement may be queried');
  if (text.includes(';')) throw refuse("one statement only (';' is not allowed)");
  if (/\binto\b/i.test(text)) throw refuse('SELECT … INTO writes data and is not allowed');
  return text;
}

const Cell = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const Series = z.object({
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(Cell)).default([]),
  partial: z.boolean().optional(),
});
const Statement = z.object({
  series: z.array(Series).optional(),
  error: z.string().optional(),
  partial: z.boolean().optional(),
});
const InfluxAnswer = z.object({ results: z.array(Statement).optional(), error: z.string().optional() });

interface SeriesValues {
  labels: Record<string, string>;
  values: (number | null)[];
}

/** The series of every statement, each reduced to its labels and its one value column (nulls kept). */
function seriesOf(body: unknown, where: string, database: string): SeriesValues[] {
  const answer = InfluxAnswer.safeParse(body);
  if (!answer.success)
    throw new SourceError(`${where}: not an InfluxDB answer: ${z.prettifyError(answer.error)}`, 'UNPARSABLE');
  if (answer.data.error !== undefined) throw new SourceError(`${where}${bodySnippet(answer.data.error)}`, 'BAD_QUERY');
  const out: SeriesValues[] = [];
  for (const statement of answer.data.results ?? []) {
    if (statement.error !== undefined) {
      const unknownDb = statement.error.startsWith('database not found');
      const error = unknownDb ? `database ${JSON.stringify(database)} does not exist` : statement.error;
      throw new SourceError(`${where}${bodySnippet(error)}`, unknownDb ? 'CONFIG' : 'BAD_QUERY');
    }
    if (statement.partial || statement.series?.some((s) => s.partial))
      throw new SourceError(
        `${where}: the answer was cut short (the server's max-row-limit); narrow the query`,
        'BAD_QUERY',
      );
    for (const series of statement.series ?? []) out.push(valuesOf(series, where));
  }
  return out;
}

function valuesOf(series: z.infer<typeof Series>, where: string): SeriesValues {
  const fields = series.columns.filter((c) => c !== 'time');
  if (fields.length !== series.columns.length - 1)
    throw new SourceError(`${where}: the answer has no time column`, 'UNPARSABLE');
  if (fields.length !== 1)
    throw new SourceError(
      `${where}: selects ${fields.length} columns (${fields.join(', ')}); a guard reads one field: GROUP BY tags to get labels`,
      'BAD_QUERY',
    );
  const column = series.columns.indexOf(fields[0]!);
  const values = series.values.map((row) => {
    const cell = row[column] ?? null;
    if (cell === null || typeof cell === 'number') return cell;
    throw new SourceError(
      `${where}: ${fields[0]} holds ${typeof cell === 'string' ? 'text' : 'a boolean'} (${JSON.stringify(cell).slice(0, 40)}), not a number`,
      'UNPARSABLE',
    );
  });
  const labels = Object.fromEntries(Object.entries(series.tags ?? {}).filter(([, v]) => v !== ''));
  return { labels, values };
}

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Datadog's metrics query API, built from its published API reference (v1 "Query timeseries
 * points", `GET /api/v1/query`), since Datadog is SaaS that cannot run here. It implements only what
 * `MetricsApi.queryMetrics` of the official client calls, with Datadog's wire shapes:
 *
 * - auth: `DD-API-KEY` and `DD-APPLICATION-KEY` headers; a missing or wrong one is `403 {"errors":["Forbidden"]}`;
 * - parameters: `from` and `to` (integer seconds, from < to) and `query`; a missing or bad one, or a query that does
 *   not parse (unbalanced `{}`/`()`, no `aggregator:metric`), is `400 {"errors":["..."]}`;
 * - answer: `{ status: "ok", res_type: "time_series", series: [...] }`, one entry per stored series of the query
 *   with points in `[from, to]` (`pointlist` `[ms, value | null]`, `scope`, `tag_set`...); a series with no point in
 *   the window is left out, and a query with no series answers `series: []`, as Datadog does.
 *
 * The query language itself is not evaluated: a test stores the series a query answers ({@link DatadogFake.series}).
 */
export interface DatadogFake {
  url: string;
  /** Every request, as received. */
  requests: { path: string; query: URLSearchParams; headers: IncomingHttpHeaders }[];
  /** Series by query text: what Datadog would compute. Points are `[epoch ms, value | null]`. */
  series: Map<string, FakeSeries[]>;
  /** A canned answer in place of the API's own (outages, echoes); `hang` never answers. */
  override:
    | ((req: {
        headers: IncomingHttpHeaders;
      }) => { status: number; body: string; headers?: Record<string, string> } | 'hang' | undefined)
    | undefined;
  close(): Promise<void>;
}

export interface FakeSeries {
  metric: string;
  /** The group's tags (`by {region}` → `['region:eu-west']`). */
  tagSet: string[];
  points: [number, number | null][];
}

export async function startDatadogFake(keys: { apiKey: string; appKey: string }): Promise<DatadogFake> {
  const fake: Omit<DatadogFake, 'url' | 'close'> = { requests: [], series: new Map(), override: undefined };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    fake.requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const canned = fake.override?.({ headers: req.headers });
    if (canned === 'hang') return;
    if (canned) return send(canned.status, canned.body, canned.headers);
    if (req.method !== 'GET' || url.pathname !== '/api/v1/query') return send(404, { errors: ['Not found'] });
    if (req.headers['dd-api-key'] !== keys.apiKey || req.headers['dd-application-key'] !== keys.appKey)
      return send(403, { errors: ['Forbidden'] });
    const answer = queryMetrics(url.searchParams, fake.series);
    send(answer.status, answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

function queryMetrics(params: URLSearchParams, stored: Map<string, FakeSeries[]>): { status: number; body: unknown } {
  const bad = (message: string) => ({ status: 400, body: { errors: [message] } });
  for (const name of ['from', 'to', 'query']) if (!params.get(name)) return bad(`The parameter '${name}' is required`);
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (!Number.isInteger(from) || !Number.isInteger(to)) return bad("The parameters 'from' and 'to' must be integers");
  if (from >= to) return bad("The parameter 'from' must be before 'to'");
  const query = params.get('query') ?? '';
  if (!parses(query)) return bad(`Error parsing query: \nunable to parse ${query}: Rule 'scope_expr' didn't match`);
  const groupBy =
    /\bby \{([^}]*)\}/
      .exec(query)?.[1]
      ?.split(',')
      .map((t) => t.trim()) ?? [];
  const series = (stored.get(query) ?? []).flatMap((s) => {
    const pointlist = s.points.filter(([ms]) => ms >= from * 1000 && ms <= to * 1000);
    if (pointlist.length === 0) return []; // a group with no data in the window is not in the answer
    const scope = s.tagSet.length > 0 ? s.tagSet.join(',') : '*';
    return [
      {
        metric: s.metric,
        display_name: s.metric,
        expression: query,
        scope,
        tag_set: s.tagSet,
        aggr: query.split(':')[0] ?? null,
        pointlist,
        start: pointlist[0]?.[0] ?? from * 1000,
        end: pointlist.at(-1)?.[0] ?? to * 1000,
        interval: 60,
        length: pointlist.length,
        query_index: 0,
        unit: [null, null],
      },
    ];
  });
  return {
    status: 200,
    body: {
      status: 'ok',
      res_type: 'time_series',
      resp_version: 1,
      query,
      message: '',
      from_date: from * 1000,
      to_date: to * 1000,
      group_by: groupBy,
      series,
    },
  };
}

/** Enough of Datadog's grammar to refuse what it would: `aggregator:metric{scope}`, balanced brackets. */
function parses(query: string): boolean {
  if (!/^\s*[a-z]+:[A-Za-z0-9_.]+/.test(query)) return false;
  let depth = 0;
  for (const c of query) {
    if (c === '{' || c === '(') depth++;
    if (c === '}' || c === ')') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

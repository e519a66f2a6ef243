import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for CloudWatch's `GetMetricData`, built from AWS's published API reference and the protocol the
 * installed `@aws-sdk/client-cloudwatch` sends (AWS JSON 1.0 in query-compatible mode), since CloudWatch cannot run
 * here. It implements only that one operation, as AWS does on the wire:
 *
 * - `POST /`, `Content-Type: application/x-amz-json-1.0`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`;
 * - SigV4 checked in full: the `Authorization` header's scope (`<date>/<region>/monitoring/aws4_request`), the key
 *   id, the signature recomputed over the signed headers and the body hash, and `X-Amz-Security-Token` when the
 *   credentials have a session token;
 * - errors as `{ "__type": "...#Code", "message" }` with `x-amzn-query-error: Code;Sender` (an unknown key id is
 *   400 `UnrecognizedClientException`, a bad signature 400 `InvalidSignatureException`, a bad query 400
 *   `InvalidParameterValue`);
 * - the answer: `{ MetricDataResults: [{ Id, Label, Timestamps (epoch s), Values, StatusCode }], NextToken?,
 *   Messages }`, only for queries with `ReturnData` not false, points in `[StartTime, EndTime)`, paged by `pageSize`
 *   datapoints with `NextToken` and `StatusCode: "PartialData"`.
 *
 * Metric math is not evaluated: a test stores the series each `Expression`, or each `MetricStat` (keyed
 * `Namespace/MetricName/Stat`), answers. An unknown `MetricStat` answers one empty result (the metric has no data);
 * an unknown expression answers none (a `SEARCH` matching nothing).
 */
export interface CloudWatchFake {
  url: string;
  requests: { headers: IncomingHttpHeaders; body: GetMetricDataBody }[];
  /** Series by expression text or `Namespace/MetricName/Stat`. Points are `[epoch ms, value]`. */
  series: Map<string, { label: string; points: [number, number][] }[]>;
  /** Datapoints per page; beyond it the answer continues with a `NextToken`. */
  pageSize: number;
  /** A canned answer in place of the API's own (outages, echoes); `hang` never answers. */
  override:
    ((req: { headers: IncomingHttpHeaders; body: GetMetricDataBody }) => CannedAnswer | 'hang' | undefined) | undefined;
  close(): Promise<void>;
}

export interface CannedAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface GetMetricDataBody {
  MetricDataQueries?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: { Namespace: string; MetricName: string }; Period: number; Stat: string };
    Label?: string;
    ReturnData?: boolean;
    Period?: number;
  }[];
  StartTime?: number;
  EndTime?: number;
  NextToken?: string;
  ScanBy?: string;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An AWS JSON error: the shape's name in `__type`, the query-compatible code in `x-amzn-query-error`. */
export function awsError(status: number, type: string, message: string, queryCode = type): CannedAnswer {
  return {
    status,
    body: JSON.stringify({ __type: `com.amazonaws.cloudwatch#${type}`, message }),
    headers: { 'x-amzn-query-error': `${queryCode};${status >= 500 ? 'Receiver' : 'Sender'}` },
  };
}

export async function startCloudWatchFake(region: string, credentials: AwsCredentials): Promise<CloudWatchFake> {
  const fake: Omit<CloudWatchFake, 'url' | 'close'> = {
    requests: [],
    series: new Map(),
    pageSize: 100_800,
    override: undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: GetMetricDataBody = {};
      let readable = true;
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as GetMetricDataBody;
      } catch {
        readable = false;
      }
      fake.requests.push({ headers: req.headers, body });
      const send = (a: CannedAnswer): void => {
        res
          .writeHead(a.status, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-requestid': 'c0ffee00-0000-4000-8000-000000000000',
            ...a.headers,
          })
          .end(a.body);
      };
      const canned = fake.override?.({ headers: req.headers, body });
      if (canned === 'hang') return;
      if (canned) return send(canned);
      if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'GraniteServiceVersion20100801.GetMetricData')
        return send(awsError(400, 'UnknownOperationException', 'Unknown operation'));
      const denied = checkSignature(req, raw, region, credentials);
      if (denied) return send(denied);
      if (!readable)
        return send(awsError(400, 'SerializationException', 'Start of structure or map found where not expected.'));
      send(getMetricData(body, fake));
    });
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

function getMetricData(body: GetMetricDataBody, fake: Omit<CloudWatchFake, 'url' | 'close'>): CannedAnswer {
  const invalid = (message: string) =>
    awsError(400, 'InvalidParameterValueException', message, 'InvalidParameterValue');
  const queries = body.MetricDataQueries ?? [];
  if (queries.length === 0 || queries.length > 500)
    return awsError(
      400,
      'MissingRequiredParameterException',
      'MetricDataQueries must hold 1 to 500 queries',
      'MissingParameter',
    );
  if (typeof body.StartTime !== 'number' || typeof body.EndTime !== 'number' || body.StartTime >= body.EndTime)
    return invalid('The parameter StartTime must be less than the parameter EndTime.');
  for (const q of queries) {
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(q.Id)) return invalid(`Invalid metric data query Id: ${q.Id}`);
    if ((q.Expression === undefined) === (q.MetricStat === undefined))
      return invalid(`The metric data query ${q.Id} must have exactly one of Expression or MetricStat.`);
    if (q.Expression !== undefined && !balanced(q.Expression))
      return invalid(`Error in expression '${q.Id}': Unrecognized token in ${q.Expression}`);
    if (/^\s*select\b/i.test(q.Expression ?? '') && q.Period === undefined)
      return invalid(`The Period of the Metrics Insights query ${q.Id} is required.`);
  }
  const startMs = body.StartTime * 1000;
  const endMs = body.EndTime * 1000;
  const results = queries
    .filter((q) => q.ReturnData !== false)
    .flatMap((q) => {
      const key =
        q.Expression ?? `${q.MetricStat?.Metric.Namespace}/${q.MetricStat?.Metric.MetricName}/${q.MetricStat?.Stat}`;
      const stored =
        fake.series.get(key) ?? (q.MetricStat ? [{ label: q.MetricStat.Metric.MetricName, points: [] }] : []);
      return stored.map((s) => ({
        Id: q.Id,
        Label: q.Label ?? s.label,
        points: s.points
          .filter(([ms]) => ms >= startMs && ms < endMs)
          .sort((a, b) => (body.ScanBy === 'TimestampAscending' ? a[0] - b[0] : b[0] - a[0])),
      }));
    });
  // One page holds `pageSize` datapoints across all results; NextToken is where the next page starts.
  const offset = body.NextToken === undefined ? 0 : Number(Buffer.from(body.NextToken, 'base64url').toString());
  if (!Number.isInteger(offset) || offset < 0)
    return awsError(400, 'InvalidNextToken', 'The service cannot find the NextToken.');
  let skip = offset;
  let room = fake.pageSize;
  let more = false;
  const page = results.map((r) => {
    const from = Math.min(skip, r.points.length);
    skip -= from;
    const taken = r.points.slice(from, from + room);
    room -= taken.length;
    const partial = from + taken.length < r.points.length;
    more ||= partial;
    return {
      Id: r.Id,
      Label: r.Label,
      Timestamps: taken.map(([ms]) => ms / 1000),
      Values: taken.map(([, v]) => v),
      StatusCode: partial ? 'PartialData' : 'Complete',
    };
  });
  const next = more ? Buffer.from(String(offset + fake.pageSize)).toString('base64url') : undefined;
  return {
    status: 200,
    body: JSON.stringify({ MetricDataResults: page, Messages: [], ...(next === undefined ? {} : { NextToken: next }) }),
  };
}

function balanced(expression: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (const c of expression) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0 && quote === undefined;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4 as AWS verifies it; undefined when the request is signed by `credentials` for `region`/monitoring. */
function checkSignature(req: IncomingMessage, body: Buffer, region: string, credentials: AwsCredentials) {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m)
    return awsError(
      400,
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
      'MissingAuthenticationToken',
    );
  const [, keyId = '', date = '', scopeRegion, service, signed = '', signature = ''] = m;
  if (keyId !== credentials.accessKeyId)
    return awsError(
      400,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      'InvalidClientTokenId',
    );
  if (credentials.sessionToken !== undefined && req.headers['x-amz-security-token'] !== credentials.sessionToken)
    return awsError(
      400,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      'InvalidClientTokenId',
    );
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (scopeRegion !== region || service !== 'monitoring' || !amzDate.startsWith(date))
    return awsError(
      400,
      'InvalidSignatureException',
      `Credential should be scoped to a valid region and service, not '${scopeRegion}/${service}'.`,
      'SignatureDoesNotMatch',
    );
  const names = signed.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date'))
    return awsError(
      400,
      'IncompleteSignatureException',
      'Signed headers must include host and x-amz-date.',
      'IncompleteSignature',
    );
  const headers = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, req.url?.split('?')[0] ?? '/', '', headers, signed, sha256(body)].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/monitoring/aws4_request`, sha256(canonical)].join(
    '\n',
  );
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), 'monitoring'), 'aws4_request');
  const expected = Buffer.from(hmac(key, toSign).toString('hex'));
  if (!timingSafeEqual(expected, Buffer.from(signature)))
    return awsError(
      400,
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided.',
      'SignatureDoesNotMatch',
    );
  return undefined;
}

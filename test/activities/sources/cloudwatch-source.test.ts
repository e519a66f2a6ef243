import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudWatchSource } from '../../../activities/sources/cloudwatch/cloudwatch-source.js';
import { createMetricSource, SourceError } from '../../../activities/sources/index.js';
import { CloudWatchSource, MetricSourceSpec } from '../../../src/domain/guard-spec.schema.js';
import { awsError, startCloudWatchFake, type CloudWatchFake } from '../../helpers/cloudwatch-fake.js';
import { catalogSecrets } from '../catalog-secrets.js';

const REGION = 'eu-west-1';
const KEY_ID = 'AKIAFAKEKEYID0000001';
const SECRET_KEY = 'fake/secret+access/key0000000000000000001';
const SESSION = 'FwoGZXIvYXdzEFAKESESSIONTOKEN0001';
const ENV = { AWS_KEY: KEY_ID, AWS_SECRET: SECRET_KEY, AWS_SESSION: SESSION };
const ERRORS_BY_FUNCTION = 'SELECT SUM(Errors) FROM SCHEMA("AWS/Lambda", FunctionName) GROUP BY FunctionName';
/** A fixed "now": every window is computed from it, never from the clock. */
const AT = 1_700_000_040_000;
const MIN = 60_000;

let fake: CloudWatchFake;

beforeAll(async () => {
  fake = await startCloudWatchFake(REGION, { accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, sessionToken: SESSION });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests = [];
  fake.series.clear();
  fake.pageSize = 100_800;
  fake.override = undefined;
});

/** The catalog entry names its credentials; the worker reads them from AWS_KEY, AWS_SECRET and AWS_SESSION. */
function source(overrides: Partial<CloudWatchSource> = {}, env: NodeJS.ProcessEnv = ENV) {
  const { secret } = catalogSecrets(
    { 'cw-key': { env: 'AWS_KEY' }, 'cw-secret': { env: 'AWS_SECRET' }, 'cw-session': { env: 'AWS_SESSION' } },
    env,
  );
  const spec = CloudWatchSource.parse({
    type: 'cloudwatch',
    region: REGION,
    endpoint: fake.url,
    accessKeyId: 'cw-key',
    secretAccessKey: 'cw-secret',
    sessionToken: 'cw-session',
    ...overrides,
  });
  return createCloudWatchSource(spec, { secret });
}
const now = { check: 0, atMs: AT };
const window = { check: 0, startMs: AT - 10 * MIN, endMs: AT, stepMs: 15_000 };
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => new Error('no failure'),
    (e: unknown) => e as Error,
  );

describe("CloudWatch source against a fake built from AWS's published GetMetricData API contract", () => {
  it('answers each series of a Metrics Insights query with its Id and Label, signed with SigV4', async () => {
    fake.series.set(ERRORS_BY_FUNCTION, [
      {
        label: 'checkout',
        points: [
          [AT - 3 * MIN, 4],
          [AT - 2 * MIN, 9],
        ],
      },
      { label: 'payments', points: [[AT - 2 * MIN, 0]] },
    ]);
    expect(await source().instant(ERRORS_BY_FUNCTION, now)).toEqual([
      { labels: { id: 'q', label: 'checkout' }, value: 9 },
      { labels: { id: 'q', label: 'payments' }, value: 0 },
    ]);
    const sent = fake.requests[0];
    expect(sent?.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'GraniteServiceVersion20100801.GetMetricData',
      'x-amz-security-token': SESSION,
      authorization: expect.stringMatching(
        new RegExp(`^AWS4-HMAC-SHA256 Credential=${KEY_ID}/\\d{8}/${REGION}/monitoring/aws4_request, `),
      ),
    });
    expect(sent?.body).toMatchObject({
      MetricDataQueries: [{ Id: 'q', Expression: ERRORS_BY_FUNCTION, Period: 60 }],
      StartTime: (AT - 5 * MIN) / 1000,
      EndTime: AT / 1000,
    });
  });

  it('takes a JSON array of MetricDataQuery: MetricStats feed an expression, only ReturnData results answer', async () => {
    const ratio = JSON.stringify([
      { Id: 'errors', MetricStat: stat('HTTPCode_Target_5XX_Count'), ReturnData: false },
      { Id: 'requests', MetricStat: stat('RequestCount'), ReturnData: false },
      { Id: 'rate', Expression: 'errors / requests', Label: 'error rate' },
    ]);
    fake.series.set('errors / requests', [
      {
        label: 'rate',
        points: [
          [AT - 2 * MIN, 0.01],
          [AT - MIN, 0.03],
        ],
      },
    ]);
    expect(await source().range(ratio, window)).toEqual([
      { labels: { id: 'rate', label: 'error rate' }, values: [0.01, 0.03] },
    ]);
    expect(fake.requests[0]?.body.MetricDataQueries?.map((q) => q.Id)).toEqual(['errors', 'requests', 'rate']);
    // a metric expression's period comes from its metrics: none is added
    expect(fake.requests[0]?.body.MetricDataQueries?.[2]?.Period).toBeUndefined();
  });

  it('answers a range in time order, with a Metrics Insights period of the step rounded up to a whole minute', async () => {
    fake.series.set(ERRORS_BY_FUNCTION, [
      {
        label: 'checkout',
        points: [
          [AT - MIN, 3],
          [AT - 4 * MIN, 1],
          [AT - 2 * MIN, 2],
        ],
      },
    ]);
    expect(await source().range(ERRORS_BY_FUNCTION, { ...window, stepMs: 90_000 })).toEqual([
      { labels: { id: 'q', label: 'checkout' }, values: [1, 2, 3] },
    ]);
    expect(fake.requests[0]?.body.MetricDataQueries?.[0]?.Period).toBe(120);
  });

  it('follows NextToken and joins the pages of each series', async () => {
    fake.pageSize = 2;
    const points = (n: number): [number, number][] => Array.from({ length: n }, (_, i) => [AT - (i + 1) * MIN, i]);
    fake.series.set(ERRORS_BY_FUNCTION, [
      { label: 'checkout', points: points(5) },
      { label: 'payments', points: points(3) },
    ]);
    expect(await source().range(ERRORS_BY_FUNCTION, window)).toEqual([
      { labels: { id: 'q', label: 'checkout' }, values: [4, 3, 2, 1, 0] },
      { labels: { id: 'q', label: 'payments' }, values: [2, 1, 0] },
    ]);
    expect(fake.requests.length).toBeGreaterThanOrEqual(4);
    expect(fake.requests.slice(1).every((r) => typeof r.body.NextToken === 'string')).toBe(true);
  });

  it('answers [] when nothing matches (no data), and a series with no datapoints as null / no samples', async () => {
    expect(await source().instant(`SEARCH('{AWS/Lambda,FunctionName} Errors', 'Sum', 60)`, now)).toEqual([]);
    fake.series.set(ERRORS_BY_FUNCTION, [{ label: 'checkout', points: [[AT - 30 * MIN, 5]] }]);
    expect(await source().instant(ERRORS_BY_FUNCTION, now)).toEqual([
      { labels: { id: 'q', label: 'checkout' }, value: null },
    ]);
    expect(await source().range(ERRORS_BY_FUNCTION, window)).toEqual([
      { labels: { id: 'q', label: 'checkout' }, values: [] },
    ]);
  });

  it('calls an expression CloudWatch refuses BAD_QUERY, with its error code and text', async () => {
    const failure = await failureOf(source().instant("SUM(SEARCH('{AWS/Lambda} Errors', 'Sum', 60)", now));
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('HTTP 400 InvalidParameterValue'),
    });
    expect(failure.message).toContain('Unrecognized token');
  });

  it('calls a malformed JSON query BAD_QUERY before sending anything', async () => {
    for (const query of [
      '[{"Id": "q"',
      '[{"Id": "Q1", "Expression": "m1"}]',
      '[{"Id": "q", "Expression": "a", "MetricStat": {}}]',
      // another account than the catalog's credentials: refused, as is a query list that would be billed 21 times
      '[{"Id": "q", "Expression": "SELECT AVG(CPUUtilization) FROM SCHEMA(\\"AWS/EC2\\")", "AccountId": "123456789012"}]',
      JSON.stringify(Array.from({ length: 21 }, (_, i) => ({ Id: `q${i}`, Expression: 'SELECT 1' }))),
    ])
      await expect(source().instant(query, now)).rejects.toMatchObject({ code: 'BAD_QUERY' });
    expect(fake.requests).toHaveLength(0);
  });

  it.each([
    ['a wrong secret key (the signature does not match)', { AWS_SECRET: 'not-the-right-secret-key' }],
    ['an unknown key id', { AWS_KEY: 'AKIAUNKNOWNKEY000000' }],
    ['a wrong session token', { AWS_SESSION: 'expired-session-token' }],
  ])('calls %s CONFIG, though AWS answers it with a 400', async (_what, env) => {
    const failure = await failureOf(source({}, { ...ENV, ...env }).instant(ERRORS_BY_FUNCTION, now));
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('HTTP 400') });
    for (const value of [...Object.values(ENV), ...Object.values(env)]) expect(failure.message).not.toContain(value);
  });

  it.each([
    [
      'AccessDenied (403)',
      awsError(403, 'AccessDeniedException', 'not authorized to perform: cloudwatch:GetMetricData', 'AccessDenied'),
      'CONFIG',
    ],
    ['Throttling (400)', awsError(400, 'ThrottlingException', 'Rate exceeded', 'Throttling'), 'UNAVAILABLE'],
    [
      'InternalServiceFault (500)',
      awsError(500, 'InternalServiceFault', 'Internal failure', 'InternalServiceError'),
      'UNAVAILABLE',
    ],
    [
      'an HTML 503',
      { status: 503, body: '<html>Service Unavailable</html>', headers: { 'content-type': 'text/html' } },
      'UNAVAILABLE',
    ],
  ])('maps %s to %s', async (_what, answer, code) => {
    fake.override = () => answer;
    await expect(source().instant(ERRORS_BY_FUNCTION, now)).rejects.toMatchObject({ code });
  });

  it('fails on a result CloudWatch marks Forbidden (CONFIG) or InternalError (UNAVAILABLE)', async () => {
    for (const [status, code] of [
      ['Forbidden', 'CONFIG'],
      ['InternalError', 'UNAVAILABLE'],
    ] as const) {
      fake.override = () => ({
        status: 200,
        body: JSON.stringify({
          MetricDataResults: [
            {
              Id: 'q',
              Label: 'q',
              Timestamps: [],
              Values: [],
              StatusCode: status,
              Messages: [{ Code: status, Value: 'account 1234' }],
            },
          ],
        }),
      });
      await expect(source().instant(ERRORS_BY_FUNCTION, now)).rejects.toMatchObject({
        code,
        message: expect.stringContaining(`result q is ${status}: ${status} account 1234`),
      });
    }
  });

  it('calls an answer that is not GetMetricData’s UNPARSABLE', async () => {
    fake.override = () => ({
      status: 200,
      body: '<html>captive portal</html>',
      headers: { 'content-type': 'text/html' },
    });
    await expect(source().instant(ERRORS_BY_FUNCTION, now)).rejects.toMatchObject({ code: 'UNPARSABLE' });
    fake.override = () => ({ status: 200, body: JSON.stringify({ MetricDataResults: 'none' }) });
    await expect(source().instant(ERRORS_BY_FUNCTION, now)).rejects.toMatchObject({ code: 'UNPARSABLE' });
  });

  it('times out as UNAVAILABLE, and rethrows the caller’s own abort as is', async () => {
    fake.override = () => 'hang';
    await expect(source({ timeoutMs: 300 }).instant(ERRORS_BY_FUNCTION, now)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('no answer within 300 ms'),
    });
    const caller = new AbortController();
    const pending = source().instant(ERRORS_BY_FUNCTION, { ...now, signal: caller.signal });
    setTimeout(() => caller.abort(new Error('activity cancelled')), 50);
    await expect(pending).rejects.toThrow('activity cancelled');
  });

  it('reports a refused connection as UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      source({ endpoint: `http://127.0.0.1:${port}` }).instant(ERRORS_BY_FUNCTION, now),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('never repeats a credential, even when the server echoes the signed headers', async () => {
    fake.override = (req) =>
      awsError(
        400,
        'InvalidParameterValueException',
        `echo ${String(req.headers.authorization)} ${String(req.headers['x-amz-security-token'])}`,
        'InvalidParameterValue',
      );
    const failure = await failureOf(source().instant(ERRORS_BY_FUNCTION, now));
    expect(failure).toMatchObject({ code: 'BAD_QUERY', message: expect.stringContaining('[redacted]') });
    for (const value of Object.values(ENV)) expect(failure.message).not.toContain(value);
  });

  it('fails with CONFIG when a credential secret is not set, naming the secret and sending nothing', async () => {
    const failure = await failureOf(
      source({}, { AWS_KEY: KEY_ID, AWS_SESSION: SESSION }).instant(ERRORS_BY_FUNCTION, now),
    );
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('secret "cw-secret"') });
    expect(failure.message).not.toContain(KEY_ID);
    expect(fake.requests).toHaveLength(0);
  });

  it('is what createMetricSource builds for a catalog cloudwatch entry', async () => {
    const { secret } = catalogSecrets({ k: { env: 'K' }, s: { env: 'S' } }, { K: KEY_ID, S: SECRET_KEY });
    const withoutSession = await startCloudWatchFake('us-east-1', { accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY });
    try {
      withoutSession.series.set('errors', [{ label: 'errors', points: [[AT - MIN, 2]] }]);
      const entry = { type: 'cloudwatch', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' };
      const s = createMetricSource(MetricSourceSpec.parse({ ...entry, endpoint: withoutSession.url }), { secret });
      expect(s.describe).toBe(`cloudwatch:${withoutSession.url}/`);
      expect(await s.instant('errors', now)).toEqual([{ labels: { id: 'q', label: 'errors' }, value: 2 }]);
      expect(createMetricSource(MetricSourceSpec.parse(entry)).describe).toBe('cloudwatch:us-east-1');
      expect(MetricSourceSpec.safeParse({ ...entry, periodSeconds: 90 }).success).toBe(false);
      expect(MetricSourceSpec.safeParse({ ...entry, region: 'https://evil.example' }).success).toBe(false);
    } finally {
      await withoutSession.close();
    }
  });
});

function stat(metricName: string) {
  return {
    Metric: {
      Namespace: 'AWS/ApplicationELB',
      MetricName: metricName,
      Dimensions: [{ Name: 'LoadBalancer', Value: 'app/checkout/1' }],
    },
    Period: 60,
    Stat: 'Sum',
  };
}

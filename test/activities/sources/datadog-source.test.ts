import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatadogSource } from '../../../activities/sources/datadog/datadog-source.js';
import { createMetricSource, SourceError } from '../../../activities/sources/index.js';
import { DatadogSource, MetricSourceSpec } from '../../../src/domain/guard-spec.schema.js';
import { startDatadogFake, type DatadogFake } from '../../helpers/datadog-fake.js';
import { catalogSecrets } from '../catalog-secrets.js';

const API_KEY = 'dd-api-0123456789abcdef';
const APP_KEY = 'dd-app-fedcba9876543210';
const ERRORS_BY_REGION = 'sum:trace.http.request.errors{service:checkout} by {region}.as_count()';
/** A fixed "now": every window is computed from it, never from the clock. */
const AT = 1_700_000_000_000;
const MIN = 60_000;

let fake: DatadogFake;

beforeAll(async () => {
  fake = await startDatadogFake({ apiKey: API_KEY, appKey: APP_KEY });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests = [];
  fake.series.clear();
  fake.override = undefined;
});

/** The catalog entry names its keys `dd-api` and `dd-app`; the worker reads them from DD_API / DD_APP. */
function source(overrides: Partial<DatadogSource> = {}, env: NodeJS.ProcessEnv = { DD_API: API_KEY, DD_APP: APP_KEY }) {
  const { secret } = catalogSecrets({ 'dd-api': { env: 'DD_API' }, 'dd-app': { env: 'DD_APP' } }, env);
  const spec = DatadogSource.parse({
    type: 'datadog',
    url: fake.url,
    apiKey: 'dd-api',
    appKey: 'dd-app',
    ...overrides,
  });
  return createDatadogSource(spec, { secret });
}
const now = { check: 0, atMs: AT };
const window = { check: 0, startMs: AT - 10 * MIN, endMs: AT, stepMs: MIN };
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => new Error('no failure'),
    (e: unknown) => e as Error,
  );

describe("Datadog source against a fake built from Datadog's published API contract (v1 /api/v1/query)", () => {
  it('answers each group with its tags as labels and its latest non-null point, sending both keys', async () => {
    fake.series.set(ERRORS_BY_REGION, [
      {
        metric: 'trace.http.request.errors',
        tagSet: ['region:eu-west'],
        points: [
          [AT - 2 * MIN, 4],
          [AT - MIN, 7],
          [AT, null],
        ],
      },
      { metric: 'trace.http.request.errors', tagSet: ['region:us-east'], points: [[AT - MIN, 1]] },
      // only before the 5-minute lookback: not in the window Datadog is asked for
      { metric: 'trace.http.request.errors', tagSet: ['region:ap-south'], points: [[AT - 9 * MIN, 3]] },
    ]);
    const points = await source().instant(ERRORS_BY_REGION, now);
    expect(points).toEqual([
      { labels: { region: 'eu-west' }, value: 7 },
      { labels: { region: 'us-east' }, value: 1 },
    ]);
    const sent = fake.requests[0];
    expect(sent?.path).toBe('/api/v1/query');
    expect(sent?.headers).toMatchObject({ 'dd-api-key': API_KEY, 'dd-application-key': APP_KEY });
    expect(Object.fromEntries(sent?.query ?? [])).toEqual({
      query: ERRORS_BY_REGION,
      from: String((AT - 5 * MIN) / 1000),
      to: String(AT / 1000),
    });
  });

  it('answers a range with each series’ non-null values in time order', async () => {
    fake.series.set('avg:checkout.latency{variant:on}', [
      {
        metric: 'checkout.latency',
        tagSet: [],
        points: [
          [AT - 3 * MIN, 120],
          [AT - 2 * MIN, null],
          [AT - MIN, 95],
        ],
      },
    ]);
    expect(await source().range('avg:checkout.latency{variant:on}', window)).toEqual([
      { labels: {}, values: [120, 95] },
    ]);
    expect(fake.requests[0]?.query.get('from')).toBe(String((AT - 10 * MIN) / 1000));
  });

  it('answers [] when no series matches (no data), and a series of nulls as null / no samples', async () => {
    expect(await source().instant('sum:nothing.here{*}', now)).toEqual([]);
    expect(await source().range('sum:nothing.here{*}', window)).toEqual([]);
    fake.series.set('sum:gaps{*}', [
      {
        metric: 'gaps',
        tagSet: [],
        points: [
          [AT - MIN, null],
          [AT, null],
        ],
      },
    ]);
    expect(await source().instant('sum:gaps{*}', now)).toEqual([{ labels: {}, value: null }]);
    expect(await source().range('sum:gaps{*}', window)).toEqual([{ labels: {}, values: [] }]);
  });

  it('calls a query Datadog cannot parse BAD_QUERY, with Datadog’s own error text', async () => {
    const failure = await failureOf(source().instant('sum:broken{service:checkout', now));
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('HTTP 400: Error parsing query'),
    });
    expect(failure.message).toContain(`${fake.url}/api/v1/query`);
  });

  it('calls a "status: error" answer BAD_QUERY (the contract’s error field)', async () => {
    fake.override = () => ({ status: 200, body: JSON.stringify({ status: 'error', error: 'Unknown function foo()' }) });
    await expect(source().instant('foo(sum:x{*})', now)).rejects.toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('Unknown function foo()'),
    });
  });

  it('calls a wrong key CONFIG (403 Forbidden), as the other HTTP sources do', async () => {
    const failure = await failureOf(
      source({}, { DD_API: API_KEY, DD_APP: 'revoked-app-key' }).instant('sum:x{*}', now),
    );
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('HTTP 403: Forbidden') });
    expect(failure.message).not.toContain('revoked-app-key');
  });

  it.each([
    [429, 'UNAVAILABLE', '{"errors":["Rate limit exceeded"]}'],
    [500, 'UNAVAILABLE', '{"errors":["Internal Server Error"]}'],
    [503, 'UNAVAILABLE', '<html>maintenance</html>'],
    [404, 'CONFIG', '{"errors":["Not found"]}'],
  ])('maps HTTP %i to %s with the answer’s text', async (status, code, body) => {
    fake.override = () => ({ status, body });
    const failure = await failureOf(source().instant('sum:x{*}', now));
    expect(failure).toMatchObject({ code, message: expect.stringContaining(`HTTP ${status}: `) });
    expect(failure.message).toMatch(/Rate limit|Internal Server|maintenance|Not found/);
  });

  it('calls a body that is not a query answer UNPARSABLE', async () => {
    fake.override = () => ({ status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    await expect(source().instant('sum:x{*}', now)).rejects.toMatchObject({ code: 'UNPARSABLE' });
    fake.override = () => ({ status: 200, body: JSON.stringify({ status: 'ok', series: [{ pointlist: 'x' }] }) });
    await expect(source().instant('sum:x{*}', now)).rejects.toMatchObject({ code: 'UNPARSABLE' });
  });

  it('times out as UNAVAILABLE, and rethrows the caller’s own abort as is', async () => {
    fake.override = () => 'hang';
    await expect(source({ timeoutMs: 300 }).instant('sum:x{*}', now)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('no answer within 300 ms'),
    });
    const caller = new AbortController();
    const pending = source().instant('sum:x{*}', { ...now, signal: caller.signal });
    setTimeout(() => caller.abort(new Error('activity cancelled')), 50);
    await expect(pending).rejects.toThrow('activity cancelled');
  });

  it('reports a refused connection as UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(source({ url: `http://127.0.0.1:${port}` }).instant('sum:x{*}', now)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('does not follow a redirect (the keys must not travel to another host)', async () => {
    fake.override = (req) =>
      req.headers['dd-api-key'] === API_KEY
        ? { status: 302, body: '', headers: { location: `${fake.url}/elsewhere` } }
        : undefined;
    await expect(source().instant('sum:x{*}', now)).rejects.toMatchObject({ code: 'CONFIG' });
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/v1/query']);
  });

  it('never repeats either key, even when the server echoes them', async () => {
    fake.override = (req) => ({
      status: 400,
      body: JSON.stringify({
        errors: [`bad keys ${String(req.headers['dd-api-key'])} / ${String(req.headers['dd-application-key'])}`],
      }),
    });
    const failure = await failureOf(source().instant('sum:x{*}', now));
    expect(failure).toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('bad keys [redacted] / [redacted]'),
    });
    expect(failure.message).not.toContain(API_KEY);
    expect(failure.message).not.toContain(APP_KEY);
  });

  it('fails with CONFIG when a key secret is not set, naming the secret and sending nothing', async () => {
    const failure = await failureOf(source({}, { DD_API: API_KEY }).instant('sum:x{*}', now));
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('secret "dd-app"') });
    expect(failure.message).not.toContain(API_KEY);
    expect(fake.requests).toHaveLength(0);
  });

  it('is what createMetricSource builds for a catalog datadog entry; a site names the API host', async () => {
    fake.series.set('sum:x{*}', [{ metric: 'x', tagSet: [], points: [[AT, 2]] }]);
    const { secret } = catalogSecrets({ 'dd-api': { env: 'A' }, 'dd-app': { env: 'B' } }, { A: API_KEY, B: APP_KEY });
    const entry = { type: 'datadog', apiKey: 'dd-api', appKey: 'dd-app' };
    const s = createMetricSource(MetricSourceSpec.parse({ ...entry, url: fake.url }), { secret });
    expect(await s.instant('sum:x{*}', now)).toEqual([{ labels: {}, value: 2 }]);
    expect(createMetricSource(MetricSourceSpec.parse({ ...entry, site: 'datadoghq.eu' })).describe).toBe(
      'datadog:https://api.datadoghq.eu/',
    );
    expect(createMetricSource(MetricSourceSpec.parse(entry)).describe).toBe('datadog:https://api.datadoghq.com/');
    expect(MetricSourceSpec.safeParse({ ...entry, site: 'datadoghq.eu', url: fake.url }).success).toBe(false);
    expect(MetricSourceSpec.safeParse({ ...entry, apiKey: 'not a secret NAME' }).success).toBe(false);
  });
});

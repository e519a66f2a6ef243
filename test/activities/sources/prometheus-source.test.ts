import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMetricSource,
  SourceError,
  type MetricPoint,
  type MetricSource,
} from '../../../activities/sources/index.js';
import { createPrometheusSource } from '../../../activities/sources/prometheus/prometheus-source.js';
import { PrometheusSource } from '../../../src/domain/guard-spec.schema.js';
import { startMetricsApp, type Load, type MetricsApp } from '../../fixtures/metrics-app.js';
import { httpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { startPrometheus, waitForScrape, type RunningPrometheus } from '../../helpers/prometheus.js';
import { catalogSecrets } from '../catalog-secrets.js';

const RPS = 400;
const byRegion = (points: MetricPoint[]) => Object.fromEntries(points.map((p) => [p.labels.region, p.value]));
const ERROR_RATE_BY_REGION =
  'sum by (region) (rate(http_requests_total{variant="on",code=~"5.."}[5s])) / sum by (region) (rate(http_requests_total{variant="on"}[5s]))';

async function poll<T>(what: string, timeoutMs: number, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

describe('Prometheus source against a real Prometheus scraping a real app', () => {
  let app: MetricsApp;
  let load: Load;
  let prometheus: RunningPrometheus;
  let source: MetricSource;

  beforeAll(async () => {
    app = await startMetricsApp({ seed: 7 });
    app.setBehaviour({ variant: 'on', latencyMs: 300 });
    app.setBehaviour({ variant: 'off', latencyMs: 100 });
    load = app.startLoad({ rps: RPS });
    // Fails (never skips) with "Run scripts/ensure-prometheus.sh" when the binary is missing.
    prometheus = await startPrometheus({ scrapeTargets: [app.hostPort], scrapeIntervalMs: 1000 });
    source = createMetricSource(PrometheusSource.parse({ type: 'prometheus', url: prometheus.url }));
    await waitForScrape(prometheus.url, prometheus.job, { minScrapes: 4 });
  });

  afterAll(async () => {
    load?.stop();
    await prometheus?.stop();
    await app?.stop();
  });

  it('answers an instant query with one labelled point per variant', async () => {
    const points = await source.instant('sum by (variant) (rate(http_requests_total[5s]))', {
      check: 0,
      atMs: Date.now(),
    });
    expect(points.map((p) => p.labels).sort((a, b) => String(a.variant).localeCompare(String(b.variant)))).toEqual([
      { variant: 'off' },
      { variant: 'on' },
    ]);
    for (const p of points) {
      // Half the load each; rate() over a 5 s window of 1 s scrapes is rough, hence the wide band.
      expect(p.value).toBeGreaterThan(RPS * 0.25);
      expect(p.value).toBeLessThan(RPS * 0.75);
    }
  });

  it('answers a range query with several samples per series', async () => {
    const endMs = Date.now();
    const sets = await source.range('sum by (variant) (rate(http_requests_total[5s]))', {
      check: 0,
      startMs: endMs - 10_000,
      endMs,
      stepMs: 1_000,
    });
    expect(sets).toHaveLength(2);
    for (const s of sets) {
      expect(s.values.length).toBeGreaterThanOrEqual(3);
      expect(s.values.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    }
  });

  it('sees the latency the app was told to have, per variant', async () => {
    const points = await source.instant(
      'histogram_quantile(0.5, sum by (le, variant) (rate(http_request_duration_seconds_bucket[5s])))',
      { check: 0 },
    );
    const p50 = Object.fromEntries(points.map((p) => [p.labels.variant, p.value]));
    expect(p50.on).toBeGreaterThan(0.2);
    expect(p50.on).toBeLessThan(0.4);
    expect(p50.off).toBeGreaterThan(0.05);
    expect(p50.off).toBeLessThan(0.2);
  });

  it('turns scalars into one unlabelled point, and NaN/Inf into null or no samples', async () => {
    expect(await source.instant('scalar(vector(2)) * 21', { check: 0 })).toEqual([{ labels: {}, value: 42 }]);
    expect(await source.instant('vector(0) / 0', { check: 0 })).toEqual([{ labels: {}, value: null }]);
    expect(await source.instant('vector(1) / 0', { check: 0 })).toEqual([{ labels: {}, value: null }]);
    const endMs = Date.now();
    expect(await source.range('vector(-1) / 0', { check: 0, startMs: endMs - 3_000, endMs, stepMs: 1_000 })).toEqual([
      { labels: {}, values: [] },
    ]);
  });

  it('shows a region-only fault in that region’s error rate, and not in the other', async () => {
    const healthy = byRegion(await source.instant(ERROR_RATE_BY_REGION, { check: 0 }));
    expect(healthy).toEqual({ 'eu-west': 0, 'us-east': 0 });

    app.setBehaviour({ variant: 'on', region: 'eu-west', errorRate: 0.6 });
    const faulty = await poll(
      'eu-west error rate > 0.45',
      15_000,
      async () => byRegion(await source.instant(ERROR_RATE_BY_REGION, { check: 1 })),
      (rates) => (rates['eu-west'] ?? 0) > 0.45,
    );
    expect(faulty['eu-west']).toBeLessThan(0.75);
    expect(faulty['us-east']).toBe(0);
  });

  it('reports bad PromQL as BAD_QUERY with Prometheus’ own message', async () => {
    const bad = 'sum by (variant) (rate(http_requests_total[5s])';
    const failure = await source.instant(bad, { check: 0 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({ code: 'BAD_QUERY', message: expect.stringContaining('parse error') });
    expect((failure as Error).message).toContain(`${prometheus.url}/api/v1/query`);
    expect((failure as Error).message).toContain(JSON.stringify(bad));
  });

  it('reports a stopped Prometheus as UNAVAILABLE', async () => {
    await prometheus.stop();
    await expect(source.instant('up', { check: 0 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('Prometheus source requests (recorded)', () => {
  let recorder: HttpRecorder;
  beforeAll(async () => {
    recorder = await httpRecorder();
  });
  afterAll(() => recorder.close());

  /** The provider's entry names the catalog secret `prom-token`, which the worker reads from PROM_TOKEN. */
  const spec = (url: string, extra: Partial<PrometheusSource> = {}) =>
    PrometheusSource.parse({ type: 'prometheus', url, auth: { bearer: 'prom-token' }, ...extra });
  const secrets = (env: NodeJS.ProcessEnv = { PROM_TOKEN: 'tkn' }) =>
    catalogSecrets({ 'prom-token': { env: 'PROM_TOKEN' } }, env).secret;

  it('sends the query, the time in seconds, and the bearer token, under a path prefix', async () => {
    recorder.respond = () => ({ status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } });
    const s = createPrometheusSource(spec(`${recorder.url}/prom`), { secret: secrets() });
    expect(await s.instant('up', { check: 0, atMs: 1_700_000_000_123 })).toEqual([]);
    await s.range('up', { check: 0, startMs: 1_700_000_000_000, endMs: 1_700_000_060_000, stepMs: 1_500 });
    const [instant, range] = recorder.requests.slice(-2);
    expect(instant?.path).toBe('/prom/api/v1/query?query=up&time=1700000000.123');
    expect(range?.path).toBe('/prom/api/v1/query_range?query=up&start=1700000000.000&end=1700000060.000&step=1.5');
    expect(instant?.headers.authorization).toBe('Bearer tkn');
  });

  it('drops __name__ and takes the latest sample of a matrix for instant queries', async () => {
    const series = {
      metric: { __name__: 'up', job: 'app' },
      values: [
        [1, '0'],
        [2, '1'],
      ],
    };
    recorder.respond = () => ({
      status: 200,
      body: { status: 'success', data: { resultType: 'matrix', result: [series] } },
    });
    const s = createPrometheusSource(spec(recorder.url), { secret: secrets() });
    expect(await s.instant('up[1m]', { check: 0 })).toEqual([{ labels: { job: 'app' }, value: 1 }]);
  });

  it('maps execution errors (422) to BAD_QUERY and overload (503) to UNAVAILABLE', async () => {
    const s = createPrometheusSource(spec(recorder.url), { secret: secrets() });
    recorder.respond = () => ({
      status: 422,
      body: { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' },
    });
    await expect(s.instant('a / b', { check: 0 })).rejects.toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('many-to-many'),
    });
    recorder.respond = () => ({
      status: 503,
      body: { status: 'error', errorType: 'timeout', error: 'query timed out' },
    });
    await expect(s.instant('a', { check: 0 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('query timed out'),
    });
  });

  it('calls a JSON answer of the wrong shape UNPARSABLE', async () => {
    recorder.respond = () => ({
      status: 200,
      body: { status: 'success', data: { resultType: 'vector', result: 'oops' } },
    });
    const s = createPrometheusSource(spec(recorder.url), { secret: secrets() });
    await expect(s.instant('up', { check: 0 })).rejects.toMatchObject({ code: 'UNPARSABLE' });
  });

  it('fails with CONFIG, naming the secret, when the token is not set', async () => {
    const before = recorder.requests.length;
    const s = createPrometheusSource(spec(recorder.url), { secret: secrets({}) });
    await expect(s.instant('up', { check: 0 })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining('secret "prom-token" is not set'),
    });
    expect(recorder.requests).toHaveLength(before);
  });

  it('reaches a multi-tenant Prometheus: basic auth, a plain X-Scope-OrgID and an X-Api-Key from a secret', async () => {
    recorder.respond = () => ({ status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } });
    const { secret } = catalogSecrets(
      { 'mimir-password': { env: 'MIMIR_PASSWORD' }, 'gateway-key': { env: 'GATEWAY_KEY' } },
      { MIMIR_PASSWORD: 'mimir-pw-value', GATEWAY_KEY: 'gateway-key-value' },
    );
    const s = createPrometheusSource(
      PrometheusSource.parse({
        type: 'prometheus',
        url: `${recorder.url}/prometheus`,
        auth: { basic: { username: 'rollouts', password: 'mimir-password' } },
        headers: { 'X-Scope-OrgID': 'checkout', 'X-Api-Key': { secret: 'gateway-key' } },
      }),
      { secret },
    );
    await s.instant('up', { check: 0 });
    const sent = recorder.requests.at(-1)!.headers;
    expect(sent.authorization).toBe(`Basic ${Buffer.from('rollouts:mimir-pw-value').toString('base64')}`);
    expect(sent['x-scope-orgid']).toBe('checkout');
    expect(sent['x-api-key']).toBe('gateway-key-value');
  });

  it('never repeats the token when Prometheus (or a proxy) echoes it in an error', async () => {
    recorder.respond = (req) => ({
      status: 401,
      body: { status: 'error', errorType: 'auth', error: `refused ${String(req.headers.authorization)}` },
    });
    const failure = (await createPrometheusSource(spec(recorder.url), {
      secret: secrets({ PROM_TOKEN: 'prom-s3cret' }),
    })
      .instant('up', { check: 0 })
      .catch((e: unknown) => e)) as SourceError;
    expect(failure).toMatchObject({ code: 'CONFIG' });
    expect(failure.message).toContain('refused [redacted]');
    expect(failure.message).not.toContain('prom-s3cret');
  });
});

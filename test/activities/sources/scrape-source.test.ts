import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluateGuard } from '../../../activities/guards/evaluate-guard.js';
import { createMetricSource, SourceError, type MetricSource } from '../../../activities/sources/index.js';
import { parseScrapeExpression } from '../../../activities/sources/scrape/scrape-expression.js';
import { parseExposition } from '../../../activities/sources/scrape/text-format.js';
import { MetricSourceSpec, ThresholdGuard } from '../../../src/domain/guard-spec.schema.js';
import { catalogSecrets } from '../catalog-secrets.js';

/** A real prom-client registry behind a real HTTP server, as an app would expose it. */
let registry: Registry;
let requests: Counter<'variant' | 'code'>;
let latency: Histogram<'variant'>;
let inflight: Gauge;
let server: Server;
let base: string;
let answer: { status: number; body: string } | undefined;
let endpoint = 0;
/** The headers of every scrape the endpoint answered, in order. */
let scraped: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    scraped.push(req.headers);
    if (answer) return void res.writeHead(answer.status).end(answer.body);
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  registry = new Registry();
  requests = new Counter({
    name: 'app_requests_total',
    help: 'requests',
    labelNames: ['variant', 'code'],
    registers: [registry],
  });
  latency = new Histogram({
    name: 'app_latency_seconds',
    help: 'latency',
    labelNames: ['variant'],
    buckets: [0.1, 0.5],
    registers: [registry],
  });
  inflight = new Gauge({ name: 'app_inflight', help: 'in flight', registers: [registry] });
  answer = undefined;
  scraped = [];
});

/** A source on its own URL: scrape history is kept per URL, so tests do not see each other's scrapes. */
function source(): MetricSource {
  endpoint += 1;
  return createMetricSource(MetricSourceSpec.parse({ type: 'scrape', url: `${base}/metrics?endpoint=${endpoint}` }));
}
const at = { check: 0 };
/** Past the 250 ms within which queries share one scrape. */
const nextScrape = () => sleep(300);

describe('scrape source against a prom-client registry over HTTP', () => {
  it('value() sums the matching samples of one scrape', async () => {
    const s = source();
    inflight.set(3);
    requests.inc({ variant: 'new', code: '200' }, 5);
    requests.inc({ variant: 'old', code: '200' }, 7);

    expect(await s.instant('value(app_inflight)', at)).toEqual([{ labels: {}, value: 3 }]);
    expect(await s.instant('value(app_requests_total{code="200"})', at)).toEqual([{ labels: {}, value: 12 }]);
    expect(await s.instant('value(app_requests_total{variant!="old"})', at)).toEqual([{ labels: {}, value: 5 }]);
    expect(await s.instant('value(no_such_metric)', at)).toEqual([]);
  });

  it('ratio() is the error share of the requests between two scrapes, not since the process started', async () => {
    const s = source();
    requests.inc({ variant: 'new', code: '500' }, 50); // before the window: must not count
    requests.inc({ variant: 'new', code: '200' }, 50);
    const ratio = 'ratio(app_requests_total{variant="new",code=~"5.."} / app_requests_total{variant="new"} [10s])';

    expect(await s.instant(ratio, at)).toEqual([]); // the first scrape has nothing to compare with
    await nextScrape();
    requests.inc({ variant: 'new', code: '500' }, 3);
    requests.inc({ variant: 'new', code: '200' }, 27);
    requests.inc({ variant: 'old', code: '500' }, 100);

    expect(await s.instant(ratio, at)).toEqual([{ labels: {}, value: 0.1 }]);
  });

  it('ratio() of a histogram’s _sum and _count is the mean latency; no requests is no data, not 0', async () => {
    const s = source();
    const mean = 'ratio(app_latency_seconds_sum{variant="new"} / app_latency_seconds_count{variant="new"} [10s])';
    latency.observe({ variant: 'new' }, 0);
    await s.instant(mean, at);
    await nextScrape();

    expect(await s.instant(mean, at)).toEqual([{ labels: {}, value: null }]);
    await nextScrape();
    latency.observe({ variant: 'new' }, 0.1);
    latency.observe({ variant: 'new' }, 0.3);

    const [point] = await s.instant(mean, at);
    expect(point!.value).toBeCloseTo(0.2, 10);
  });

  it('increase() and rate() without a range compare with the previous scrape at least 1 s older', async () => {
    const s = source();
    requests.inc({ variant: 'new', code: '200' }, 10);
    await s.instant('increase(app_requests_total)', at);
    await nextScrape();
    requests.inc({ variant: 'new', code: '200' }, 4);

    expect(await s.instant('increase(app_requests_total)', at)).toEqual([]); // only 300 ms older
    await sleep(800);
    requests.inc({ variant: 'new', code: '200' }, 6);

    expect(await s.instant('increase(app_requests_total)', at)).toEqual([{ labels: {}, value: 10 }]);
    const [rate] = await s.instant('rate(app_requests_total[5s])', at);
    expect(rate!.value).toBeGreaterThan(10 / 1.5);
    expect(rate!.value).toBeLessThan(10 / 1.0);
  });

  it('a counter that went down was reset: its new value is all growth', async () => {
    const s = source();
    requests.inc({ variant: 'new', code: '200' }, 100);
    await s.instant('increase(app_requests_total[10s])', at);
    await nextScrape();
    registry.resetMetrics();
    requests.inc({ variant: 'new', code: '200' }, 4);

    expect(await s.instant('increase(app_requests_total[10s])', at)).toEqual([{ labels: {}, value: 4 }]);
  });

  it('judged by a threshold guard, a regression fails and a healthy canary passes', async () => {
    const s = source();
    const guard = ThresholdGuard.parse({
      name: 'errors',
      source: { type: 'scrape', url: base },
      query: 'ratio(app_requests_total{code="500"} / app_requests_total [$window])',
      max: 0.05,
    });
    const ctx = (windowStartMs: number) => ({ check: 0, nowMs: Date.now(), windowStartMs });
    requests.inc({ variant: 'new', code: '200' }, 0);
    await evaluateGuard(guard, s, ctx(Date.now()));
    await nextScrape();
    requests.inc({ variant: 'new', code: '200' }, 99);
    requests.inc({ variant: 'new', code: '500' }, 1);

    expect(await evaluateGuard(guard, s, ctx(Date.now() - 2_000))).toMatchObject([
      { verdict: 'Successful', value: 0.01 },
    ]);
    await nextScrape();
    requests.inc({ variant: 'new', code: '500' }, 100);
    expect(await evaluateGuard(guard, s, ctx(Date.now() - 2_000))).toMatchObject([{ verdict: 'Failed' }]);
  });

  it('maps failures to source errors: 404 is CONFIG, 503 UNAVAILABLE, HTML UNPARSABLE, range queries BAD_QUERY', async () => {
    const cases: [{ status: number; body: string } | 'down', SourceError['code'], RegExp][] = [
      [{ status: 404, body: 'not found' }, 'CONFIG', /HTTP 404: not found/],
      [{ status: 503, body: 'busy' }, 'UNAVAILABLE', /HTTP 503/],
      [{ status: 200, body: '<!doctype html><html></html>' }, 'UNPARSABLE', /line 1 is not Prometheus text format/],
      ['down', 'UNAVAILABLE', /unreachable/],
    ];
    for (const [reply, code, message] of cases) {
      answer = reply === 'down' ? undefined : reply;
      const s =
        reply === 'down'
          ? createMetricSource({ type: 'scrape', url: 'http://127.0.0.1:9/metrics', timeoutMs: 2_000 })
          : source();
      const failure = await s.instant('value(x)', at).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(SourceError);
      expect(failure).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    await expect(source().range('value(x)', { check: 0, startMs: 0, endMs: 1, stepMs: 1 })).rejects.toMatchObject({
      code: 'BAD_QUERY',
    });
  });
});

describe('scrape source credentials from the catalog', () => {
  /** A catalog provider for the endpoint: a bearer token from a file secret and a plain tenant header. */
  function provider() {
    endpoint += 1;
    return MetricSourceSpec.parse({
      type: 'scrape',
      url: `${base}/metrics?endpoint=${endpoint}`,
      auth: { bearer: 'scrape-token' },
      headers: { 'X-Scope-OrgID': 'checkout' },
    });
  }

  it('scrapes with the bearer token read from the secret’s file (relative to the catalog) and the entry’s headers', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scrape-secret-'));
    await writeFile(path.join(dir, 'scrape.token'), 'scrape-token-value\n');
    const { secret } = catalogSecrets({ 'scrape-token': { file: 'scrape.token' } }, {}, dir);
    inflight.set(2);
    expect(await createMetricSource(provider(), { secret }).instant('value(app_inflight)', at)).toEqual([
      { labels: {}, value: 2 },
    ]);
    expect(scraped).toHaveLength(1);
    expect(scraped[0]).toMatchObject({ authorization: 'Bearer scrape-token-value', 'x-scope-orgid': 'checkout' });
  });

  it('fails with CONFIG naming the secret when its file is missing, and scrapes nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scrape-secret-'));
    const { secret } = catalogSecrets({ 'scrape-token': { file: 'scrape.token' } }, {}, dir);
    const failure = await createMetricSource(provider(), { secret })
      .instant('value(app_inflight)', at)
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining('secret "scrape-token" cannot be read from its file (ENOENT)'),
    });
    expect(scraped).toEqual([]);
  });
});

describe('the scrape expression form (not PromQL)', () => {
  it('reads selectors with every matcher, escapes and an optional range', () => {
    expect(parseScrapeExpression('ratio(a{code=~"5..", path!~"/health.*",} / b{x="say \\"hi\\""}[1m])')).toMatchObject({
      fn: 'ratio',
      numerator: {
        name: 'a',
        matchers: [
          { label: 'code', op: '=~' },
          { label: 'path', op: '!~' },
        ],
      },
      denominator: { name: 'b', matchers: [{ label: 'x', op: '=', value: 'say "hi"' }] },
      rangeMs: 60_000,
    });
    expect(parseScrapeExpression('rate( m{} )')).toEqual({ fn: 'rate', selector: { name: 'm', matchers: [] } });
  });

  it.each([
    ['sum(rate(x[5m]))', /one of the functions value, increase, rate or ratio/],
    ['ratio(a)', /two selectors separated by "\/"/],
    ['rate(x{code=5})', /expected label="value"/],
    ['rate(x{code=~"(("})', /invalid regex for code/],
    ['rate(x[soon])', /must be a duration/],
    ['value(x[5m])', /value\(\) takes no range/],
  ])('rejects %s as a BAD_QUERY that shows the accepted form', (expression, why) => {
    expect(() => parseScrapeExpression(expression)).toThrow(why);
    expect(() => parseScrapeExpression(expression)).toThrow(/Accepted \(not PromQL\)/);
  });

  it('parses the text format: labels with escapes, special values, comments and timestamps', () => {
    const text = [
      '# HELP x help',
      '# TYPE x counter',
      'x{a="1,2",b="q\\"\\n"} 3 1700000000000',
      'y +Inf',
      'z{} NaN',
      '',
    ].join('\n');
    const samples = parseExposition(text, 'test');
    expect(samples.map((s) => [s.name, s.labels, s.value])).toEqual([
      ['x', { a: '1,2', b: 'q"\n' }, 3],
      ['y', {}, Infinity],
      ['z', {}, NaN],
    ]);
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpJsonSource, evaluateJsonPath } from '../../../activities/sources/http-json/http-json-source.js';
import { createMetricSource, SourceError } from '../../../activities/sources/index.js';
import { HttpJsonSource } from '../../../src/domain/guard-spec.schema.js';
import { catalogSecrets } from '../catalog-secrets.js';

const TOKEN = 'metrics-s3cr3t-token';

/** The next answer of the fake metrics endpoint; `hang` never answers, to exercise the timeout. */
let reply: { status: number; body: string } | 'hang' = { status: 200, body: '{}' };
let seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let url: string;

const json = (body: unknown, status = 200) => ({ status, body: JSON.stringify(body) });

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (reply === 'hang') return;
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/checkout`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  reply = { status: 200, body: '{}' };
  seen = [];
});

/** The provider's catalog entry names the secret `metrics-token` as its bearer; the catalog reads it from METRICS_TOKEN. */
function source(overrides: Partial<HttpJsonSource> = {}, env: NodeJS.ProcessEnv = { METRICS_TOKEN: TOKEN }) {
  const { secret } = catalogSecrets({ 'metrics-token': { env: 'METRICS_TOKEN' } }, env);
  // the URL as given, unchecked: schemas refuse credentials in URLs, and the source must still never show any
  const spec = HttpJsonSource.parse({ type: 'http-json', auth: { bearer: 'metrics-token' }, ...overrides, url });
  return createHttpJsonSource({ ...spec, url: overrides.url ?? url }, { secret });
}
const now = { check: 0 };
const window = { check: 0, startMs: 0, endMs: 60_000, stepMs: 15_000 };

describe('JSON path evaluation', () => {
  const doc = {
    a: { b: 0.02, list: [{ b: 1 }, { b: 2 }] },
    items: [{ latency: 120 }, { latency: 180 }, { other: true }, { latency: 95 }],
    'key with space': 7,
    data: { 'eu-west': { rate: 0.4 }, 'us-east': { rate: 0.1 } },
  };

  it.each([
    ['$.a.b', 0.02],
    ['$.a.list[0].b', 1],
    ['$.a.list[-1].b', 2],
    ["$['key with space']", 7],
    ['$["data"]["eu-west"].rate', 0.4],
    ['$.items[*].latency', [120, 180, 95]],
    ['$.data.*.rate', [0.4, 0.1]],
    ['$.a.missing', undefined],
    ['$.a.list[9].b', undefined],
    ['$.missing[*].x', []],
    ['$', doc],
  ])('%s', (path, expected) => {
    expect(evaluateJsonPath(path, doc)).toEqual(expected);
  });

  it.each(['a.b', '$.a[', '$..a', "$['unterminated]", '$.a b'])('rejects %s as BAD_QUERY', (path) => {
    expect(() => evaluateJsonPath(path, doc)).toThrow(SourceError);
    expect(() => evaluateJsonPath(path, doc)).toThrow(/bad JSON path/);
  });
});

describe('http-json source', () => {
  it('reads a number at the path as one unlabelled point, sending the bearer token', async () => {
    reply = json({ data: { errorRate: 0.013 } });
    expect(await source().instant('$.data.errorRate', now)).toEqual([{ labels: {}, value: 0.013 }]);
    expect(seen[0]).toMatchObject({ url: '/stats/checkout', headers: { authorization: `Bearer ${TOKEN}` } });
  });

  it('treats a missing value or null as no data', async () => {
    reply = json({ data: { errorRate: null } });
    expect(await source().instant('$.data.errorRate', now)).toEqual([]);
    expect(await source().instant('$.data.nothing', now)).toEqual([]);
    expect(await source().range('$.data.nothing', window)).toEqual([]);
  });

  it('reads labelled points, one per element', async () => {
    reply = json({
      cohorts: [
        { labels: { region: 'eu-west' }, value: 0.3 },
        { labels: { region: 'us-east' }, value: null },
        { value: 1 },
      ],
    });
    expect(await source().instant('$.cohorts', now)).toEqual([
      { labels: { region: 'eu-west' }, value: 0.3 },
      { labels: { region: 'us-east' }, value: null },
      { labels: {}, value: 1 },
    ]);
  });

  it('reads an array of numbers as one sample set for range queries, and refuses it for instant ones', async () => {
    reply = json({ items: [{ latency: 120 }, { latency: null }, { latency: 95 }] });
    expect(await source().range('$.items[*].latency', window)).toEqual([{ labels: {}, values: [120, 95] }]);
    await expect(source().instant('$.items[*].latency', now)).rejects.toMatchObject({
      code: 'UNPARSABLE',
      message: expect.stringContaining('query it as a range'),
    });
  });

  it('reads labelled sample sets for range queries', async () => {
    reply = json({
      series: [
        { labels: { variant: 'on' }, values: [1, 2] },
        { labels: { variant: 'off' }, values: [3] },
      ],
    });
    expect(await source().range('$.series', window)).toEqual([
      { labels: { variant: 'on' }, values: [1, 2] },
      { labels: { variant: 'off' }, values: [3] },
    ]);
  });

  it('calls an unexpected shape UNPARSABLE', async () => {
    reply = json({ data: { errorRate: '0.2' } });
    await expect(source().instant('$.data.errorRate', now)).rejects.toMatchObject({ code: 'UNPARSABLE' });
    await expect(source().range('$.data', window)).rejects.toMatchObject({ code: 'UNPARSABLE' });
  });

  it('calls a body that is not JSON UNPARSABLE', async () => {
    reply = { status: 200, body: '<html>maintenance</html>' };
    await expect(source().instant('$.x', now)).rejects.toMatchObject({
      code: 'UNPARSABLE',
      message: expect.stringContaining('maintenance'),
    });
  });

  it('rejects a malformed path before sending anything', async () => {
    await expect(source().instant('data.errorRate', now)).rejects.toMatchObject({ code: 'BAD_QUERY' });
    expect(seen).toHaveLength(0);
  });

  it.each([
    [400, 'BAD_QUERY'],
    [422, 'BAD_QUERY'],
    [401, 'CONFIG'],
    [404, 'CONFIG'],
    [429, 'UNAVAILABLE'],
    [503, 'UNAVAILABLE'],
  ])('maps HTTP %i to %s, with the server’s error text, the URL and the query', async (status, code) => {
    reply = json({ status: 'error', error: `nope ${status}` }, status);
    const failure = await source()
      .instant('$.data.errorRate', now)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({ code, message: expect.stringContaining(`HTTP ${status}: nope ${status}`) });
    expect((failure as Error).message).toContain(url);
    expect((failure as Error).message).toContain('"$.data.errorRate"');
  });

  it('times out as UNAVAILABLE after timeoutMs', async () => {
    reply = 'hang';
    await expect(source({ timeoutMs: 200 }).instant('$.x', now)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('no answer within 200 ms'),
    });
  });

  it('rethrows the caller’s abort as is (activity cancellation is not an outage)', async () => {
    reply = 'hang';
    const caller = new AbortController();
    const pending = source().instant('$.x', { check: 0, signal: caller.signal });
    setTimeout(() => caller.abort(new Error('activity cancelled')), 50);
    await expect(pending).rejects.toThrow('activity cancelled');
  });

  it('reports a refused connection as UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const s = source({ url: `http://127.0.0.1:${port}/x` });
    await expect(s.instant('$.x', now)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('never quotes a URL’s credentials in an error, nor keeps the raw error (with the URL) as its cause', async () => {
    const s = source({ url: `http://ops:s3cret-pw@127.0.0.1:1/x` });
    const err = (await s.instant('$.x', now).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).not.toContain('s3cret-pw');
    expect(err.cause).toBeUndefined();
  });

  it('fails with CONFIG when the token secret is not set, naming the secret and sending nothing', async () => {
    const failure = await source({}, { OTHER: TOKEN })
      .instant('$.x', now)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('secret "metrics-token"') });
    expect((failure as Error).message).not.toContain(TOKEN);
    expect(seen).toHaveLength(0);
  });

  it('sends the entry’s headers: a plain tenant header and an API key read from a secret', async () => {
    const API_KEY = 'stats-api-key-value';
    const { secret } = catalogSecrets({ 'stats-key': { env: 'STATS_KEY' } }, { STATS_KEY: API_KEY });
    const spec = HttpJsonSource.parse({
      type: 'http-json',
      url,
      headers: { 'X-Scope-OrgID': 'tenant-7', 'X-Api-Key': { secret: 'stats-key' } },
    });
    reply = json({ v: 2 });
    expect(await createHttpJsonSource(spec, { secret }).instant('$.v', now)).toEqual([{ labels: {}, value: 2 }]);
    expect(seen[0]?.headers).toMatchObject({ 'x-scope-orgid': 'tenant-7', 'x-api-key': API_KEY });
    expect(seen[0]?.headers.authorization).toBeUndefined();

    reply = json({ error: `unknown key ${API_KEY}` }, 403);
    const failure = (await createHttpJsonSource(spec, { secret })
      .instant('$.v', now)
      .catch((e: unknown) => e)) as SourceError;
    expect(failure).toMatchObject({ code: 'CONFIG' });
    expect(failure.message).toContain('unknown key [redacted]');
  });

  it('never repeats the token, even when the server echoes it', async () => {
    reply = json({ error: `bad token ${TOKEN}` }, 400);
    const failure = (await source()
      .instant('$.x', now)
      .catch((e: unknown) => e)) as Error;
    expect(failure.message).not.toContain(TOKEN);
    expect(failure.message).toContain('[redacted]');
  });

  it('is what createMetricSource builds for an http-json spec', async () => {
    reply = json({ v: 1 });
    const s = createMetricSource(HttpJsonSource.parse({ type: 'http-json', url }));
    expect(s.describe).toBe(`http-json:${url}`);
    expect(await s.instant('$.v', now)).toEqual([{ labels: {}, value: 1 }]);
  });
});

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricSource, SourceError, type MetricSource } from '../../../activities/sources/index.js';
import { InfluxDbSource, InlineSourceSpec } from '../../../src/domain/guard-spec.schema.js';
import { startInfluxDb, type RunningInfluxDb } from '../../helpers/influxdb.js';
import { catalogSecrets } from '../catalog-secrets.js';

const DB = 'rollouts';
const READER = { username: 'guard', password: 'guard-reader-pw-7c1e' };
/** Points start here: on a minute boundary ten minutes ago, so GROUP BY time() buckets line up with them. */
const T0 = Math.floor((Date.now() - 600_000) / 60_000) * 60_000;
const at = (s: number) => T0 + s * 1_000;

/** An HS256 JWT as InfluxDB 1.x checks it (`shared-secret`): the user's name and an expiry. */
function jwt(key: string, username: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ username, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

async function failureOf(promise: Promise<unknown>): Promise<SourceError> {
  const failure = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(SourceError);
  return failure as SourceError;
}

describe('InfluxDB source against a real InfluxDB 1.x (auth on)', () => {
  let influx: RunningInfluxDb;
  let source: MetricSource;
  const env = { INFLUX_PASSWORD: READER.password, INFLUX_ADMIN_PASSWORD: '', INFLUX_JWT: '' };
  const { secret } = catalogSecrets(
    {
      'influx-password': { env: 'INFLUX_PASSWORD' },
      'influx-admin-password': { env: 'INFLUX_ADMIN_PASSWORD' },
      'influx-jwt': { env: 'INFLUX_JWT' },
    },
    env,
  );
  /** A catalog provider entry: the reader's password by secret name. */
  const provider = (extra: Partial<InfluxDbSource> = {}) =>
    InfluxDbSource.parse({
      type: 'influxdb',
      url: influx.url,
      database: DB,
      auth: { basic: { username: READER.username, password: 'influx-password' } },
      ...extra,
    });

  beforeAll(async () => {
    // Fails (never skips) with "Run scripts/ensure-influxdb.sh" when influxd is missing.
    influx = await startInfluxDb();
    env.INFLUX_ADMIN_PASSWORD = influx.admin.password;
    env.INFLUX_JWT = jwt(influx.sharedSecret, READER.username);
    await influx.exec(`CREATE DATABASE ${DB}`);
    await influx.exec(`CREATE USER ${READER.username} WITH PASSWORD '${READER.password}'`);
    await influx.exec(`GRANT READ ON ${DB} TO ${READER.username}`);
    await influx.write(DB, [
      // eu-west's canary degrades at +20 s; us-east stays healthy; the baseline is steady.
      `http_errors,region=eu-west,variant=on ratio=0.01 ${at(0)}`,
      `http_errors,region=eu-west,variant=on ratio=0.02 ${at(10)}`,
      `http_errors,region=eu-west,variant=on ratio=0.3 ${at(20)}`,
      `http_errors,region=us-east,variant=on ratio=0.01 ${at(0)}`,
      `http_errors,region=us-east,variant=on ratio=0.03 ${at(10)}`,
      `http_errors,region=us-east,variant=on ratio=0.02 ${at(20)}`,
      `http_errors,region=eu-west,variant=off ratio=0.01 ${at(20)}`,
      `deploys,service=checkout version="v2" ${at(0)}`,
    ]);
    source = createMetricSource(provider(), { secret });
  });

  afterAll(async () => {
    await influx?.stop();
  });

  it('answers an instant query with each series’ last value, its tags as labels', async () => {
    const points = await source.instant(
      `SELECT last("ratio") FROM "http_errors" WHERE "variant" = 'on' GROUP BY "region"`,
      { check: 0 },
    );
    expect(points).toEqual([
      { labels: { region: 'eu-west' }, value: 0.3 },
      { labels: { region: 'us-east' }, value: 0.02 },
    ]);
  });

  it('reads as of ctx.atMs through :end:', async () => {
    const points = await source.instant(
      `SELECT last(ratio) FROM http_errors WHERE variant = 'on' AND time > :end: - 1m AND time <= :end: GROUP BY region`,
      { check: 0, atMs: at(15) },
    );
    expect(points).toEqual([
      { labels: { region: 'eu-west' }, value: 0.02 },
      { labels: { region: 'us-east' }, value: 0.03 },
    ]);
  });

  it('takes the last non-null bucket when GROUP BY time() ends in empty ones', async () => {
    const query = `SELECT mean(ratio) FROM http_errors WHERE time > :end: - 40s AND time <= :end: GROUP BY time(10s), variant`;
    const points = await source.instant(query, { check: 0, atMs: at(45) });
    expect(points).toEqual([
      { labels: { variant: 'off' }, value: 0.01 },
      { labels: { variant: 'on' }, value: (0.3 + 0.02) / 2 },
    ]);
  });

  it('answers a range query with the values between :start: and :end:', async () => {
    const sets = await source.range(
      `SELECT ratio FROM http_errors WHERE variant = 'on' AND time >= :start: AND time <= :end: GROUP BY region`,
      { check: 0, startMs: at(5), endMs: at(25), stepMs: 10_000 },
    );
    expect(sets).toEqual([
      { labels: { region: 'eu-west' }, values: [0.02, 0.3] },
      { labels: { region: 'us-east' }, values: [0.03, 0.02] },
    ]);
    const buckets = await source.range(
      `SELECT max(ratio) FROM http_errors WHERE time >= :start: AND time < :end: GROUP BY time(:step:), region fill(none)`,
      { check: 0, startMs: at(0), endMs: at(30), stepMs: 20_000 },
    );
    expect(buckets).toEqual([
      { labels: { region: 'eu-west' }, values: [0.02, 0.3] },
      { labels: { region: 'us-east' }, values: [0.03, 0.02] },
    ]);
  });

  it('returns no points for a query that matches nothing', async () => {
    expect(await source.instant(`SELECT last(ratio) FROM http_errors WHERE region = 'ap-south'`, { check: 0 })).toEqual(
      [],
    );
    expect(await source.instant('SELECT last(ratio) FROM no_such_measurement', { check: 0 })).toEqual([]);
    const range = { check: 0, startMs: at(100), endMs: at(200), stepMs: 10_000 };
    expect(await source.range('SELECT ratio FROM http_errors WHERE time >= :start: AND time <= :end:', range)).toEqual(
      [],
    );
  });

  it('reports bad InfluxQL as BAD_QUERY with InfluxDB’s own message', async () => {
    const parse = await failureOf(source.instant('SELECT last(ratio FROM http_errors', { check: 0 }));
    expect(parse).toMatchObject({ code: 'BAD_QUERY', message: expect.stringContaining('error parsing query') });
    expect(parse.message).toContain(`${influx.url}/query`);
    const statement = await failureOf(source.instant('SELECT nope(ratio) FROM http_errors', { check: 0 }));
    expect(statement).toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('undefined function nope()'),
    });
  });

  it('refuses queries a guard cannot read: several columns, text values, no time bounds', async () => {
    const star = await failureOf(source.instant('SELECT * FROM http_errors', { check: 0 }));
    expect(star).toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringContaining('selects 3 columns (ratio, region, variant)'),
    });
    const text = await failureOf(source.instant('SELECT version FROM deploys', { check: 0 }));
    expect(text).toMatchObject({ code: 'UNPARSABLE', message: expect.stringContaining('version holds text') });
    const unbounded = await failureOf(
      source.range('SELECT ratio FROM http_errors', { check: 0, startMs: at(0), endMs: at(30), stepMs: 10_000 }),
    );
    expect(unbounded).toMatchObject({ code: 'BAD_QUERY', message: expect.stringContaining(':start: and :end:') });
    const start = await failureOf(source.instant('SELECT ratio FROM http_errors WHERE time >= :start:', { check: 0 }));
    expect(start).toMatchObject({ code: 'BAD_QUERY', message: expect.stringContaining('only for range queries') });
  });

  it('never sends a statement that writes, which InfluxDB would run even over GET', async () => {
    // InfluxDB 1.x runs a DROP sent with GET (it only logs a deprecation warning): the source must refuse it.
    await influx.exec('CREATE DATABASE scratch');
    const get = new URL(`${influx.url}/query`);
    get.search = new URLSearchParams({ q: 'DROP DATABASE scratch', u: 'admin', p: influx.admin.password }).toString();
    expect((await fetch(get)).status).toBe(200);
    get.search = new URLSearchParams({ q: 'SHOW DATABASES', u: 'admin', p: influx.admin.password }).toString();
    expect(await (await fetch(get)).text()).not.toContain('scratch');
    const admin = createMetricSource(
      provider({ auth: { basic: { username: 'admin', password: 'influx-admin-password' } } }),
      { secret },
    );
    expect(await admin.instant('SELECT last(ratio) FROM http_errors', { check: 0 })).toHaveLength(1);

    for (const query of [
      `DROP DATABASE ${DB}`,
      'SELECT ratio INTO copied FROM http_errors',
      `SELECT last(ratio) FROM http_errors; DROP DATABASE ${DB}`,
      `SELECT last(ratio) FROM http_errors WHERE region = 'x;' ; DROP DATABASE ${DB}`,
    ]) {
      expect(await failureOf(admin.instant(query, { check: 0 }))).toMatchObject({ code: 'BAD_QUERY' });
    }
    const after = `SELECT last(ratio) FROM http_errors WHERE region = 'eu-west' AND variant = 'on'`;
    expect(await admin.instant(after, { check: 0 })).toEqual([{ labels: {}, value: 0.3 }]);
  });

  it('calls an unknown database a CONFIG error', async () => {
    const admin = createMetricSource(
      provider({ database: 'nope', auth: { basic: { username: 'admin', password: 'influx-admin-password' } } }),
      { secret },
    );
    const failure = await failureOf(admin.instant('SELECT last(ratio) FROM http_errors', { check: 0 }));
    expect(failure).toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining('database "nope" does not exist'),
    });
  });

  it('authenticates with a JWT bearer token signed with the shared secret', async () => {
    const bearer = createMetricSource(provider({ auth: { bearer: 'influx-jwt' } }), { secret });
    expect(await bearer.instant(`SELECT last(ratio) FROM http_errors WHERE region = 'us-east'`, { check: 0 })).toEqual([
      { labels: {}, value: 0.02 },
    ]);
  });

  it('names the secret, never the password, when InfluxDB refuses the credentials', async () => {
    const wrong = catalogSecrets(
      { 'influx-password': { env: 'INFLUX_PASSWORD' } },
      { INFLUX_PASSWORD: 'not-the-pw-41' },
    );
    const failure = await failureOf(
      createMetricSource(provider(), { secret: wrong.secret }).instant('SELECT last(ratio) FROM http_errors', {
        check: 0,
      }),
    );
    expect(failure.code).toBe('CONFIG');
    expect(failure.message).toContain('HTTP 401');
    expect(failure.message).toContain('secret "influx-password"');
    expect(failure.message).not.toContain('not-the-pw-41');
  });

  it('keeps credentials out of inline sources', () => {
    expect(InlineSourceSpec.safeParse({ type: 'influxdb', url: influx.url, database: DB }).success).toBe(true);
    const inline = InlineSourceSpec.safeParse({
      type: 'influxdb',
      url: influx.url,
      database: DB,
      auth: { bearer: 'x' },
    });
    expect(inline.success).toBe(false);
  });

  it('reports a stopped InfluxDB as UNAVAILABLE', async () => {
    await influx.stop();
    const failure = await failureOf(source.instant('SELECT last(ratio) FROM http_errors', { check: 0 }));
    expect(failure).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
  });
});

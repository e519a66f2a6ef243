import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricSource, SourceError, type MetricSource } from '../../../activities/sources/index.js';
import { PrometheusSource } from '../../../src/domain/guard-spec.schema.js';
import { freePort } from '../../../src/util/ports.js';
import { findPrometheus } from '../../helpers/prometheus.js';
import { startServerProcess, waitUntil, type ServerProcess } from '../../helpers/server-process.js';
import { catalogSecrets } from '../catalog-secrets.js';

/**
 * A test-only credential. Prometheus' web config takes bcrypt hashes only and neither Node nor the project has
 * bcrypt, so the hash is precomputed (cost 10) for this password and committed; it protects nothing but this test.
 */
const USER = 'rollouts';
const PASSWORD = 'rollouts-test-only-pw';
const PASSWORD_BCRYPT = '$2b$10$eXIBWXmStu0eKk7zuPYuKumwmVo4NdOG4sCSl4YknWLcsLCbTFfqG';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** A real Prometheus with basic auth on every endpoint, scraping itself (with the same credentials) every second. */
async function startPrometheusWithAuth(): Promise<{ url: string; server: ServerProcess }> {
  const dir = await mkdtemp(join(tmpdir(), 'rollout-prometheus-auth-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // JSON is YAML: no serializer needed.
  await writeFile(join(dir, 'web.yml'), JSON.stringify({ basic_auth_users: { [USER]: PASSWORD_BCRYPT } }));
  const scrape = {
    job_name: 'prometheus',
    scrape_interval: '1s',
    static_configs: [{ targets: [`127.0.0.1:${port}`] }],
    basic_auth: { username: USER, password: PASSWORD },
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify({ scrape_configs: [scrape] }));
  const server = await startServerProcess({
    what: 'prometheus',
    binary: findPrometheus(),
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--web.config.file=${join(dir, 'web.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`, { headers: { authorization: BASIC } })).ok,
  });
  return { url, server };
}

/** A reverse proxy in front of Prometheus that records the headers of each request it forwards. */
async function recordingProxy(
  upstream: string,
): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    const forward = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<SourceError> {
  const failure = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(SourceError);
  return failure as SourceError;
}

describe('Prometheus source against a real Prometheus behind basic auth', () => {
  let prometheus: { url: string; server: ServerProcess };
  /** The catalog's provider entry: the password by secret name, read from PROM_PASSWORD. */
  const provider = (url: string, extra: Partial<PrometheusSource> = {}) =>
    PrometheusSource.parse({
      type: 'prometheus',
      url,
      auth: { basic: { username: USER, password: 'prom-password' } },
      ...extra,
    });
  const secrets = (password: string) =>
    catalogSecrets({ 'prom-password': { env: 'PROM_PASSWORD' } }, { PROM_PASSWORD: password }).secret;
  let source: MetricSource;

  beforeAll(async () => {
    // Fails (never skips) with "Run scripts/ensure-prometheus.sh" when the binary is missing.
    prometheus = await startPrometheusWithAuth();
    source = createMetricSource(provider(prometheus.url), { secret: secrets(PASSWORD) });
    // Its self-scrape passes the same auth: wait for three successful ones, so a 2 s range has data throughout.
    const never = new Promise<never>(() => {});
    await waitUntil(30_000, never, async () => {
      const points = await source.instant('sum_over_time(up{job="prometheus"}[1m]) >= 3', { check: 0 });
      return points.length === 1;
    });
  });

  afterAll(async () => {
    await prometheus?.server.stop();
  });

  it('answers instant and range queries with the catalog’s basic credentials', async () => {
    const points = await source.instant('up{job="prometheus"}', { check: 0 });
    expect(points).toEqual([{ labels: { instance: new URL(prometheus.url).host, job: 'prometheus' }, value: 1 }]);
    const endMs = Date.now();
    const sets = await source.range('scalar(up{job="prometheus"}) * 2', {
      check: 0,
      startMs: endMs - 2_000,
      endMs,
      stepMs: 1_000,
    });
    expect(sets).toEqual([{ labels: {}, values: [2, 2, 2] }]);
  });

  it('is refused without credentials: CONFIG, HTTP 401', async () => {
    const anonymous = createMetricSource(PrometheusSource.parse({ type: 'prometheus', url: prometheus.url }));
    const failure = await failureOf(anonymous.instant('up', { check: 0 }));
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('HTTP 401') });
    expect(failure.message).toContain('(sent no credentials)');
  });

  it('reports a wrong password as a 401 without repeating it', async () => {
    const wrong = createMetricSource(provider(prometheus.url), { secret: secrets('wrong-pw-5e2b') });
    const failure = await failureOf(wrong.instant('up', { check: 0 }));
    expect(failure).toMatchObject({ code: 'CONFIG', message: expect.stringContaining('HTTP 401: Unauthorized') });
    expect(failure.message).toMatch(/sent user "\w+" with the password of secret "[a-z-]+"/);
    expect(failure.message).not.toContain('wrong-pw-5e2b');
    expect(failure.message).not.toContain(Buffer.from(`${USER}:wrong-pw-5e2b`).toString('base64'));
  });

  it('sends a tenant header (X-Scope-OrgID) with the credentials through a proxy', async () => {
    const proxy = await recordingProxy(prometheus.url);
    try {
      const tenant = createMetricSource(provider(proxy.url, { headers: { 'X-Scope-OrgID': 'checkout' } }), {
        secret: secrets(PASSWORD),
      });
      expect(await tenant.instant('scalar(up{job="prometheus"})', { check: 0 })).toEqual([{ labels: {}, value: 1 }]);
      expect(proxy.seen).toHaveLength(1);
      expect(proxy.seen[0]).toMatchObject({ 'x-scope-orgid': 'checkout', authorization: BASIC });
    } finally {
      await proxy.close();
    }
  });
});

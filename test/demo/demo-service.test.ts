import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { parseExposition } from '../../activities/sources/scrape/text-format.js';
import { DEMO_FLAG, demoCatalog, demoSpec } from '../../src/demo/demo-spec.js';
import { emptyCatalog, rootDir } from '../../src/catalog/load.js';
import { extendCatalog } from '../../src/catalog/dev-default.js';
import { checkSpec } from '../../src/spec/check.js';
import { FAULT, flagdDaemonFromEnv, startDemoService, type DemoService } from '../../src/demo/demo-service.js';
import { freePort } from '../../src/util/ports.js';
import { startLoad } from '../../src/demo/load.js';
import { waitFor } from '../helpers/rollout-env.js';

const target = (dir: string) =>
  createFlagdFileTarget(
    {
      type: 'flagd',
      path: 'flags.json',
      flag: DEMO_FLAG.key,
      variant: DEMO_FLAG.variant,
      baselineVariant: DEMO_FLAG.baselineVariant,
    },
    { baseDir: dir },
  );

async function checkout(service: DemoService, user: string): Promise<{ status: number; variant: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${service.url}/checkout?user=${user}`);
  const body = (await response.json()) as { variant: string };
  return { status: response.status, variant: body.variant, ms: performance.now() - started };
}

/** `demo_requests_total` per variant, read from the service's own /metrics. */
async function requestsByVariant(service: DemoService): Promise<Record<string, number>> {
  const samples = parseExposition(await (await fetch(`${service.url}/metrics`)).text(), 'demo');
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === 'demo_requests_total'))
    out[s.labels.variant!] = (out[s.labels.variant!] ?? 0) + s.value;
  return out;
}

describe('the demo service (OpenFeature + flagd provider, in-process, offline flag file)', () => {
  let dir: string;
  let service: DemoService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollout-demo-service-'));
    await target(dir).apply({ percent: 0, idempotencyKey: 'baseline' });
    service = await startDemoService({
      port: 0,
      flag: {
        file: join(dir, 'flags.json'),
        key: DEMO_FLAG.key,
        variant: DEMO_FLAG.variant,
        baselineVariant: DEMO_FLAG.baselineVariant,
      },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the baseline at 0%, and follows a rollout’s write to the flag file within a second', async () => {
    for (let i = 0; i < 20; i++) expect((await checkout(service, `u${i}`)).variant).toBe('old');

    await target(dir).apply({ percent: 50, idempotencyKey: 'half' });
    const writtenAt = Date.now();
    const probe = async () =>
      (await Promise.all(Array.from({ length: 20 }, (_, i) => checkout(service, `probe-${i}`)))).some(
        (r) => r.variant === 'new',
      );
    await waitFor(probe, 3_000, 'the new variant to be served');

    expect(Date.now() - writtenAt).toBeLessThan(1_500);
    const seen = await Promise.all(Array.from({ length: 400 }, (_, i) => checkout(service, `user-${i}`)));
    const share = seen.filter((r) => r.variant === 'new').length / seen.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    // the user id is the targeting key: the same user always lands on the same side
    const again = await Promise.all(seen.slice(0, 50).map((_, i) => checkout(service, `user-${i}`)));
    expect(again.map((r) => r.variant)).toEqual(seen.slice(0, 50).map((r) => r.variant));
  });

  it('the fault makes only the new variant slower and failing; POST /fault validates its body', async () => {
    expect((await fetch(`${service.url}/fault`, { method: 'POST', body: '{"on":"yes"}' })).status).toBe(400);
    const on = await fetch(`${service.url}/fault`, { method: 'POST', body: JSON.stringify({ on: true }) });
    expect(await on.json()).toEqual({ on: true });

    const seen = await Promise.all(Array.from({ length: 300 }, (_, i) => checkout(service, `user-${i}`)));
    service.setFault(false);

    const fresh = seen.filter((r) => r.variant === 'new');
    const old = seen.filter((r) => r.variant === 'old');
    expect(old.every((r) => r.status === 200)).toBe(true);
    const errorRate = fresh.filter((r) => r.status === 500).length / fresh.length;
    expect(errorRate).toBeGreaterThan(FAULT.errorRate - 0.15);
    expect(errorRate).toBeLessThan(FAULT.errorRate + 0.15);
    expect(Math.min(...fresh.map((r) => r.ms))).toBeGreaterThanOrEqual(FAULT.extraLatencyMs);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/demo_requests_total\{variant="new",code="500",path="served"\} [1-9]/);
    expect(metrics).toMatch(/demo_requests_total\{variant="old",code="500",path="served"\} 0/);
    expect(metrics).toMatch(/demo_request_duration_seconds_bucket\{le="0.5",variant="new",path="served"\}/);
  });

  it('the load generator sends real requests at its rate, for random users, and stops cleanly', async () => {
    const before = await requestsByVariant(service);
    const startedAt = performance.now();
    const load = startLoad({ url: service.url, rps: 200 });
    await new Promise((r) => setTimeout(r, 1_000));
    const stoppedAt = performance.now();
    await load.stop();
    const after = await requestsByVariant(service);

    // the rate holds over the time it actually ran (a busy machine stretches the 1 s sleep)
    const stats = load.stats();
    const expected = (200 * (stoppedAt - startedAt)) / 1000;
    expect(stats.sent).toBeGreaterThan(expected * 0.75);
    expect(stats.sent).toBeLessThan(expected * 1.1);
    expect(stats.ok + stats.errors).toBe(stats.sent);
    const served = (after.new ?? 0) + (after.old ?? 0) - (before.new ?? 0) - (before.old ?? 0);
    expect(served).toBeGreaterThanOrEqual(stats.ok);
    expect((after.new ?? 0) - (before.new ?? 0)).toBeGreaterThan(0); // 50%: both sides get traffic
  });

  it('in a shadow step, serves the baseline and runs the new variant too for the shadow share, comparing the answers', async () => {
    const count = async (name: string, labels: Record<string, string>) => {
      const samples = parseExposition(await (await fetch(`${service.url}/metrics`)).text(), 'demo');
      return samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    };
    await target(dir).apply({ percent: 0, shadow: 50, idempotencyKey: 'shadow' });
    const shadowRuns = () => count('demo_requests_total', { variant: 'new', path: 'shadow' });
    const before = await shadowRuns();
    await waitFor(async () => {
      await checkout(service, `shadow-probe-${Math.random()}`);
      return (await shadowRuns()) > before;
    }, 5_000);

    // healthy: every answer served is the baseline's, and the shadow path agrees
    const agreeBefore = await count('demo_shadow_comparisons_total', { outcome: 'agree' });
    const seen = await Promise.all(Array.from({ length: 200 }, (_, i) => checkout(service, `s-user-${i}`)));
    expect(seen.every((r) => r.variant === 'old' && r.status === 200)).toBe(true);
    await waitFor(async () => (await count('demo_shadow_comparisons_total', {})) - agreeBefore >= 60, 10_000);
    expect(await count('demo_shadow_comparisons_total', { outcome: 'disagree' })).toBe(0);
    const ran = (await count('demo_shadow_comparisons_total', {})) - agreeBefore;
    expect(ran).toBeGreaterThan(60); // about half of the 200 (and the probes)
    expect(ran).toBeLessThan(160);

    // the fault breaks only the new variant: still nobody is served it, but the shadow path now disagrees
    service.setFault(true);
    const faulty = await Promise.all(Array.from({ length: 100 }, (_, i) => checkout(service, `f-user-${i}`)));
    expect(faulty.every((r) => r.variant === 'old' && r.status === 200)).toBe(true);
    await waitFor(async () => (await count('demo_shadow_comparisons_total', { outcome: 'disagree' })) > 0, 10_000);
    service.setFault(false);
    await target(dir).apply({ percent: 0, idempotencyKey: 'shadow-off' });
  });

  it('without a Prometheus, the guard proxy answers 503', async () => {
    expect((await fetch(`${service.url}/prometheus/api/v1/query?query=up`)).status).toBe(503);
  });
});

describe('the demo rollout spec', () => {
  it.each([
    { kind: 'prometheus' as const, url: 'http://127.0.0.1:8090/prometheus' },
    { kind: 'scrape' as const, url: 'http://127.0.0.1:8090/metrics' },
  ])(
    'is valid with $kind metrics: shadow 10 %, then 1 → 10 → 50 → 100 %, with an error-ratio and a latency guard',
    (metrics) => {
      // the spec names only catalog entries; the demo adds them to an empty catalog, as `rollout dev --demo` does
      const loaded = emptyCatalog('/tmp');
      extendCatalog(loaded, demoCatalog({ metrics, baseDir: '/srv/app' }));
      const result = checkSpec(demoSpec({ window: '20s' }), loaded.catalog);
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.request.target).toBe(DEMO_FLAG.key);
      expect(result.spec.target).toMatchObject({
        type: 'flagd',
        root: 'demo',
        path: 'flags.json',
        flag: DEMO_FLAG.key,
      });
      expect(rootDir(loaded, 'demo')).toBe('/srv/app/.rollout/demo');
      expect(
        result.spec.steps.map((s) => ('exposure' in s ? s.exposure : 'shadow' in s ? `shadow ${s.shadow}` : s)),
      ).toEqual(['shadow 10', 1, 10, 50, 100]);
      expect(
        result.spec.guards.map((g) => ['source' in g && [g.name, g.source.type, g.interval, g.failureLimit]][0]),
      ).toEqual([
        ['canary-error-ratio', metrics.kind, '2s', 1],
        ['canary-latency-mean', metrics.kind, '2s', 1],
      ]);
      expect(result.spec.guards.map((g) => ('max' in g ? g.max : undefined))).toEqual([0.05, 0.2]);
    },
  );
});

describe('the demo service through a flagd daemon (FLAGD_* as flagd’s providers read them)', () => {
  it('reads the daemon from FLAGD_HOST, FLAGD_RESOLVER and the ports, with flagd’s defaults', () => {
    expect(flagdDaemonFromEnv({})).toBeUndefined();
    expect(flagdDaemonFromEnv({ FLAGD_HOST: '' })).toBeUndefined();
    expect(flagdDaemonFromEnv({ FLAGD_HOST: 'flagd' })).toEqual({ resolver: 'rpc', host: 'flagd', port: 8013 });
    expect(flagdDaemonFromEnv({ FLAGD_HOST: 'flagd', FLAGD_RESOLVER: 'IN-PROCESS' })).toEqual({
      resolver: 'in-process',
      host: 'flagd',
      port: 8015,
    });
    expect(flagdDaemonFromEnv({ FLAGD_HOST: 'f', FLAGD_RESOLVER: 'in-process', FLAGD_SYNC_PORT: '9015' })).toEqual({
      resolver: 'in-process',
      host: 'f',
      port: 9015,
    });
    expect(() => flagdDaemonFromEnv({ FLAGD_HOST: 'f', FLAGD_RESOLVER: 'grpc' })).toThrow(/FLAGD_RESOLVER/);
    expect(() => flagdDaemonFromEnv({ FLAGD_HOST: 'f', FLAGD_PORT: 'eighty' })).toThrow(/FLAGD_PORT/);
  });

  it('fails to start with the daemon’s address and a hint when no daemon answers there', async () => {
    const port = await freePort();
    const flag = { file: '/nonexistent/flags.json', key: DEMO_FLAG.key, variant: 'new', baselineVariant: 'old' };
    const started = startDemoService({ port: 0, flag, env: { FLAGD_HOST: '127.0.0.1', FLAGD_PORT: String(port) } });
    await expect(started).rejects.toThrow(`the flagd daemon at 127.0.0.1:${port} (rpc) is not reachable`);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { startMetricsApp, type Load, type MetricsApp } from '../fixtures/metrics-app.js';
import { startPrometheus, waitForScrape, type RunningPrometheus } from '../helpers/prometheus.js';
import { flagdSpec, rolloutHarness, uniqueFlag } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();
type Guard = NonNullable<RolloutSpecInput['guards']>[number];

const ERROR_RATE =
  'sum(rate(http_requests_total{variant="on",code=~"5.."}[4s])) / sum(rate(http_requests_total{variant="on"}[4s]))';
const ERROR_RATE_BY_REGION =
  'sum by (region) (rate(http_requests_total{variant="on",code=~"5.."}[4s])) / sum by (region) (rate(http_requests_total{variant="on"}[4s]))';

describe('guards against a real Prometheus scraping a real app', () => {
  let app: MetricsApp;
  let load: Load;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    app = await startMetricsApp({ seed: 11 });
    load = app.startLoad({ rps: 400 });
    prometheus = await startPrometheus({ scrapeTargets: [app.hostPort], scrapeIntervalMs: 500 });
    await waitForScrape(prometheus.url, prometheus.job, { minScrapes: 6 });
  });
  afterAll(async () => {
    load?.stop();
    await prometheus?.stop();
    await app?.stop();
  });

  async function rollout(guards: Guard[], observe = '3s') {
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('prom');
      const { workflowId } = await suite.client.start(
        flagdSpec(flag, [{ exposure: 10, observe }, { exposure: 100 }], { guards }),
        { taskQueue: h.taskQueue },
      );
      const result = await suite.client.result(workflowId);
      const file = await createFlagdFileTarget(
        { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
        { baseDir: h.dir },
      ).read();
      return { result, filePercent: file.percent };
    } finally {
      await h.stop();
    }
  }

  const errorRate = (extra: Partial<Guard> = {}): Guard =>
    ({
      name: 'error-rate',
      source: { type: 'prometheus', url: prometheus.url },
      query: ERROR_RATE,
      max: 0.05,
      interval: '500ms',
      ...extra,
    }) as Guard;

  it('a healthy canary completes', async () => {
    const { result, filePercent } = await rollout([errorRate()]);
    expect(result.phase).toBe('Completed');
    expect(filePercent).toBe(100);
    expect(result.guards[0]).toMatchObject({ verdict: 'Successful' });
    expect(result.guards[0]!.value).toBeLessThan(0.05);
  });

  it('a regression in one region only is caught per cohort', async () => {
    app.setBehaviour({ variant: 'on', region: 'eu-west', errorRate: 0.4 });
    try {
      const { result, filePercent } = await rollout(
        [errorRate({ query: ERROR_RATE_BY_REGION, perCohort: 'region', max: 0.1 })],
        '20s',
      );
      expect(result.phase).toBe('RolledBack');
      expect(filePercent).toBe(0);
      expect(result.measurements.at(-1)).toMatchObject({ cohort: 'eu-west', verdict: 'Failed' });
    } finally {
      app.setBehaviour({ variant: 'on', region: 'eu-west', errorRate: 0 });
    }
  });

  it('an injected 5xx regression in the "on" variant rolls back, judged against the baseline too', async () => {
    app.setBehaviour({ variant: 'on', errorRate: 0.3 });
    try {
      const twoProportion: Guard = {
        name: 'errors-vs-baseline',
        source: { type: 'prometheus', url: prometheus.url },
        compare: {
          canary: {
            errors: 'sum(increase(http_requests_total{variant="on",code=~"5.."}[$window]))',
            total: 'sum(increase(http_requests_total{variant="on"}[$window]))',
          },
          baseline: {
            errors: 'sum(increase(http_requests_total{variant="off",code=~"5.."}[$window]))',
            total: 'sum(increase(http_requests_total{variant="off"}[$window]))',
          },
        },
        test: 'two-proportion',
        direction: 'increase',
        maxRatio: 1.5,
        confidence: 0.99,
        minSamples: 50,
        interval: '1s',
        critical: true,
      } as Guard;
      const { result, filePercent } = await rollout([errorRate({ failureLimit: 2 }), twoProportion], '20s');
      expect(result.phase).toBe('RolledBack');
      expect(filePercent).toBe(0);
      expect(result.reason).toMatch(/error-rate|errors-vs-baseline/);
      const decisive = result.measurements.at(-1)!;
      expect(decisive.verdict).toBe('Failed');
      expect(decisive.value).toBeGreaterThan(0.05);
    } finally {
      app.setBehaviour({ variant: 'on', errorRate: 0 });
    }
  });

  it('a dead Prometheus is never a pass: the preflight ends the rollout Failed before any exposure change', async () => {
    const { result } = await rollout(
      [
        errorRate({
          source: { type: 'prometheus', url: 'http://127.0.0.1:1', timeoutMs: 500 } as never,
          consecutiveErrorLimit: 2,
        }),
      ],
      '20s',
    );
    expect(result.phase).toBe('Failed');
    expect(result.reason).toMatch(
      /^preflight failed, nothing was changed: guard \S+: Prometheus http:\/\/127\.0\.0\.1:1\//,
    );
    expect(result.stepsCompleted).toBe(0);
    expect(result.exposure.percent).toBe(0);
    expect(result.measurements).toEqual([]);
  });
});

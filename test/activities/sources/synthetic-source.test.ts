import { describe, expect, it } from 'vitest';
import { createMetricSource, createSyntheticSource, SourceError } from '../../../activities/sources/index.js';
import { MetricSourceSpec, SyntheticSource } from '../../../src/domain/guard-spec.schema.js';

const range = (check: number) => ({ check, startMs: 0, endMs: 60_000, stepMs: 15_000 });

function source(spec: Omit<SyntheticSource, 'type'>) {
  return createSyntheticSource(SyntheticSource.parse({ type: 'synthetic', ...spec }));
}

describe('synthetic source', () => {
  it('walks a script by check index and repeats the last element', async () => {
    const s = source({ series: { errorRate: [0.01, 0.02, 0.08] } });
    const values = [];
    for (let check = 0; check < 5; check++) values.push(await s.instant('errorRate', { check }));
    expect(values).toEqual([
      [{ labels: {}, value: 0.01 }],
      [{ labels: {}, value: 0.02 }],
      [{ labels: {}, value: 0.08 }],
      [{ labels: {}, value: 0.08 }],
      [{ labels: {}, value: 0.08 }],
    ]);
    expect(await s.range('errorRate', range(1))).toEqual([{ labels: {}, values: [0.02] }]);
  });

  it('reads a sample set as its mean for instant queries and as the samples for range queries', async () => {
    const s = source({ series: { latency: [[100, 200, 600], []] } });
    expect(await s.instant('latency', { check: 0 })).toEqual([{ labels: {}, value: 300 }]);
    expect(await s.range('latency', range(0))).toEqual([{ labels: {}, values: [100, 200, 600] }]);
    expect(await s.instant('latency', { check: 1 })).toEqual([{ labels: {}, value: null }]);
  });

  it('scripts no data as a null point and an empty range', async () => {
    const s = source({ series: { quiet: [null] } });
    expect(await s.instant('quiet', { check: 3 })).toEqual([{ labels: {}, value: null }]);
    expect(await s.range('quiet', range(3))).toEqual([]);
  });

  it('fails with UNAVAILABLE where the script says "error", and recovers after', async () => {
    const s = source({ series: { flaky: [0.01, 'error', 0.02] } });
    await expect(s.instant('flaky', { check: 0 })).resolves.toEqual([{ labels: {}, value: 0.01 }]);
    const failure = await s.instant('flaky', { check: 1 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('"flaky"') });
    await expect(s.range('flaky', range(1))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(s.instant('flaky', { check: 2 })).resolves.toEqual([{ labels: {}, value: 0.02 }]);
  });

  it('gives one labelled point per cohort, so a fault in one region shows in that region only', async () => {
    const s = source({
      cohorts: {
        label: 'region',
        series: {
          errors: { 'eu-west': [0.01, 0.3], 'us-east': [0.01] },
          latency: { 'eu-west': [[120, 130]], 'us-east': [null] },
        },
      },
    });
    expect(await s.instant('errors', { check: 0 })).toEqual([
      { labels: { region: 'eu-west' }, value: 0.01 },
      { labels: { region: 'us-east' }, value: 0.01 },
    ]);
    expect(await s.instant('errors', { check: 4 })).toEqual([
      { labels: { region: 'eu-west' }, value: 0.3 },
      { labels: { region: 'us-east' }, value: 0.01 },
    ]);
    expect(await s.range('latency', range(0))).toEqual([{ labels: { region: 'eu-west' }, values: [120, 130] }]);
  });

  it('fails the whole query when one cohort is scripted to fail, naming the cohort', async () => {
    const s = source({ cohorts: { label: 'region', series: { errors: { 'eu-west': ['error'], 'us-east': [0] } } } });
    await expect(s.instant('errors', { check: 0 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('cohort eu-west'),
    });
  });

  it('rejects an unknown series with BAD_QUERY listing the known names', async () => {
    const s = source({ series: { errorRate: [0] }, cohorts: { label: 'region', series: { latency: { eu: [1] } } } });
    await expect(s.instant('error_rate', { check: 0 })).rejects.toMatchObject({
      code: 'BAD_QUERY',
      message: expect.stringMatching(/"error_rate".*"errorRate", "latency"/),
    });
  });

  it('is what createMetricSource builds for a synthetic spec', async () => {
    const s = createMetricSource(MetricSourceSpec.parse({ type: 'synthetic', series: { x: [7] } }), {});
    expect(s.describe).toBe('synthetic');
    expect(await s.instant(' x ', { check: 0 })).toEqual([{ labels: {}, value: 7 }]);
  });
});

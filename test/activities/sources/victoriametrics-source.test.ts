import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, type MetricSource } from '../../../activities/sources/index.js';
import { createPrometheusSource } from '../../../activities/sources/prometheus/prometheus-source.js';
import { PrometheusSource } from '../../../src/domain/guard-spec.schema.js';
import { startVictoriaMetrics, type RunningVictoriaMetrics } from '../../helpers/victoriametrics.js';

/** Samples start on a minute boundary ten minutes ago, 10 s apart, so range steps land on them. */
const T0 = Math.floor((Date.now() - 600_000) / 60_000) * 60_000;
const at = (s: number) => T0 + s * 1_000;

async function failureOf(promise: Promise<unknown>): Promise<SourceError> {
  const failure = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(SourceError);
  return failure as SourceError;
}

describe('the prometheus provider reading a real VictoriaMetrics (single node)', () => {
  let vm: RunningVictoriaMetrics;
  let source: MetricSource;

  beforeAll(async () => {
    // Fails (never skips) with "Run scripts/ensure-victoriametrics.sh" when the binary is missing.
    vm = await startVictoriaMetrics();
    const series = {
      'region="eu-west",variant="on"': [0.01, 0.02, 0.3],
      'region="us-east",variant="on"': [0.01, 0.03, 0.02],
      'region="eu-west",variant="off"': [0.01, 0.01, 0.01],
    };
    await vm.importPrometheus(
      Object.entries(series).flatMap(([labels, values]) =>
        values.map((v, i) => `http_error_ratio{${labels}} ${v} ${at(i * 10)}`),
      ),
    );
    source = createPrometheusSource(PrometheusSource.parse({ type: 'prometheus', url: vm.url }));
  });

  afterAll(async () => {
    await vm?.stop();
  });

  it('answers an instant query with one point per series, labels without __name__', async () => {
    const points = await source.instant('http_error_ratio{variant="on"}', { check: 0, atMs: at(25) });
    expect(points.sort((a, b) => String(a.labels.region).localeCompare(String(b.labels.region)))).toEqual([
      { labels: { region: 'eu-west', variant: 'on' }, value: 0.3 },
      { labels: { region: 'us-east', variant: 'on' }, value: 0.02 },
    ]);
  });

  it('aggregates by label, as of ctx.atMs', async () => {
    const points = await source.instant('max by (variant) (http_error_ratio)', { check: 0, atMs: at(15) });
    expect(points.sort((a, b) => String(a.labels.variant).localeCompare(String(b.labels.variant)))).toEqual([
      { labels: { variant: 'off' }, value: 0.01 },
      { labels: { variant: 'on' }, value: 0.03 },
    ]);
  });

  it('understands MetricsQL beyond PromQL (WITH templates)', async () => {
    const points = await source.instant('WITH (canary = http_error_ratio{variant="on"}) max(canary)', {
      check: 0,
      atMs: at(25),
    });
    expect(points).toEqual([{ labels: {}, value: 0.3 }]);
  });

  it('answers a range query with one sample per step', async () => {
    const sets = await source.range('http_error_ratio{region="eu-west",variant="on"}', {
      check: 0,
      startMs: at(0),
      endMs: at(20),
      stepMs: 10_000,
    });
    expect(sets).toEqual([{ labels: { region: 'eu-west', variant: 'on' }, values: [0.01, 0.02, 0.3] }]);
  });

  it('returns no points for a selector that matches nothing', async () => {
    expect(await source.instant('http_error_ratio{region="ap-south"}', { check: 0, atMs: at(25) })).toEqual([]);
    const range = { check: 0, startMs: at(0), endMs: at(20), stepMs: 10_000 };
    expect(await source.range('no_such_metric', range)).toEqual([]);
  });

  it('reports bad MetricsQL as BAD_QUERY with VictoriaMetrics’ own message', async () => {
    const bad = 'max by (variant) (http_error_ratio';
    const failure = await failureOf(source.instant(bad, { check: 0 }));
    expect(failure.code).toBe('BAD_QUERY');
    expect(failure.message).toContain(`${vm.url}/api/v1/query`);
    expect(failure.message).toContain('unexpected token');
    const unknown = await failureOf(source.instant('no_such_func(http_error_ratio)', { check: 0 }));
    expect(unknown).toMatchObject({ code: 'BAD_QUERY', message: expect.stringContaining('no_such_func') });
  });

  it('reports a stopped VictoriaMetrics as UNAVAILABLE', async () => {
    await vm.stop();
    const failure = await failureOf(source.instant('http_error_ratio', { check: 0 }));
    expect(failure).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
  });
});

import type { MetricSourceSpec } from '../../src/domain/guard-spec.schema.js';
import { assertNever } from '../../src/util/assert-never.js';
import type { SecretLookup } from '../credentials.js';
import { createCloudWatchSource } from './cloudwatch/cloudwatch-source.js';
import { createDatadogSource } from './datadog/datadog-source.js';
import { createHttpJsonSource } from './http-json/http-json-source.js';
import { createInfluxDbSource } from './influxdb/influxdb-source.js';
import type { MetricSource } from './port.js';
import { createPrometheusSource } from './prometheus/prometheus-source.js';
import { createScrapeSource } from './scrape/scrape-source.js';
import { createSyntheticSource } from './synthetic/synthetic-source.js';
import { createWebhookSource } from './webhook/webhook-source.js';

export {
  SourceError,
  type MetricPoint,
  type MetricSamples,
  type MetricSource,
  type QueryContext,
  type RangeContext,
  type WebhookAnswer,
  type WebhookCall,
} from './port.js';
export { createCloudWatchSource } from './cloudwatch/cloudwatch-source.js';
export { createDatadogSource } from './datadog/datadog-source.js';
export { createHttpJsonSource, evaluateJsonPath } from './http-json/http-json-source.js';
export { createInfluxDbSource } from './influxdb/influxdb-source.js';
export { createPrometheusSource } from './prometheus/prometheus-source.js';
export { createScrapeSource } from './scrape/scrape-source.js';
export { createSyntheticSource } from './synthetic/synthetic-source.js';
export { createWebhookSource } from './webhook/webhook-source.js';

/** Dependencies of metric sources: the catalog's secrets, read when a source calls out. */
export interface MetricSourceDeps {
  secret?: SecretLookup;
}

/** The adapter for a guard's `source` spec. Creating one does no I/O; configuration errors surface on first query. */
export function createMetricSource(spec: MetricSourceSpec, deps: MetricSourceDeps = {}): MetricSource {
  const opts = deps.secret !== undefined ? { secret: deps.secret } : {};
  switch (spec.type) {
    case 'prometheus':
      return createPrometheusSource(spec, opts);
    case 'http-json':
      return createHttpJsonSource(spec, opts);
    case 'synthetic':
      return createSyntheticSource(spec);
    case 'scrape':
      return createScrapeSource(spec, opts);
    case 'webhook':
      return createWebhookSource(spec, opts);
    case 'influxdb':
      return createInfluxDbSource(spec, opts);
    case 'datadog':
      return createDatadogSource(spec, opts);
    case 'cloudwatch':
      return createCloudWatchSource(spec, opts);
    default:
      return assertNever(spec, 'metric source type');
  }
}

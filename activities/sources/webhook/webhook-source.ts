import type { WebhookSource } from '../../../src/domain/guard-spec.schema.js';
import { bodySnippet } from '../../../src/util/http-text.js';
import { displayUrl, endpointHeaders, getText, type SourceOptions } from '../http-json/http-json-source.js';
import { SourceError, type MetricSource, type WebhookCall } from '../port.js';

const SERVICE = 'webhook';

/**
 * A webhook a status-code guard calls (a load test, a conformance suite): each check sends one request with the
 * rollout's context as JSON and reads only the status. It goes through the same request path as every HTTP source
 * ({@link getText}: catalog credentials, no redirects, a timeout, credentials echoed back removed). A timeout or a
 * refused connection is UNAVAILABLE, which the guard counts as a source error; any status, 5xx included, is an
 * answer the guard judges.
 */
export function createWebhookSource(spec: WebhookSource, opts: SourceOptions = {}): MetricSource {
  const doFetch = opts.fetch ?? fetch;
  const where = `${SERVICE} ${displayUrl(spec.url)}`;
  const notForQueries = () =>
    Promise.reject(new SourceError(`${where} answers status-code (webhook) guards only, not queries`, 'CONFIG'));
  return {
    describe: `webhook:${displayUrl(spec.url)}`,
    instant: notForQueries,
    range: notForQueries,
    async call(req: WebhookCall) {
      const { response, text } = await getText({
        url: spec.url,
        method: req.method,
        body: req.body,
        where,
        accept: 'application/json, text/plain',
        headers: await endpointHeaders(spec, opts.secret, where),
        timeoutMs: spec.timeoutMs,
        signal: req.signal,
        fetch: doFetch,
      });
      return { status: response.status, snippet: bodySnippet(text) };
    },
  };
}

import type { WebhookSource } from '../../../src/domain/guard-spec.schema.js';
import { bodySnippet, describeFetchError } from '../../../src/util/http-text.js';
import { redactHeaders } from '../../credentials.js';
import { displayUrl, endpointHeaders, type SourceOptions } from '../http-json/http-json-source.js';
import { SourceError, type MetricSource, type WebhookCall } from '../port.js';

const SERVICE = 'webhook';

/**
 * A webhook a status-code guard calls (a load test, a conformance suite): each check sends one request with the
 * rollout's context as JSON and reads only the status. No redirects are followed (credentials must not travel to
 * another host). A timeout or a refused connection is UNAVAILABLE, which the guard counts as a source error; any
 * status, 5xx included, is an answer the guard judges.
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
      const credentials = await endpointHeaders(spec, opts.secret, where);
      const timeout = AbortSignal.timeout(spec.timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      const headers: Record<string, string> = { ...credentials, accept: 'application/json, text/plain' };
      if (req.method === 'POST') headers['content-type'] = 'application/json';
      try {
        const response = await doFetch(spec.url, {
          method: req.method,
          headers,
          signal,
          redirect: 'manual',
          ...(req.method === 'POST' ? { body: JSON.stringify(req.body) } : {}),
        });
        const text = redactHeaders(await response.text(), credentials);
        return { status: response.status, snippet: bodySnippet(text) };
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        const why = timeout.aborted
          ? `no answer within ${spec.timeoutMs} ms`
          : `unreachable: ${describeFetchError(err)}`;
        throw new SourceError(`${where}: ${why}`, 'UNAVAILABLE');
      }
    },
  };
}

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookSource } from '../../../activities/sources/webhook/webhook-source.js';
import { SourceError } from '../../../activities/sources/index.js';
import { WebhookSource } from '../../../src/domain/guard-spec.schema.js';
import { catalogSecrets } from '../catalog-secrets.js';

const TOKEN = 'load-tester-s3cr3t';

/** The next answer of the load tester; `hang` never answers, to exercise the timeout. */
let reply: { status: number; body: string; location?: string } | 'hang' = { status: 200, body: 'ok' };
let seen: { method: string; headers: IncomingHttpHeaders; body: string }[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      if (reply === 'hang') return;
      res
        .writeHead(reply.status, reply.location ? { location: reply.location } : {})
        .end(reply.body.replace('$AUTH', req.headers.authorization ?? ''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  reply = { status: 200, body: 'ok' };
  seen = [];
});

function source(overrides: Partial<WebhookSource> = {}) {
  const { secret } = catalogSecrets({ 'tester-token': { env: 'TESTER_TOKEN' } }, { TESTER_TOKEN: TOKEN });
  const spec = WebhookSource.parse({ type: 'webhook', auth: { bearer: 'tester-token' }, url, ...overrides });
  return createWebhookSource(spec, { secret });
}

describe('webhook source (status-code guards), against a real HTTP server', () => {
  it('POSTs the rollout context as JSON with the catalog credential, and reads the status', async () => {
    const answer = await source().call!({ method: 'POST', body: { guard: 'load-test', step: 2, exposure: 25 } });
    expect(answer).toEqual({ status: 200, snippet: ': ok' });
    expect(seen).toEqual([
      expect.objectContaining({ method: 'POST', body: '{"guard":"load-test","step":2,"exposure":25}' }),
    ]);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
  });

  it('a GET sends no body; any status is an answer (the guard judges it), and an echoed credential is removed', async () => {
    reply = { status: 503, body: 'overloaded, you sent $AUTH' };
    const answer = await source().call!({ method: 'GET', body: { ignored: true } });
    expect(answer.status).toBe(503);
    expect(answer.snippet).not.toContain(TOKEN);
    expect(seen[0]).toMatchObject({ method: 'GET', body: '' });
  });

  it('does not follow a redirect (the credential must not travel to another host)', async () => {
    reply = { status: 302, body: '', location: 'http://127.0.0.1:9/elsewhere' };
    expect((await source().call!({ method: 'POST', body: {} })).status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  it('no answer within the timeout, or nothing listening, is UNAVAILABLE: a source error the guard retries', async () => {
    reply = 'hang';
    const late = await source({ timeoutMs: 200 }).call!({ method: 'POST', body: {} }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(SourceError);
    expect(late).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/no answer within 200 ms$/) });
    const closed = await source({ url: 'http://127.0.0.1:9/gate' }).call!({ method: 'POST', body: {} }).catch(
      (e: unknown) => e,
    );
    expect(closed).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:9\/gate: unreachable/),
    });
  });

  it('answers no query: a webhook source serves status-code guards only', async () => {
    await expect(source().instant('up', { check: 0 })).rejects.toMatchObject({ code: 'CONFIG' });
  });
});

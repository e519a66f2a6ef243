import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { createHttpTarget } from '../../../activities/targets/http/http-target.js';
import { TargetError } from '../../../activities/targets/port.js';

const TOKEN = 's3cr3t-token-value';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The next answer the fake flag service gives; `hang` never answers, to exercise the timeout. */
let reply: { status: number; body: string; headers?: Record<string, string> } | 'hang' = { status: 204, body: '' };
let seen: Seen[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/flags/new-ranker`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  reply = { status: 204, body: '' };
  seen = [];
});

function target(overrides: Partial<HttpTargetSpec> = {}, env: NodeJS.ProcessEnv = { FLAG_TOKEN: TOKEN }) {
  const spec = HttpTargetSpec.parse({
    type: 'http',
    url,
    flag: 'new-ranker',
    variant: 'on',
    baselineVariant: 'off',
    tokenEnv: 'FLAG_TOKEN',
    ...overrides,
  });
  return createHttpTarget(spec, { env });
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a TargetError'),
    (e: unknown) => e as TargetError,
  );

describe('http target', () => {
  it('PUTs the absolute exposure with the idempotency key and the bearer token from the environment', async () => {
    const cohort = { attribute: 'region', values: ['eu-west'] };
    const reading = await target().apply({ percent: 25, cohort, idempotencyKey: 'wf-1/step-2' });

    expect(reading).toEqual({ percent: 25, cohort, lastKey: 'wf-1/step-2' });
    const [request] = seen;
    expect(request?.method).toBe('PUT');
    expect(request?.url).toBe('/flags/new-ranker');
    expect(request?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['idempotency-key']).toBe('wf-1/step-2');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      flag: 'new-ranker',
      variant: 'on',
      baselineVariant: 'off',
      percent: 25,
      cohort,
      idempotencyKey: 'wf-1/step-2',
    });
  });

  it('uses POST when asked, omits an absent cohort and sends no Authorization without tokenEnv', async () => {
    reply = { status: 200, body: JSON.stringify({ percent: 5, lastKey: 'k' }) };
    const spec = HttpTargetSpec.parse({
      type: 'http',
      url,
      method: 'POST',
      flag: 'f',
      variant: 'on',
      baselineVariant: 'off',
    });
    expect(await createHttpTarget(spec, { env: {} }).apply({ percent: 5, idempotencyKey: 'k' })).toEqual({
      percent: 5,
      lastKey: 'k',
    });
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.headers['authorization']).toBeUndefined();
    expect(JSON.parse(seen[0]?.body ?? '')).not.toHaveProperty('cohort');
  });

  it.each([500, 503, 429])(
    'treats %i as UNAVAILABLE and retryable, naming method, URL, status and body',
    async (status) => {
      reply = { status, body: `{"error":"overloaded","echo":"Bearer ${TOKEN}"}` };
      const error = await failure(target().apply({ percent: 5, idempotencyKey: 'k' }));
      expect(error).toBeInstanceOf(TargetError);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(error.message).toContain(`PUT ${url}`);
      expect(error.message).toContain(String(status));
      expect(error.message).toContain('overloaded');
      expect(error.message).not.toContain(TOKEN);
    },
  );

  it('treats a 400 as REJECTED and not retryable', async () => {
    reply = { status: 400, body: '{"error":"percent must be an integer"}' };
    const error = await failure(target().apply({ percent: 0.5, idempotencyKey: 'k' }));
    expect(error).toMatchObject({ code: 'REJECTED', retryable: false });
    expect(error.message).toContain('400');
    expect(error.message).toContain('percent must be an integer');
  });

  it('fails with CONFIG naming the missing variable, without sending or printing any token', async () => {
    const error = await failure(target({}, { OTHER_TOKEN: TOKEN }).apply({ percent: 5, idempotencyKey: 'k' }));
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(error.message).toContain('FLAG_TOKEN');
    expect(error.message).not.toContain(TOKEN);
    expect(seen).toEqual([]);
  });

  it('times out as UNAVAILABLE', async () => {
    reply = 'hang';
    const error = await failure(target({ timeoutMs: 100 }).read());
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).toMatch(/timed out after 100 ms/);
  });

  it('reports an unreachable service as UNAVAILABLE', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await failure(target({ url: `http://127.0.0.1:${port}/x` }).read());
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });

  it('reads and validates the exposure the service reports', async () => {
    reply = {
      status: 200,
      body: JSON.stringify({ percent: 12.5, cohort: { attribute: 'plan', values: ['pro'] }, lastKey: 'k7' }),
    };
    expect(await target().read()).toEqual({
      percent: 12.5,
      cohort: { attribute: 'plan', values: ['pro'] },
      lastKey: 'k7',
    });
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it.each([
    ['an out-of-range percent', JSON.stringify({ percent: 140 })],
    ['an unknown field', JSON.stringify({ percent: 5, region: 'eu' })],
    ['a non-JSON body', '<html>maintenance</html>'],
  ])('rejects %s as UNPARSABLE and retryable', async (_label, body) => {
    reply = { status: 200, body };
    const error = await failure(target().read());
    expect(error).toMatchObject({ code: 'UNPARSABLE', retryable: true });
    expect(error.message).toContain(`GET ${url}`);
  });

  describe('URLs with userinfo', () => {
    const PASSWORD = 'pa55-w0rd-in-url';
    const withUserinfo = () => url.replace('http://', `http://deploy:${PASSWORD}@`);

    it('never shows the userinfo: not in describe, nor in the error fetch raises for such a URL', async () => {
      const t = target({ url: withUserinfo() });
      expect(t.describe).toBe(`http:${url.replace('http://', 'http://***@')}#new-ranker`);
      for (const error of [await failure(t.apply({ percent: 5, idempotencyKey: 'k' })), await failure(t.read())]) {
        expect(error).toMatchObject({ code: 'UNAVAILABLE' });
        expect(error.message).toContain('http://***@127.0.0.1');
        expect(error.message).not.toContain(PASSWORD);
        expect(error.message).not.toContain('deploy:');
        expect(JSON.stringify(error.cause ?? null)).not.toContain(PASSWORD);
      }
    });

    it('redacts userinfo in a redirect target and in a body that quotes URLs', async () => {
      reply = { status: 302, body: '', headers: { location: `http://admin:${PASSWORD}@elsewhere.example/flags` } };
      const redirected = await failure(target().apply({ percent: 5, idempotencyKey: 'k' }));
      expect(redirected.message).toContain('redirected to http://***@elsewhere.example/flags');
      expect(redirected.message).not.toContain(PASSWORD);

      reply = { status: 503, body: `{"error":"upstream http://svc:${PASSWORD}@10.0.0.1:8080/x is down"}` };
      const unavailable = await failure(target().apply({ percent: 5, idempotencyKey: 'k' }));
      expect(unavailable.message).toContain('upstream http://***@10.0.0.1:8080/x is down');
      expect(unavailable.message).not.toContain(PASSWORD);
    });

    it('names the URL without userinfo when the token variable is missing', async () => {
      const error = await failure(target({ url: withUserinfo() }, {}).read());
      expect(error).toMatchObject({ code: 'CONFIG' });
      expect(error.message).not.toContain(PASSWORD);
    });
  });
});

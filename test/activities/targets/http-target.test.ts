import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { createHttpTarget } from '../../../activities/targets/http/http-target.js';
import { TargetError } from '../../../activities/targets/port.js';
import { catalogSecrets } from '../catalog-secrets.js';

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

/** The catalog declares the secret `flag-token` in the worker's FLAG_TOKEN; the target's entry names it as its bearer. */
function target(overrides: Partial<HttpTargetSpec> = {}, env: NodeJS.ProcessEnv = { FLAG_TOKEN: TOKEN }) {
  const spec = HttpTargetSpec.parse({
    type: 'http',
    flag: 'new-ranker',
    variant: 'on',
    baselineVariant: 'off',
    auth: { bearer: 'flag-token' },
    ...overrides,
    url,
  });
  const { secret } = catalogSecrets({ 'flag-token': { env: 'FLAG_TOKEN' } }, env);
  // the URL as given, unchecked: schemas refuse credentials in URLs, and the target must still never show any
  // (a run recorded before that rule carries its URL as written)
  return createHttpTarget({ ...spec, url: overrides.url ?? url }, { secret });
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a TargetError'),
    (e: unknown) => e as TargetError,
  );

describe('http target', () => {
  it('PUTs the absolute exposure with the idempotency key and the bearer token from the catalog secret', async () => {
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

  it('uses POST when asked, omits an absent cohort and sends no Authorization when the entry has no auth', async () => {
    reply = { status: 200, body: JSON.stringify({ percent: 5, lastKey: 'k' }) };
    const spec = HttpTargetSpec.parse({
      type: 'http',
      url,
      method: 'POST',
      flag: 'f',
      variant: 'on',
      baselineVariant: 'off',
    });
    expect(await createHttpTarget(spec).apply({ percent: 5, idempotencyKey: 'k' })).toEqual({
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

  it('fails with CONFIG naming the unset secret, without sending or printing any token', async () => {
    const error = await failure(target({}, { OTHER_TOKEN: TOKEN }).apply({ percent: 5, idempotencyKey: 'k' }));
    // retryable: the operator sets the variable (or fixes the catalog) and the next attempt reads it
    expect(error).toMatchObject({ code: 'CONFIG', retryable: true });
    expect(error.message).toContain('secret "flag-token" is not set');
    expect(error.message).not.toContain(TOKEN);
    expect(seen).toEqual([]);
  });

  it('fails with CONFIG when the entry names a secret the catalog does not declare, or no secrets are given', async () => {
    const undeclared = await failure(target({ auth: { bearer: 'deploy-token' } }).read());
    expect(undeclared).toMatchObject({ code: 'CONFIG' });
    expect(undeclared.message).toContain('secret "deploy-token" is not declared in the catalog');

    const spec = HttpTargetSpec.parse({ type: 'http', url, flag: 'f', variant: 'on', baselineVariant: 'off' });
    const withoutSecrets = await failure(createHttpTarget({ ...spec, auth: { bearer: 'flag-token' } }).read());
    expect(withoutSecrets).toMatchObject({ code: 'CONFIG' });
    expect(withoutSecrets.message).toContain('secret "flag-token"');
    expect(seen).toEqual([]);
  });

  it('reads a file secret on every call, so a rotated token applies without a restart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'http-target-secret-'));
    await writeFile(path.join(dir, 'flag.token'), 'token-before-rotation\n');
    const { secret } = catalogSecrets({ 'flag-token': { file: 'flag.token' } }, {}, dir);
    const spec = HttpTargetSpec.parse({
      type: 'http',
      url,
      flag: 'new-ranker',
      variant: 'on',
      baselineVariant: 'off',
      auth: { bearer: 'flag-token' },
    });
    const t = createHttpTarget(spec, { secret });

    await t.apply({ percent: 5, idempotencyKey: 'k1' });
    await writeFile(path.join(dir, 'flag.token'), 'token-after-rotation\n');
    await t.apply({ percent: 10, idempotencyKey: 'k2' });

    expect(seen.map((r) => r.headers['authorization'])).toEqual([
      'Bearer token-before-rotation',
      'Bearer token-after-rotation',
    ]);
  });

  it('sends basic auth and the entry’s headers, plain and from secrets, and never echoes them back', async () => {
    const PASSWORD = 'flag-service-password';
    const API_KEY = 'api-key-from-the-catalog';
    const { secret } = catalogSecrets(
      { 'flag-password': { env: 'FLAG_PASSWORD' }, 'flag-api-key': { env: 'FLAG_API_KEY' } },
      { FLAG_PASSWORD: PASSWORD, FLAG_API_KEY: API_KEY },
    );
    const spec = HttpTargetSpec.parse({
      type: 'http',
      url,
      flag: 'new-ranker',
      variant: 'on',
      baselineVariant: 'off',
      auth: { basic: { username: 'deploy', password: 'flag-password' } },
      headers: { 'X-Scope-OrgID': 'team-checkout', 'X-Api-Key': { secret: 'flag-api-key' } },
    });
    const t = createHttpTarget(spec, { secret });

    await t.apply({ percent: 5, idempotencyKey: 'k' });
    const headers = seen[0]!.headers;
    expect(headers['authorization']).toBe(`Basic ${Buffer.from(`deploy:${PASSWORD}`).toString('base64')}`);
    expect(headers['x-scope-orgid']).toBe('team-checkout');
    expect(headers['x-api-key']).toBe(API_KEY);

    reply = { status: 503, body: `{"error":"overloaded","echo":"${headers['authorization']} ${API_KEY}"}` };
    const error = await failure(t.apply({ percent: 5, idempotencyKey: 'k' }));
    expect(error.message).toContain('overloaded');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).not.toContain(Buffer.from(`deploy:${PASSWORD}`).toString('base64'));
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

    it('names the URL without userinfo when the token secret is not set', async () => {
      const error = await failure(target({ url: withUserinfo() }, {}).read());
      expect(error).toMatchObject({ code: 'CONFIG' });
      expect(error.message).not.toContain(PASSWORD);
    });
  });
});

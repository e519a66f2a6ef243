import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalogOf, type LoadedCatalog } from '../../src/catalog/load.js';
import { RolloutClient } from '../../src/client/rollout-client.js';
import {
  createCodecServer,
  payloadsFromJson,
  payloadsToJson,
  startCodecServer,
  type RunningCodecServer,
} from '../../src/codec-server/server.js';
import { createLogger } from '../../src/logger.js';
import { resolveTemporalCli } from '../../src/temporal/cli-provision.js';
import {
  dataConverterFromEnv,
  ENCRYPTED_ENCODING,
  payloadCodecFromEnv,
  PAYLOAD_KEY_ENV,
} from '../../src/temporal/codec.js';
import { connectClient, loadTemporalSettings } from '../../src/temporal/connection.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { createRolloutWorker } from '../../src/worker/worker.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { historyPayloads } from '../reliability/history-text.js';

const suite = useRolloutSuite();
const logger = createLogger({ level: 'warn' });
const UI_ORIGIN = 'http://127.0.0.1:8233';
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
type JsonPayloads = { payloads: { metadata: Record<string, string>; data: string }[] };

const env = { [PAYLOAD_KEY_ENV]: randomBytes(32).toString('base64') };
const codec = payloadCodecFromEnv(env)!;
const tokens = { alice: `alice-${randomUUID()}`, bob: `bob-${randomUUID()}` };
const apiToken = `api-${randomUUID()}`;
let catalog: LoadedCatalog;
let app: FastifyInstance;
let url: string;

/** A catalog with two principals of different roles, their tokens in files (as an operator declares them). */
async function principalCatalog(): Promise<LoadedCatalog> {
  const dir = await mkdtemp(join(tmpdir(), 'rollout-codec-server-'));
  await mkdir(join(dir, 'tokens'));
  await writeFile(join(dir, 'tokens', 'alice'), `${tokens.alice}\n`);
  await writeFile(join(dir, 'tokens', 'bob'), `${tokens.bob}\n`);
  return catalogOf(
    {
      secrets: { 'alice-token': { file: 'tokens/alice' }, 'bob-token': { file: 'tokens/bob' } },
      principals: {
        alice: { token: 'alice-token', roles: ['start'] },
        bob: { token: 'bob-token', roles: ['operate'] },
      },
    },
    dir,
  );
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json().catch(() => undefined), headers: response.headers };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  catalog = await principalCatalog();
  app = await createCodecServer({ codec, catalog, token: apiToken, origins: [UI_ORIGIN], logger });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
});

describe('codec server: decoding a real encrypted history', () => {
  it("a principal's token decodes every payload of an encrypted rollout's history: spec and results in clear", async () => {
    const settings = loadTemporalSettings({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    });
    const client = await connectClient(settings, env);
    const taskQueue = uniqueTaskQueue('codec-server');
    const worker = await createRolloutWorker({
      connection: suite.env.nativeConnection,
      namespace: settings.namespace,
      taskQueue,
      workflowBundle: suite.bundle,
      deps: { logger },
      dataConverter: dataConverterFromEnv(env)!,
    });
    const running = worker.run();
    const marker = `codec-server-${randomUUID()}`;
    const flag = uniqueFlag('codecsrv');
    try {
      const rollouts = new RolloutClient(client);
      const { workflowId: id } = await rollouts.start(
        {
          name: 'codec-server-e2e',
          description: `${marker} description`,
          target: { type: 'memory', name: `${marker}-target`, flag, variant: 'on', baselineVariant: 'off' },
          steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
          guards: [
            {
              name: `${marker}-guard`,
              source: { type: 'synthetic', series: { lat: [1] } },
              query: 'lat',
              max: 5,
              interval: '200ms',
            },
          ],
        },
        { taskQueue },
      );
      await waitFor(async () => (await rollouts.status(id)).guards[0]?.value === 1, 20_000, 'the first observation');
      await rollouts.promote(id, { actor: `${marker}-actor` });
      expect(await rollouts.result(id)).toMatchObject({ phase: 'Completed' });

      // what the Web UI holds: the raw history, every payload encrypted
      const raw = await suite.env.client.workflow.getHandle(id).fetchHistory();
      const encrypted = historyPayloads(raw, { skip: ['searchAttributes', 'patch-data', 'data'] });
      expect(encrypted.length).toBeGreaterThan(5);
      expect(encrypted.every((p) => text(p.metadata?.encoding) === ENCRYPTED_ENCODING)).toBe(true);
      const request = payloadsToJson(encrypted as Payload[]);
      expect(JSON.stringify(request)).not.toContain(marker);

      // bob holds only `operate`: any valid principal may decode
      const { status, json } = await post('/decode', request, bearer(tokens.bob));
      expect(status).toBe(200);
      const decoded = payloadsFromJson(json);
      expect(decoded).toHaveLength(encrypted.length);
      expect(decoded.every((p) => text(p.metadata?.encoding) === 'json/plain')).toBe(true);
      const clear = decoded.map((p) => text(p.data)).join('\n');
      expect(clear).toContain(`${marker} description`);
      expect(clear).toContain(flag);
      expect(clear).toContain(`${marker}-actor`); // the promote update's argument
      expect(clear).toContain('Completed'); // the result

      // the workflow's input decodes to the spec itself
      const started = raw.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      const input = await post('/decode', payloadsToJson(started as Payload[]), bearer(tokens.alice));
      const [spec] = payloadsFromJson(input.json);
      const value = defaultPayloadConverter.fromPayload<{ spec: { name: string; target: { flag: string } } }>(spec!);
      expect(value.spec).toMatchObject({ name: 'codec-server-e2e', target: { flag } });
    } finally {
      worker.shutdown();
      await running;
      await client.connection.close();
    }
  });
});

describe('codec server: protocol, auth and CORS', () => {
  const plain = payloadsToJson([
    defaultPayloadConverter.toPayload({ exposure: 25, note: 'hello' }),
    defaultPayloadConverter.toPayload(null),
  ]);

  it('/encode then /decode round-trips; what /encode returns is the codec the workers use', async () => {
    const encoded = await post('/encode', plain, bearer(tokens.alice));
    expect(encoded.status).toBe(200);
    const sealed = encoded.json as JsonPayloads;
    expect(sealed.payloads).toHaveLength(2);
    for (const p of sealed.payloads)
      expect(Buffer.from(p.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(JSON.stringify(sealed)).not.toContain(Buffer.from('hello').toString('base64'));
    // the worker's codec reads what the server encoded
    expect(await codec.decode(payloadsFromJson(sealed))).toEqual(payloadsFromJson(plain));
    const decoded = await post('/decode', sealed, bearer(apiToken)); // ROLLOUT_API_TOKEN works too
    expect(decoded).toMatchObject({ status: 200, json: plain });
  });

  it('a payload not encoded by this codec passes through unchanged', async () => {
    const foreign = {
      payloads: [
        ...plain.payloads,
        { metadata: { encoding: Buffer.from('binary/gzip').toString('base64') }, data: 'H4sIAAAAAAAA' },
      ],
    };
    expect(await post('/decode', foreign, bearer(tokens.bob))).toMatchObject({ status: 200, json: foreign });
  });

  it('no token, a wrong token or another scheme: 401 on /encode, /decode and unknown paths; /healthz is open', async () => {
    for (const path of ['/decode', '/encode', '/nope']) {
      expect((await post(path, plain)).status).toBe(401);
      expect((await post(path, plain, bearer(`${tokens.alice}x`))).status).toBe(401);
      expect((await post(path, plain, { authorization: `Basic ${tokens.alice}` })).status).toBe(401);
    }
    const denied = await post('/decode', plain, bearer('wrong'));
    expect(denied.json).toEqual({ error: 'invalid bearer token' });
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/other`)).status).toBe(401);
  });

  it('only the last path segment selects the operation; malformed bodies get 400, tampered payloads 422', async () => {
    expect(await post('/codec/default/decode', plain, bearer(tokens.bob))).toMatchObject({ status: 200, json: plain });
    expect((await post('/codec', plain, bearer(tokens.bob))).status).toBe(404);
    for (const body of [{}, { payloads: 'x' }, { payloads: [{ data: '!!not base64!!' }] }, { payloads: [1] }]) {
      expect((await post('/decode', body, bearer(tokens.bob))).status).toBe(400);
    }
    const sealed = (await post('/encode', plain, bearer(tokens.bob))).json as JsonPayloads;
    const data = Buffer.from(sealed.payloads[0]!.data, 'base64');
    data[20]! ^= 1;
    const tampered = { payloads: [{ ...sealed.payloads[0]!, data: data.toString('base64') }] };
    const failed = await post('/decode', tampered, bearer(tokens.bob));
    expect(failed.status).toBe(422);
    expect(JSON.stringify(failed.json)).toMatch(/failed authentication/);
  });

  it('CORS: the preflight from the UI origin gets the allow headers, from any other origin none', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const allowed = await preflight(UI_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    const allowHeaders = allowed.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    for (const h of ['content-type', 'x-namespace', 'authorization']) expect(allowHeaders).toContain(h);

    const other = await preflight('http://evil.example:8233');
    expect([...other.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);

    // the actual request carries the origin header back (and a 401 too, so the UI can tell why)
    const ok = await post('/decode', plain, { origin: UI_ORIGIN, ...bearer(tokens.alice) });
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const unauthorised = await post('/decode', plain, { origin: UI_ORIGIN });
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const foreign = await post('/decode', plain, { origin: 'http://evil.example', ...bearer(tokens.alice) });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a rotated principal token applies at once: the old one is refused', async () => {
    const rotated = `alice-rotated-${randomUUID()}`;
    await writeFile(join(catalog.dir, 'tokens', 'alice'), rotated);
    try {
      expect((await post('/decode', plain, bearer(tokens.alice))).status).toBe(401);
      expect((await post('/decode', plain, bearer(rotated))).status).toBe(200);
    } finally {
      await writeFile(join(catalog.dir, 'tokens', 'alice'), tokens.alice);
    }
  });
});

describe('codec server: start-up and the dev UI wiring', () => {
  it('refuses to start without ROLLOUT_PAYLOAD_KEY, and without any principal', async () => {
    await expect(
      startCodecServer({ host: '127.0.0.1', port: 0, origins: [UI_ORIGIN], logger, catalog, env: {} }),
    ).rejects.toThrow(/needs ROLLOUT_PAYLOAD_KEY/);
    await expect(
      startCodecServer({ host: '127.0.0.1', port: 0, origins: [UI_ORIGIN], logger, env, token: '' }),
    ).rejects.toThrow(/no principals/);
  });

  it("the dev path capability authenticates the embedded UI's requests; a wrong one does not", async () => {
    let server: RunningCodecServer | undefined;
    try {
      server = await startCodecServer({
        host: '127.0.0.1',
        port: 0,
        origins: [UI_ORIGIN],
        logger,
        env,
        pathCapability: true,
      });
      const capability = new URL(server.endpoint).pathname.slice(1);
      expect(capability.length).toBeGreaterThanOrEqual(32);
      const call = (path: string) =>
        fetch(`${server!.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ payloads: [] }),
        });
      expect((await call(`/${capability}/decode`)).status).toBe(200);
      expect((await call(`/${capability}x/decode`)).status).toBe(401);
      expect((await call('/decode')).status).toBe(401);
    } finally {
      await server?.close();
    }
  });

  it('the embedded server passes --ui-codec-endpoint to its Web UI', async () => {
    const cli = await resolveTemporalCli();
    const [port, uiPort] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${await freePort()}/capability`;
    const server = await startDevServer({
      cliPath: cli.path,
      port,
      uiPort,
      dbFile: null,
      reuseExisting: false,
      uiCodecEndpoint: endpoint,
    });
    try {
      const settings = await waitForJson(`${server.uiUrl}/api/v1/settings`);
      expect(JSON.stringify(settings)).toContain(endpoint);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForJson(target: string, timeoutMs = 60_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(target);
      if (response.ok) return await response.json();
    } catch {
      // the UI server is still starting
    }
    if (Date.now() > deadline) throw new Error(`${target} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { createApiServer } from '../../src/api/server.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { createLogger } from '../../src/logger.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();
const TOKEN = `token-${randomUUID()}`;
const logger = createLogger({ level: 'silent' });
let h: RolloutHarness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await rolloutHarness(suite.env, suite.bundle);
  app = await createApiServer({
    client: suite.client,
    temporalClient: suite.env.client,
    token: TOKEN,
    logger,
    taskQueue: h.taskQueue,
    uiUrl: 'http://localhost:8233/',
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await h?.stop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies loosely
type Json = Record<string, any>;
interface Call {
  body?: unknown;
  type?: string;
  token?: string | null;
}
/** One HTTP call; bodies that are not strings are sent as JSON. */
async function api(method: string, path: string, call: Call = {}) {
  const headers: Record<string, string> = {};
  if (call.token !== null) headers.authorization = `Bearer ${call.token ?? TOKEN}`;
  let body: string | undefined;
  if (call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
    headers['content-type'] = call.type ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Json) : undefined;
  return { status: res.status, json: json ?? {}, text };
}

const flagPercent = async (flag: string) =>
  (
    await createFlagdFileTarget(
      { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
      { baseDir: h.dir },
    ).read()
  ).percent;

const phaseOf = async (id: string) =>
  (await api('GET', `/rollouts/${encodeURIComponent(id)}`)).json.phase as string | undefined;

describe('rollout HTTP API', () => {
  it('requires the bearer token everywhere but /healthz, and never runs without one', async () => {
    expect(await api('GET', '/rollouts', { token: null })).toMatchObject({
      status: 401,
      json: { error: expect.stringMatching(/missing bearer token/) },
    });
    const sameLength = TOKEN.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'));
    expect((await api('GET', '/rollouts', { token: sameLength })).status).toBe(401);
    expect((await api('GET', '/metrics', { token: 'short' })).status).toBe(401);
    expect((await api('POST', '/rollouts', { token: `${TOKEN}-longer`, body: {} })).status).toBe(401);
    expect(await api('GET', '/healthz', { token: null })).toMatchObject({ status: 200, json: { ok: true } });
    expect(await api('GET', '/no/such/route')).toMatchObject({
      status: 404,
      json: { error: 'no route GET /no/such/route' },
    });
    await expect(
      createApiServer({ client: suite.client, temporalClient: suite.env.client, token: '', logger }),
    ).rejects.toThrow(/refusing to serve unauthenticated/);
  });

  it('rejects an invalid spec with the path of each problem and starts nothing', async () => {
    const flag = uniqueFlag('api-bad');
    const res = await api('POST', '/rollouts', { body: flagdSpec(flag, [{ exposure: 150 }]) });
    expect(res.status).toBe(400);
    expect(res.json.issues).toEqual([{ path: 'steps[0].exposure', message: 'must be ≤ 100' }]);
    await expect(suite.client.handle(rolloutIdForFlag(flag)).describe()).rejects.toThrow(/not found/i);

    const syntax = await api('POST', '/rollouts', { body: 'name: [unclosed', type: 'application/yaml' });
    expect(syntax).toMatchObject({
      status: 400,
      json: { issues: [{ path: '(root)', message: expect.stringMatching(/^syntax:/) }] },
    });
    expect((await api('POST', '/rollouts', { body: '{"name": ', type: 'application/json' })).status).toBe(400);
  });

  it('answers a YAML alias bomb with 400 and one issue, without expanding it', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [prev, name] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    const res = await api('POST', '/rollouts', { body: levels.join('\n'), type: 'application/yaml' });
    expect(res).toMatchObject({
      status: 400,
      json: { issues: [{ path: '(root)', message: 'too many YAML aliases (at most 100 may be expanded)' }] },
    });
    expect(res.text).not.toMatch(/\bat \S+:\d+/); // no stack
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('starts a YAML spec, operates it by ID in both forms, refuses what the workflow refuses, and aborts to baseline', async () => {
    const flag = uniqueFlag('api-yaml');
    const id = rolloutIdForFlag(flag);
    const yaml = [
      'name: api-yaml',
      `target: { type: flagd, path: flags.json, flag: ${flag}, variant: "on", baselineVariant: "off" }`,
      'steps:',
      '  - { exposure: 10, observe: 1h }',
      '  - approval: { approvers: [lead] }',
      '  - exposure: 100',
    ].join('\n');
    const started = await api('POST', '/rollouts', { body: yaml, type: 'application/yaml' });
    expect(started.status).toBe(201);
    expect(started.json).toMatchObject({ workflowId: id, runId: expect.any(String) });
    expect(started.json.uiUrl).toBe(
      `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(id)}/${started.json.runId}/history`,
    );

    await waitFor(async () => (await phaseOf(id)) === 'Observing', 15_000, 'Observing');
    const byEncoded = await api('GET', `/rollouts/${encodeURIComponent(id)}`);
    const byPath = await api('GET', `/rollouts/rollout/${flag}`);
    expect(byEncoded.json).toMatchObject({ name: 'api-yaml', target: flag, step: 0, exposure: { percent: 10 } });
    expect(byPath.json).toMatchObject({ name: 'api-yaml', phase: 'Observing' });
    expect((await api('GET', '/rollouts/rollout/never-started')).status).toBe(404);

    const again = await api('POST', '/rollouts', { body: yaml, type: 'text/yaml' });
    expect(again).toMatchObject({ status: 409, json: { error: expect.stringContaining(`already running: ${id}`) } });

    const early = await api('POST', `/rollouts/rollout/${flag}/approve`, { body: { step: 1 } });
    expect(early).toMatchObject({
      status: 409,
      json: { error: expect.stringMatching(/^cannot approve: step 2 is not waiting for approval/) },
    });
    const badBody = await api('POST', `/rollouts/${encodeURIComponent(id)}/pause`, { body: {} });
    expect(badBody.status).toBe(400);
    expect(badBody.json.issues).toEqual([expect.objectContaining({ path: 'reason' })]);
    // the actor is the caller's principal (the token's: `api`); a body cannot name somebody else
    const impersonating = await api('POST', `/rollouts/${encodeURIComponent(id)}/pause`, {
      body: { reason: 'x', actor: 'ana' },
    });
    expect(impersonating).toMatchObject({ status: 403, json: { error: expect.stringContaining('"api"') } });

    let listed = await api('GET', `/rollouts?target=${flag}&phase=Observing`);
    await waitFor(
      async () => (listed = await api('GET', `/rollouts?target=${flag}&phase=Observing`)).json.rollouts.length > 0,
      5_000,
      'listed',
    );
    expect(listed.json.rollouts).toEqual([
      expect.objectContaining({
        workflowId: id,
        status: 'RUNNING',
        phase: 'Observing',
        target: flag,
        exposure: 10,
        step: 0,
      }),
    ]);
    expect((await api('GET', '/rollouts?phase=Sleeping')).json.issues).toEqual([
      expect.objectContaining({ path: 'phase' }),
    ]);
    expect((await api('GET', `/rollouts?target=${encodeURIComponent("x' OR 'a'='a")}`)).json).toEqual({ rollouts: [] });

    const abort = await api('POST', `/rollouts/${encodeURIComponent(id)}/abort`, {
      body: { reason: 'api test', actor: 'api' },
    });
    expect(abort).toMatchObject({ status: 200, json: { accepted: true } });
    const aborted = await suite.client.result(id);
    expect(aborted.phase).toBe('Aborted');
    expect(aborted.timeline.some((e) => e.actor === 'api')).toBe(true);
    expect(await flagPercent(flag)).toBe(0);
    expect(await phaseOf(id)).toBe('Aborted'); // the status call feeds the time-to-rollback histogram
    const late = await api('POST', `/rollouts/rollout/${flag}/resume`, { body: {} });
    expect(late).toMatchObject({
      status: 409,
      json: { error: expect.stringMatching(/^cannot resume: the rollout has ended/) },
    });
    expect((await api('GET', '/metrics')).text).toMatch(
      /rollout_time_to_rollback_seconds_count\{phase="Aborted"\} [1-9]/,
    );
  });

  it('undoes a completed rollout through POST undo, with the new run in the Web UI; refuses a second undo', async () => {
    const flag = uniqueFlag('api-undo');
    const id = rolloutIdForFlag(flag);
    const started = await api('POST', '/rollouts', { body: flagdSpec(flag, [{ exposure: 100 }]) });
    expect(started.status).toBe(201);
    expect((await suite.client.result(id)).phase).toBe('Completed');
    expect(await flagPercent(flag)).toBe(100);
    const noReason = await api('POST', `/rollouts/rollout/${flag}/undo`, { body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.json.issues).toEqual([expect.objectContaining({ path: 'reason' })]);
    const undo = await api('POST', `/rollouts/rollout/${flag}/undo`, { body: { reason: 'api undo' } });
    expect(undo).toMatchObject({
      status: 201,
      json: { workflowId: id, undoes: started.json.runId, baseline: 0 },
    });
    expect(undo.json.uiUrl).toBe(
      `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(id)}/${undo.json.runId}/history`,
    );
    const result = await suite.client.result(id);
    expect(result).toMatchObject({ phase: 'RolledBack', rollback: { trigger: 'undo', actor: 'api' } });
    expect(await flagPercent(flag)).toBe(0);
    const twice = await api('POST', `/rollouts/rollout/${flag}/undo`, { body: { reason: 'again' } });
    expect(twice).toMatchObject({ status: 409, json: { error: expect.stringMatching(/RolledBack \(an undo\)/) } });
  });

  it('turns a firing Alertmanager alert labelled with a rollout and a guard into a breach that rolls back', async () => {
    const flag = uniqueFlag('api-alert');
    const id = rolloutIdForFlag(flag);
    expect(
      (
        await api('POST', '/rollouts', {
          body: flagdSpec(flag, [{ exposure: 20, observe: '1h' }, { exposure: 100 }], {
            guards: [{ name: 'error-rate', alert: {} }],
          }),
        })
      ).status,
    ).toBe(201);
    await waitFor(async () => (await phaseOf(id)) === 'Observing', 15_000, 'Observing');
    expect(await flagPercent(flag)).toBe(20);

    const alert = (status: string, labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
      status,
      labels,
      annotations,
      startsAt: new Date().toISOString(),
      fingerprint: randomUUID().slice(0, 16),
    });
    const payload = {
      version: '4',
      status: 'firing',
      receiver: 'rollouts',
      alerts: [
        alert(
          'firing',
          { alertname: 'HighErrorRate', rollout: flag, guard: 'error-rate' },
          { value: '0.12', summary: 'checkout errors at 12%' },
        ),
        alert('firing', { alertname: 'HighErrorRate', rollout: flag, guard: 'error-rate', instance: 'b' }),
        alert('resolved', { rollout: id, guard: 'latency' }),
        alert('firing', { alertname: 'Unrelated' }),
        alert('firing', { rollout: 'rollout/not-running-anywhere', guard: 'error-rate' }),
      ],
    };
    const res = await api('POST', '/alerts/alertmanager', { body: payload });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      signalled: 1,
      ignored: 3,
      errors: [
        { rollout: 'rollout/not-running-anywhere', guard: 'error-rate', error: 'no running rollout with this ID' },
      ],
    });
    const result = await suite.client.result(id);
    expect(result.phase).toBe('RolledBack');
    expect(result.reason).toMatch(/guard error-rate breached \(value 0\.12\) per alertmanager/);
    expect(await flagPercent(flag)).toBe(0);

    expect((await api('POST', '/alerts/alertmanager', { body: { ...payload, version: '3' } })).json.issues).toEqual([
      expect.objectContaining({ path: 'version' }),
    ]);
  });

  it('answers an oversized body with 413 JSON', async () => {
    const res = await api('POST', '/rollouts', {
      body: `name: big\ndescription: "${'x'.repeat(300 * 1024)}"`,
      type: 'application/yaml',
    });
    expect(res).toMatchObject({ status: 413, json: { error: expect.any(String) } });
    expect(res.text).not.toMatch(/stack|at .*\.js/);
  });

  it('documents every route in OpenAPI 3.1 and exposes rollouts per phase to Prometheus', async () => {
    const doc = (await api('GET', '/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    const commands = ['pause', 'resume', 'promote', 'approve', 'abort', 'retry', 'undo'];
    const expected = [
      '/rollouts',
      '/rollouts/{id}',
      '/rollouts/rollout/{flag}',
      ...commands.flatMap((c) => [`/rollouts/{id}/${c}`, `/rollouts/rollout/{flag}/${c}`]),
      '/rollouts/{id}/report.svg',
      '/rollouts/rollout/{flag}/report.svg',
      '/alerts/alertmanager',
      '/healthz',
      '/metrics',
      '/openapi.json',
    ];
    expect(Object.keys(doc.paths).sort()).toEqual(expected.sort());
    expect(doc.paths['/rollouts'].post.responses).toHaveProperty('409');
    expect(doc.paths['/rollouts/{id}/approve'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ApproveCommand',
    });
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/metrics'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.schemas.RolloutSpec.properties).toHaveProperty('steps');
    expect(JSON.stringify(doc)).not.toMatch(/"#\/\$defs\//);

    // visibility is eventually consistent: the rollbacks above show up in the counts shortly after they end
    const counted = [
      /^rollouts\{phase="Aborted"\} [1-9]/m,
      /^rollouts\{phase="RolledBack"\} [1-9]/m,
      /^rollouts_rolled_back ([2-9]|\d{2,})/m,
    ];
    let metrics = await api('GET', '/metrics');
    await waitFor(
      async () => {
        metrics = await api('GET', '/metrics');
        return counted.every((re) => re.test(metrics.text));
      },
      10_000,
      'rollbacks counted',
    );
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^rollouts\{phase="Pending"\} \d+/m);
    expect(metrics.text).toMatch(/^process_cpu_user_seconds_total/m);
  });

  it('reports 503 from /healthz when Temporal is unreachable', async () => {
    const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const offline = await createApiServer({ client: suite.client, temporalClient: down, token: TOKEN, logger });
    try {
      const res = await offline.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ ok: false, error: 'Temporal is unreachable' });
    } finally {
      await offline.close();
      await down.connection.close();
    }
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { createLogger } from '../../src/logger.js';
import { dataConverterFromEnv, payloadCodecFromEnv, PAYLOAD_KEY_ENV } from '../../src/temporal/codec.js';
import { createRolloutWorker } from '../../src/worker/worker.js';
import { httpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { flagService } from './flag-service.js';
import { historyPayloads, historyText } from './history-text.js';
import { expectNoneOf, rolloutPath, secureApi, strictCatalog } from './security-env.js';

const suite = useRolloutSuite();

async function api(
  bodyLimitBytes?: number,
): Promise<{ app: FastifyInstance; base: string; token: string; taskQueue: string }> {
  const token = `api-${randomUUID()}`;
  const taskQueue = uniqueTaskQueue('security');
  const app = await createApiServer({
    client: suite.client,
    temporalClient: suite.env.client,
    token,
    logger: createLogger({ level: 'silent' }),
    taskQueue,
    ...(bodyLimitBytes !== undefined ? { bodyLimitBytes } : {}),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, token, taskQueue };
}

describe('HTTP API access control and limits', () => {
  it('answers 401 to a missing, wrong or malformed bearer token on every kind of route, before reading the body', async () => {
    const { app, base, token, taskQueue } = await api(1_024);
    try {
      const flag = uniqueFlag('sec-api');
      const spec = JSON.stringify(flagdSpec(flag, [{ exposure: 5 }]));
      const wrong = [
        undefined,
        `Bearer ${token.slice(0, -1)}x`,
        `Bearer ${token}x`,
        `Basic ${Buffer.from(`u:${token}`).toString('base64')}`,
        token,
        `Bearer`,
        `Bearer ${token} extra`,
      ];
      const routes: [string, string, string?][] = [
        ['POST', '/rollouts', spec],
        ['GET', '/rollouts'],
        ['GET', `/rollouts/rollout%2F${flag}`],
        ['POST', `/rollouts/rollout%2F${flag}/abort`, '{"reason":"x","actor":"y"}'],
        ['GET', '/metrics'],
        ['POST', '/alerts/alertmanager', '{}'],
      ];
      for (const authorization of wrong) {
        for (const [method, path, body] of routes) {
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            ...(authorization !== undefined ? { authorization } : {}),
          };
          const res = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
          expect(res.status, `${method} ${path} with ${authorization?.slice(0, 12)}`).toBe(401);
          expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
          expect(await res.text()).not.toContain(token);
        }
      }
      // an unauthenticated oversized body is refused as unauthenticated: nothing is parsed for strangers
      const huge = JSON.stringify({ name: 'x', description: 'y'.repeat(4_096) });
      expect(
        (
          await fetch(`${base}/rollouts`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: huge,
          })
        ).status,
      ).toBe(401);
      await expect(suite.client.handle(rolloutIdForFlag(flag)).describe()).rejects.toThrow(/not found/i);
      expect((await suite.env.client.workflow.count(`TaskQueue = '${taskQueue}'`)).count).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('answers 413 to a body over the limit (configured and default), JSON or YAML, and starts nothing', async () => {
    const small = await api(1_024);
    const standard = await api();
    try {
      const flag = uniqueFlag('sec-413');
      const spec = { ...flagdSpec(flag, [{ exposure: 5 }]), description: 'x'.repeat(1_100) };
      const cases: [typeof small, string, string][] = [
        [small, JSON.stringify(spec), 'application/json'],
        [small, `name: big\ndescription: "${'x'.repeat(1_100)}"\n`, 'application/yaml'],
        [standard, JSON.stringify({ ...spec, description: 'x'.repeat(300 * 1_024) }), 'application/json'],
      ];
      for (const [{ base, token }, body, type] of cases) {
        const res = await fetch(`${base}/rollouts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': type },
          body,
        });
        expect(res.status, type).toBe(413);
        expect(((await res.json()) as { error: string }).error).toEqual(expect.any(String));
      }
      const ok = await fetch(`${small.base}/rollouts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${small.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x' }),
      });
      expect(ok.status).toBe(400); // under the limit the same endpoint validates as usual
      await expect(suite.client.handle(rolloutIdForFlag(flag)).describe()).rejects.toThrow(/not found/i);
    } finally {
      await small.app.close();
      await standard.app.close();
    }
  });
});

describe('catalog secrets never enter workflow history', () => {
  /**
   * A rollout on a catalog HTTP target (bearer secret) with a catalog hook (an `X-Api-Key` header and a bearer token,
   * both secrets from the worker's environment), aborted so the hook runs in rollback. The hook answers 500 echoing
   * the credentials it received until the test has seen the rollback retrying, then 200. With `codec`, worker and
   * client encrypt payloads (ROLLOUT_PAYLOAD_KEY): failure messages, which stay plaintext, must be redacted too.
   */
  async function abortThroughFailingHook(opts: { codec: boolean }) {
    const values = { key: `key-${randomUUID()}`, hook: `hook-${randomUUID()}`, target: `tgt-${randomUUID()}` };
    const env: NodeJS.ProcessEnv = {
      SEC_HOOK_KEY: values.key,
      SEC_HOOK_TOKEN: values.hook,
      SEC_TARGET_TOKEN: values.target,
      ...(opts.codec ? { [PAYLOAD_KEY_ENV]: randomBytes(32).toString('base64') } : {}),
    };
    const svc = await flagService();
    const hook = await httpRecorder();
    let failing = true;
    hook.respond = (req) =>
      failing
        ? { status: 500, body: { youSent: { 'x-api-key': req.headers['x-api-key'], auth: req.headers.authorization } } }
        : { status: 200 };
    const catalog = strictCatalog(await mkdtemp(join(tmpdir(), 'rollout-sec-secrets-')), {
      secrets: {
        'hook-key': { env: 'SEC_HOOK_KEY' },
        'hook-token': { env: 'SEC_HOOK_TOKEN' },
        'target-token': { env: 'SEC_TARGET_TOKEN' },
      },
      targets: {
        'sec-flags': {
          type: 'http',
          url: `${svc.url}/flags/checkout`,
          flag: 'checkout',
          variant: 'on',
          baselineVariant: 'off',
          auth: { bearer: 'target-token' },
        },
      },
      hooks: {
        'scale-down': {
          http: {
            url: `${hook.url}/scale-down`,
            body: { replicas: 0 },
            headers: { 'X-Api-Key': { secret: 'hook-key' } },
            auth: { bearer: 'hook-token' },
          },
        },
      },
    });
    const dataConverter = opts.codec ? dataConverterFromEnv(env) : undefined;
    const taskQueue = uniqueTaskQueue('sec-secrets');
    const worker = await createRolloutWorker({
      connection: suite.env.nativeConnection,
      namespace: suite.env.namespace ?? 'default',
      taskQueue,
      workflowBundle: suite.bundle,
      deps: { logger: createLogger({ level: 'warn' }), catalog, env },
      ...(dataConverter ? { dataConverter } : {}),
    });
    const running = worker.run();
    const temporalClient = dataConverter
      ? new Client({
          connection: suite.env.client.connection,
          namespace: suite.env.namespace ?? 'default',
          dataConverter,
        })
      : suite.env.client;
    const rollouts = new RolloutClient(temporalClient);
    try {
      const spec: RolloutSpecInput = {
        name: 'catalog-secrets',
        target: 'sec-flags',
        steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
        rollback: { compensations: [{ hook: 'scale-down' }] },
      };
      const id = rolloutIdForFlag(uniqueFlag('sec-secrets'));
      await rollouts.start(spec, { taskQueue, catalog: catalog.catalog, workflowId: id });
      await waitFor(async () => (await rollouts.status(id)).phase === 'Observing', 30_000, 'Observing');
      await rollouts.abort(id, { reason: 'security drill', actor: 'sec' });
      let retrying = await rollouts.status(id);
      await waitFor(
        async () => {
          retrying = await rollouts.status(id);
          return retrying.rollback?.retrying === true && /answered 500/.test(retrying.rollback.lastError ?? '');
        },
        60_000,
        'the rollback retrying the failing hook',
      );
      const describedWhileRetrying = historyText(
        (await temporalClient.workflow.getHandle(id).describe()).raw as temporal.api.history.v1.IHistory,
      );
      failing = false;
      const result = await rollouts.result(id);
      expect(result).toMatchObject({ phase: 'Aborted', exposure: { percent: 0 } });

      // the credentials did travel, to the right places, on every call
      const failed = hook.requests.length - 1;
      expect(failed).toBeGreaterThanOrEqual(2);
      expect(hook.requests.every((r) => r.headers['x-api-key'] === values.key)).toBe(true);
      expect(hook.requests.every((r) => r.headers.authorization === `Bearer ${values.hook}`)).toBe(true);
      expect(svc.puts.map((p) => p.percent)).toEqual(expect.arrayContaining([10, 0]));
      expect(svc.puts.every((p) => p.authorization === `Bearer ${values.target}`)).toBe(true);

      // what the server stores, read without the codec
      const raw = await suite.env.client.workflow.getHandle(id).fetchHistory();
      const codec = opts.codec ? payloadCodecFromEnv(env) : undefined;
      const decoded = codec
        ? (await codec.decode(historyPayloads(raw, { skip: ['searchAttributes'] }) as Payload[]))
            .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
            .join('\n')
        : historyText(raw);
      return {
        values,
        failed,
        retrying,
        texts: {
          history: historyText(raw),
          decodedPayloads: decoded,
          statusWhileRetrying: JSON.stringify(retrying),
          describeWhileRetrying: describedWhileRetrying,
          status: JSON.stringify(await rollouts.status(id)),
          result: JSON.stringify(result),
        },
      };
    } finally {
      worker.shutdown();
      await running;
      await svc.close();
      await hook.close();
    }
  }

  /** What both runs must show: the names everywhere the spec is recorded, the values nowhere. */
  function expectNamesNotValues(run: Awaited<ReturnType<typeof abortThroughFailingHook>>) {
    const { values, retrying, texts } = run;
    expect(retrying.rollback).toMatchObject({ trigger: 'abort', actor: 'sec', retrying: true });
    expect(retrying.rollback?.failedAttempts).toBeGreaterThanOrEqual(1);
    // the hook's echo reached the failure, redacted: by the hook adapter and again by the secret store
    expect(retrying.rollback?.lastError).toMatch(/^compensation POST \S+\/scale-down answered 500: .*\[redacted\]/);
    expect(texts.history).toMatch(/compensation POST \S+\/scale-down answered 500: .*\[redacted\]/);
    // names: in the spec check's marker (the resolved spec) and in each activity's input
    for (const name of ['hook-key', 'hook-token', 'target-token']) expect(texts.decodedPayloads).toContain(name);
    expectNoneOf(texts, [values.key, values.hook, values.target]);
  }

  it('a catalog hook and target authenticated by secrets, the hook echoing them in 500s: names in history, values nowhere', async () => {
    const run = await abortThroughFailingHook({ codec: false });
    expectNamesNotValues(run);
    expect(run.texts.history).toContain('hook-key');
  });

  it('the same with the payload codec: payloads encrypted, and the plaintext failure messages redacted too', async () => {
    const run = await abortThroughFailingHook({ codec: true });
    expectNamesNotValues(run);
    // encrypted: the names are only in the decrypted payloads; the failure messages are plaintext and redacted
    expect(run.texts.history).not.toContain('hook-key');
  });
});

describe('API principals: roles, approvers and the recorded actor', () => {
  it('alice approves, bob may not (409 without naming alice; 403 posing as alice), dave neither approves nor aborts, carol aborts; a rotated token applies at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollout-sec-principals-'));
    await mkdir(join(dir, 'tokens'));
    const names = ['alice', 'bob', 'carol', 'dave'] as const;
    const tokens: Record<(typeof names)[number], string> = {
      alice: `alice-${randomUUID()}`,
      bob: `bob-${randomUUID()}`,
      carol: `carol-${randomUUID()}`,
      dave: `dave-${randomUUID()}`,
    };
    for (const name of names) await writeFile(join(dir, 'tokens', name), `${tokens[name]}\n`);
    const flag = uniqueFlag('sec-approval');
    const catalog = strictCatalog(dir, {
      secrets: Object.fromEntries(names.map((n) => [`${n}-token`, { file: `tokens/${n}` }])),
      principals: {
        alice: { token: 'alice-token', roles: ['start', 'approve'] },
        bob: { token: 'bob-token', roles: ['approve'] },
        carol: { token: 'carol-token', roles: ['operate'] },
        dave: { token: 'dave-token', roles: ['start'] },
      },
      targets: { [flag]: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' } },
    });
    const h = await rolloutHarness(suite.env, suite.bundle, { catalog });
    const api = await secureApi({
      client: suite.client,
      temporalClient: suite.env.client,
      catalog,
      taskQueue: h.taskQueue,
    });
    try {
      const spec: RolloutSpecInput = {
        name: 'identity',
        target: flag,
        steps: [
          { exposure: 10 },
          { approval: { approvers: ['alice'] } },
          { exposure: 50, observe: '1h' },
          { exposure: 100 },
        ],
      };
      expect((await api.call('POST', '/rollouts', tokens.bob, spec)).status).toBe(403);
      expect((await api.call('POST', '/rollouts', tokens.carol, spec)).status).toBe(403);
      const started = await api.call('POST', '/rollouts', tokens.dave, spec);
      expect(started.status).toBe(201);
      const id = String(started.json.workflowId);
      expect(id).toBe(rolloutIdForFlag(flag));
      const phase = async () => (await api.call('GET', rolloutPath(id), tokens.bob)).json.phase;
      await waitFor(async () => (await phase()) === 'AwaitingApproval', 30_000, 'AwaitingApproval');

      const refusedApprove = await api.call('POST', rolloutPath(id, 'approve'), tokens.bob, { step: 1 });
      expect(refusedApprove).toMatchObject({
        status: 409,
        json: { error: 'cannot approve: bob is not an approver of step 2' },
      });
      expect(refusedApprove.text).not.toContain('alice');
      const posing = await api.call('POST', rolloutPath(id, 'approve'), tokens.bob, { step: 1, actor: 'alice' });
      expect(posing).toMatchObject({ status: 403, json: { error: expect.stringContaining('"bob"') } });
      for (const command of ['approve', 'abort', 'pause']) {
        const res = await api.call('POST', rolloutPath(id, command), tokens.dave, { step: 1, reason: 'x' });
        expect(res.status, `dave ${command}`).toBe(403);
      }
      expect((await api.call('POST', rolloutPath(id, 'abort'), tokens.alice, { reason: 'x' })).status).toBe(403);
      for (const token of [`${tokens.alice}x`, tokens.alice.slice(0, -1), undefined]) {
        expect((await api.call('POST', rolloutPath(id, 'approve'), token, { step: 1 })).status).toBe(401);
      }
      expect(await phase()).toBe('AwaitingApproval');

      // rotation: the file changes, the next request sees it; no restart
      const rotated = `alice-${randomUUID()}`;
      await writeFile(join(dir, 'tokens', 'alice'), `${rotated}\n`);
      expect((await api.call('GET', rolloutPath(id), tokens.alice)).status).toBe(401);
      const approved = await api.call('POST', rolloutPath(id, 'approve'), rotated, { step: 1, actor: 'alice' });
      expect(approved).toMatchObject({ status: 200, json: { accepted: true } });
      await waitFor(async () => (await phase()) === 'Observing', 30_000, 'Observing step 2');
      const status = await suite.client.status(id);
      expect(status.approvals).toEqual([expect.objectContaining({ step: 1, actor: 'alice' })]);
      expect(status.timeline).toContainEqual(expect.objectContaining({ actor: 'alice' }));

      const aborted = await api.call('POST', rolloutPath(id, 'abort'), tokens.carol, { reason: 'identity test' });
      expect(aborted).toMatchObject({ status: 200, json: { accepted: true } });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Aborted');
      const final = await suite.client.status(id);
      expect(final.rollback).toMatchObject({
        trigger: 'abort',
        actor: 'carol',
        reason: 'aborted by carol: identity test',
      });
      expect([...new Set(final.timeline.flatMap((e) => (e.actor ? [e.actor] : [])))]).toEqual(['alice', 'carol']);

      // refused commands left no trace; no token is recorded anywhere
      const history = historyText(await suite.client.handle(id).fetchHistory());
      expect(history).not.toMatch(/bob|dave/);
      expectNoneOf({ history, status: JSON.stringify(final), result: JSON.stringify(result) }, [
        ...Object.values(tokens),
        rotated,
      ]);

      // the way back is an operator's, the way forward again a starter's
      expect((await api.call('POST', rolloutPath(id, 'undo'), tokens.dave, { reason: 'x' })).status).toBe(403);
      expect(await api.call('POST', rolloutPath(id, 'undo'), tokens.carol, { reason: 'x' })).toMatchObject({
        status: 409,
        json: { error: expect.stringMatching(/the last run ended Aborted/) },
      });
      expect((await api.call('POST', rolloutPath(id, 'retry'), tokens.carol, { reason: 'x' })).status).toBe(403);
      const retried = await api.call('POST', rolloutPath(id, 'retry'), tokens.dave, { reason: 'once more' });
      expect(retried).toMatchObject({ status: 201, json: { workflowId: id, after: 'Aborted' } });
      await waitFor(async () => (await suite.client.status(id)).timeline.length > 1, 30_000, 'retried run started');
      await api.call('POST', rolloutPath(id, 'abort'), tokens.carol, { reason: 'cleanup' });
      expect((await suite.client.result(id)).phase).toBe('Aborted');
    } finally {
      await api.close();
      await h.stop();
    }
  });
});

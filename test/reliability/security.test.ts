import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { createLogger } from '../../src/logger.js';
import { WORKFLOW_TYPE, type RolloutResult } from '../../workflows/messages.js';
import { httpRecorder, type HttpRecorder } from '../helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { flagService } from './flag-service.js';
import { historyText } from './history-text.js';

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

describe('secrets named by environment variable never enter workflow history', () => {
  const TARGET_VAR = 'ROLLOUT_SEC_TARGET_TOKEN';
  const HOOK_VAR = 'ROLLOUT_SEC_HOOK_TOKEN';

  /**
   * Runs a rollout whose target and compensation authenticate by tokenEnv, aborts it (optionally while the target
   * answers 503 until a rollback attempt has failed), and returns the secrets and what history, status and result show.
   */
  async function rollOutAndBack(opts: { targetOutage?: { echo: boolean }; hook?: HttpRecorder['respond'] }) {
    const secrets = { target: `tgt-${randomUUID()}`, hook: `hook-${randomUUID()}` };
    const svc = await flagService();
    const hooks = await httpRecorder();
    if (opts.hook) hooks.respond = opts.hook;
    const h = await rolloutHarness(suite.env, suite.bundle, {
      env: { [TARGET_VAR]: secrets.target, [HOOK_VAR]: secrets.hook },
    });
    try {
      const flag = uniqueFlag('sec-secret');
      const spec: RolloutSpecInput = {
        name: 'secrets',
        target: {
          type: 'http',
          url: `${svc.url}/flags/${flag}`,
          flag,
          variant: 'on',
          baselineVariant: 'off',
          tokenEnv: TARGET_VAR,
        },
        steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
        rollback: {
          compensations: [
            { name: 'scale-down', http: { url: `${hooks.url}/scale-down`, body: { replicas: 0 }, tokenEnv: HOOK_VAR } },
          ],
        },
      };
      const { workflowId: id } = await h.start(spec);
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing', 20_000, 'Observing');
      if (opts.targetOutage) svc.outage(503, opts.targetOutage.echo);
      await suite.client.abort(id, { reason: 'security drill', actor: 'sec' });
      if (opts.targetOutage) {
        await waitFor(
          async () => ((await suite.client.status(id)).rollback?.failedAttempts ?? 0) >= 1,
          20_000,
          'a failed rollback attempt',
        );
        svc.recover();
      }
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Aborted');
      // the tokens did travel, to the right places
      expect(svc.puts.length).toBeGreaterThanOrEqual(2);
      expect(svc.puts.every((p) => p.authorization === `Bearer ${secrets.target}`)).toBe(true);
      expect(hooks.requests.length).toBeGreaterThanOrEqual(1);
      expect(hooks.requests.every((r) => r.headers.authorization === `Bearer ${secrets.hook}`)).toBe(true);
      const history = await suite.client.handle(id).fetchHistory();
      const seen = {
        history: historyText(history),
        status: JSON.stringify(await suite.client.status(id)),
        result: JSON.stringify(result),
      };
      return { secrets, seen };
    } finally {
      await h.stop();
      await svc.close();
      await hooks.close();
    }
  }

  it('well-behaved services: history, status and result hold the variable names and never the values', async () => {
    // one failed rollback attempt, so failure events are in history too
    const { secrets, seen } = await rollOutAndBack({ targetOutage: { echo: false } });
    expect(seen.history).toContain(TARGET_VAR);
    expect(seen.history).toContain(HOOK_VAR);
    expect(seen.history).toMatch(/answered 503/);
    for (const [where, text] of Object.entries(seen)) {
      expect(text, where).not.toContain(secrets.target);
      expect(text, where).not.toContain(secrets.hook);
    }
  });

  it('a flag service that reflects the Authorization header in its error body: the target redacts it', async () => {
    const { secrets, seen } = await rollOutAndBack({ targetOutage: { echo: true } });
    expect(seen.history).toMatch(/Bearer \[redacted\]/);
    for (const text of Object.values(seen)) expect(text).not.toContain(secrets.target);
  });

  it('a hook reflecting Authorization in its error body does not put the secret into history', async () => {
    let calls = 0;
    const { secrets, seen } = await rollOutAndBack({
      hook: (req) => (++calls === 1 ? { status: 500, body: { youSent: req.headers.authorization } } : { status: 200 }),
    });
    expect(calls).toBe(2);
    expect(seen.history).toMatch(/compensation POST \S+ answered 500: .*youSent.*Bearer \[redacted\]/);
    for (const text of Object.values(seen)) {
      expect(text).not.toContain(secrets.hook);
      expect(text).not.toContain(secrets.target);
    }
  });
});

describe('an untrusted flagd target spec, started as any Temporal SDK would (no client-side validation)', () => {
  /** A worker whose base directory has a sibling `outside`: where an escaping path would write. */
  async function confinedHarness() {
    const parent = await mkdtemp(join(tmpdir(), 'rollout-confined-'));
    const base = join(parent, 'base');
    const outside = join(parent, 'outside');
    await mkdir(base);
    await mkdir(outside);
    return { base, outside, h: await rolloutHarness(suite.env, suite.bundle, { baseDir: base }) };
  }

  const FIX = 'add it to the flag or fix the target spec (the file was left untouched)';

  /** The message of every failed activity attempt in the run's history: one refused first write, no more. */
  const activityFailures = async (handle: WorkflowHandle) =>
    ((await handle.fetchHistory()).events ?? []).flatMap((e) => {
      const message = e.activityTaskFailedEventAttributes?.failure?.message;
      return message ? [message] : [];
    });

  const startRaw = (taskQueue: string, spec: RolloutSpecInput) =>
    suite.env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId: rolloutIdForFlag(spec.target.flag),
      args: [{ spec }],
    });

  it('refuses variant "__proto__" and paths out of the base directory as InvalidSpec, writing nothing', async () => {
    const { base, outside, h } = await confinedHarness();
    try {
      const cases: [Partial<RolloutSpecInput['target']>, RegExp][] = [
        [{ variant: '__proto__' }, /target\.variant: .*reserved/],
        [{ path: '../x.json' }, /target\.path: must not contain "\.\." segments/],
        [{ path: '../outside/x.json' }, /target\.path: must not contain "\.\." segments/],
        [{ path: join(outside, 'x.json') }, /target\.path: must be relative/],
      ];
      for (const [patch, message] of cases) {
        const spec = flagdSpec(uniqueFlag('sec-path'), [{ exposure: 10 }, { exposure: 100 }]);
        spec.target = { ...spec.target, ...patch } as RolloutSpecInput['target'];
        const handle = await startRaw(h.taskQueue, spec);
        await expect(handle.result(), JSON.stringify(patch)).rejects.toMatchObject({
          cause: { type: 'InvalidSpec', message: expect.stringMatching(message) },
        });
      }
      expect(await readdir(outside)).toEqual([]);
      expect(await readdir(join(base, '..'))).toEqual(['base', 'outside']);
      expect(await readdir(base)).toEqual([]);
    } finally {
      await h.stop();
    }
  });

  it('a variant missing from an existing flag: refused before any write, rolled back at once, not stuck', async () => {
    const { base, h } = await confinedHarness();
    try {
      const flag = uniqueFlag('sec-variant');
      const file = join(base, 'flags.json');
      const existing = { state: 'ENABLED', variants: { blue: true, off: false }, defaultVariant: 'off' };
      await writeFile(file, JSON.stringify({ flags: { [flag]: existing } }, null, 2));
      const handle = await startRaw(h.taskQueue, flagdSpec(flag, [{ exposure: 10, observe: '1h' }, { exposure: 100 }]));
      const result = (await handle.result()) as RolloutResult;
      expect(result.phase).toBe('RolledBack');
      // the reason is the target's own explanation, not the activity wrapper's
      expect(result.reason).toBe(`rollout failed: flag "${flag}" in flags.json has no variant "on"; ${FIX}`);
      expect(await activityFailures(handle)).toEqual([`flag "${flag}" in flags.json has no variant "on"; ${FIX}`]);
      expect(result.exposure).toEqual({ percent: 0 });
      expect(result.rollback).toMatchObject({ failedAttempts: 0, retrying: false });
      // the flag still serves what it served: same variants, same default, nobody on a variant it lacks
      const after = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, Record<string, unknown>> };
      expect(after.flags[flag]).toMatchObject({ variants: existing.variants, defaultVariant: 'off', targeting: {} });
    } finally {
      await h.stop();
    }
  });

  it('a missing baseline: the first write is refused, and the rollback leaves the file byte for byte', async () => {
    const { base, h } = await confinedHarness();
    try {
      const flag = uniqueFlag('sec-baseline');
      const file = join(base, 'flags.json');
      const existing = { state: 'ENABLED', variants: { on: true, legacy: false }, defaultVariant: 'legacy' };
      await writeFile(file, JSON.stringify({ flags: { [flag]: existing } }, null, 2));
      const before = await readFile(file, 'utf8');
      const handle = await startRaw(h.taskQueue, flagdSpec(flag, [{ exposure: 10, observe: '1h' }, { exposure: 100 }]));
      const result = (await handle.result()) as RolloutResult;
      expect(result.phase).toBe('RolledBack');
      expect(await activityFailures(handle)).toEqual([`flag "${flag}" in flags.json has no variant "off"; ${FIX}`]);
      expect(result.rollback).toMatchObject({ failedAttempts: 0 });
      expect(await readFile(file, 'utf8')).toBe(before);
    } finally {
      await h.stop();
    }
  });
});

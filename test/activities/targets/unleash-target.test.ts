import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnleashTarget } from '../../../activities/targets/unleash/unleash-target.js';
import { TargetError, targetRegistry } from '../../../activities/targets/index.js';
import type { ExposureChange } from '../../../src/domain/exposure.schema.js';
import { TargetSpec, UnleashTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { MemoryTargetRegistry } from '../../../activities/targets/memory/memory-target.js';
import { uniqueFlag } from '../../helpers/rollout-env.js';
import { sdkView, serves, startUnleash, type RunningUnleash } from '../../helpers/unleash-server.js';

/** Against a real Unleash server (scripts/ensure-unleash.sh provisions it), read back with the official SDK. */
let unleash: RunningUnleash;
beforeAll(async () => {
  unleash = await startUnleash();
}, 600_000);
afterAll(async () => {
  await unleash?.stop();
});

const SECRET = 'unleash-admin';
const secretOf = (token: () => string) => (name: string) =>
  name === SECRET ? Promise.resolve(token()) : Promise.reject(new Error(`secret "${name}" is not declared`));

/** A target over a fresh flag; `calls` records each request as `METHOD path`. */
function targetFor(flag: string, extra: Partial<UnleashTargetSpec> = {}, token = () => unleash.adminToken) {
  const calls: string[] = [];
  const recording: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  const spec = UnleashTargetSpec.parse({
    type: 'unleash',
    url: unleash.url,
    token: SECRET,
    flag,
    variant: 'on',
    baselineVariant: 'off',
    ...extra,
  });
  return { target: createUnleashTarget(spec, { secret: secretOf(token), fetch: recording }), calls };
}

const change = (percent: number, cohort?: ExposureChange['cohort']): ExposureChange => ({
  percent,
  ...(cohort ? { cohort } : {}),
  idempotencyKey: `key-${percent}-${Math.random()}`,
});

async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${unleash.url}/api/admin${path}`, {
    method,
    headers: { authorization: unleash.adminToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

interface EnvState {
  enabled: boolean;
  strategies: {
    id: string;
    name: string;
    parameters: Record<string, string>;
    constraints: unknown[];
    variants: { name: string; weight: number }[];
  }[];
}
const development = async (flag: string) => {
  const feature = (await admin('GET', `/projects/default/features/${flag}`)) as {
    environments: (EnvState & { name: string })[];
  };
  return feature.environments.find((e) => e.name === 'development')!;
};

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a TargetError'),
    (err: unknown) => err as TargetError,
  );

describe('unleash target against a real Unleash server', () => {
  it('rolls 10 → 50 → 100 → 0 % on one flexible rollout strategy; the official SDK sees ≈ that share on "on"', async () => {
    const flag = uniqueFlag('unl');
    const { target } = targetFor(flag);
    expect(await target.read()).toEqual({ percent: 0 });
    await target.check?.();
    let strategyId: string | undefined;
    for (const percent of [10, 50, 100, 0]) {
      expect(await target.apply(change(percent))).toEqual({ percent });
      expect(await target.read()).toEqual({ percent });

      const env = await development(flag);
      expect(env.enabled).toBe(true); // 0 % keeps it enabled, serving no one
      expect(env.strategies).toHaveLength(1);
      const [strategy] = env.strategies;
      expect(strategy).toMatchObject({
        name: 'flexibleRollout',
        parameters: { rollout: String(percent), stickiness: 'default', groupId: flag },
        constraints: [],
        variants: [expect.objectContaining({ name: 'on', weight: 1000 })],
      });
      strategyId ??= strategy!.id;
      expect(strategy!.id).toBe(strategyId); // replaced in place, never a second one

      const view = await sdkView(unleash, flag, { until: (v) => serves(v, percent, 'on') });
      const share = (view.enabled / view.users) * 100;
      expect(share).toBeGreaterThanOrEqual(Math.max(0, percent - 4));
      expect(share).toBeLessThanOrEqual(Math.min(100, percent + 4));
      expect(view.variants).toEqual({
        ...(view.enabled > 0 ? { on: view.enabled } : {}),
        ...(view.enabled < view.users ? { disabled: view.users - view.enabled } : {}),
      });
      if (percent === 0 || percent === 100) expect(view.enabled).toBe((view.users * percent) / 100);
    }
  });

  it('a cohort becomes one IN constraint: the SDK serves only users in it', async () => {
    const flag = uniqueFlag('unl-cohort');
    const { target } = targetFor(flag);
    const cohort = { attribute: 'region', values: ['eu-west', 'eu-north'] };
    expect(await target.apply(change(100, cohort))).toEqual({ percent: 100, cohort });
    expect(await target.read()).toEqual({ percent: 100, cohort });
    const [strategy] = (await development(flag)).strategies;
    expect(strategy!.constraints).toEqual([
      expect.objectContaining({ contextName: 'region', operator: 'IN', values: ['eu-west', 'eu-north'] }),
    ]);
    const inEu = { users: 500, properties: { region: 'eu-west' } };
    expect((await sdkView(unleash, flag, { ...inEu, until: (v) => v.enabled > 0 })).variants).toEqual({ on: 500 });
    expect((await sdkView(unleash, flag, { users: 500, properties: { region: 'us-east' } })).enabled).toBe(0);

    await target.apply(change(30, cohort));
    const north = { properties: { region: 'eu-north' } };
    const some = await sdkView(unleash, flag, { ...north, until: (v) => serves(v, 30, 'on') });
    expect(some.enabled / some.users).toBeGreaterThan(0.26);
    expect(some.enabled / some.users).toBeLessThan(0.34);
    expect(some.variants.on).toBe(some.enabled);
    // back to the whole population: the constraint is gone
    await target.apply(change(100));
    expect(await target.read()).toEqual({ percent: 100 });
    const us = { users: 300, properties: { region: 'us-east' } };
    expect((await sdkView(unleash, flag, { ...us, until: (v) => v.enabled === 300 })).enabled).toBe(300);
  });

  it('the same change twice is harmless: the second only reads', async () => {
    const flag = uniqueFlag('unl-idem');
    const { target, calls } = targetFor(flag);
    const cohort = { attribute: 'tenant', values: ['acme'] };
    await target.apply(change(25, cohort));
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([
      'POST /api/admin/projects/default/features',
      `POST /api/admin/projects/default/features/${flag}/environments/development/strategies`,
      `POST /api/admin/projects/default/features/${flag}/environments/development/on`,
    ]);
    calls.length = 0;
    expect(await target.apply(change(25, cohort))).toEqual({ percent: 25, cohort });
    expect(calls).toEqual([`GET /api/admin/projects/default/features/${flag}`]);
    expect((await development(flag)).strategies).toHaveLength(1);
  });

  it('0 % leaves an operator’s kill switch off; a rollback on a flag that never existed creates nothing', async () => {
    const flag = uniqueFlag('unl-kill');
    const { target } = targetFor(flag);
    await target.apply(change(40));
    await admin('POST', `/projects/default/features/${flag}/environments/development/off`);
    expect(await target.read()).toEqual({ percent: 0 });
    await target.apply(change(0));
    expect((await development(flag)).enabled).toBe(false);
    expect((await sdkView(unleash, flag, { users: 200, until: (v) => v.enabled === 0 })).enabled).toBe(0);
    await target.apply(change(20));
    expect((await development(flag)).enabled).toBe(true);
    expect(await target.read()).toEqual({ percent: 20 });

    const neverFlag = uniqueFlag('unl-never');
    const never = targetFor(neverFlag);
    expect(await never.target.apply(change(0))).toEqual({ percent: 0 });
    expect(never.calls).toEqual([`GET /api/admin/projects/default/features/${neverFlag}`]);
    await expect(admin('GET', `/projects/default/features/${neverFlag}`)).rejects.toThrow(/answered 404/);
  });

  it('a fractional percent is REFUSED before any request', async () => {
    const { target, calls } = targetFor(uniqueFlag('unl-frac'));
    const err = await errorOf(target.apply(change(12.5)));
    expect(err).toBeInstanceOf(TargetError);
    expect(err).toMatchObject({ code: 'REFUSED', retryable: false });
    expect(err.message).toMatch(/whole percentages.*12\.5 %/);
    expect(calls).toEqual([]);
  });

  it('a token Unleash does not accept is a retryable CONFIG error that names the secret, never its value', async () => {
    const bad = `*:*.${'f00d'.repeat(12)}`;
    const { target } = targetFor(uniqueFlag('unl-token'), {}, () => bad);
    for (const call of [() => target.check!(), () => target.read(), () => target.apply(change(10))]) {
      const err = await errorOf(call());
      expect(err).toMatchObject({ code: 'CONFIG', retryable: true });
      expect(err.message).toMatch(/answered 401.*catalog secret "unleash-admin"/);
      expect(err.message).not.toContain(bad);
      expect(err.message).not.toContain('f00d');
    }
  });

  it('a secret the worker cannot read is a retryable CONFIG error naming it, before any request', async () => {
    const calls: string[] = [];
    const spec = UnleashTargetSpec.parse({
      type: 'unleash',
      url: unleash.url,
      token: 'unset-secret',
      flag: uniqueFlag('unl-nosecret'),
      variant: 'on',
      baselineVariant: 'off',
    });
    const target = createUnleashTarget(spec, {
      secret: secretOf(() => unleash.adminToken),
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    expect(await errorOf(target.apply(change(10)))).toMatchObject({
      code: 'CONFIG',
      retryable: true,
      message: /secret "unset-secret" is not declared/,
    });
    expect(calls).toEqual([]);
  });

  it('a flag with a strategy the target does not keep is a CONFIG error, and is left untouched', async () => {
    const flag = uniqueFlag('unl-foreign');
    await admin('POST', '/projects/default/features', { name: flag, type: 'release' });
    await admin('POST', `/projects/default/features/${flag}/environments/development/strategies`, {
      name: 'default',
      constraints: [],
      parameters: {},
    });
    const { target, calls } = targetFor(flag);
    for (const call of [() => target.check!(), () => target.read(), () => target.apply(change(10))]) {
      const err = await errorOf(call());
      expect(err).toMatchObject({ code: 'CONFIG', retryable: true });
      expect(err.message).toMatch(/has 1 strategies \(default\); the target keeps exactly one flexibleRollout/);
    }
    expect(calls.every((c) => c.startsWith('GET'))).toBe(true);
    expect((await development(flag)).strategies).toEqual([expect.objectContaining({ name: 'default' })]);
  });

  it('a project or environment that does not exist is a CONFIG error naming it', async () => {
    const project = targetFor(uniqueFlag('unl-proj'), { project: 'no-such-project' }).target;
    expect(await errorOf(project.check!())).toMatchObject({
      code: 'CONFIG',
      message: /has no project "no-such-project" to create flag "unl-proj-\w+" in \(it has: "default"\)/,
    });
    expect(await errorOf(project.apply(change(10)))).toMatchObject({ code: 'CONFIG' });
    const env = targetFor(uniqueFlag('unl-env'), { environment: 'staging' }).target;
    expect(await errorOf(env.apply(change(10)))).toMatchObject({
      code: 'CONFIG',
      message: /no environment "staging" in project "default" \(it has: "development", "production"\)/,
    });
  });

  it('an unreachable server is UNAVAILABLE and retryable', async () => {
    const { target } = targetFor(uniqueFlag('unl-down'), { url: 'http://127.0.0.1:1', timeoutMs: 2_000 });
    expect(await errorOf(target.read())).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });

  it('is a built-in kind: a catalog entry of type unleash reaches the same server', async () => {
    const flag = uniqueFlag('unl-registry');
    const spec = TargetSpec.parse({
      type: 'unleash',
      url: unleash.url,
      token: SECRET,
      flag,
      variant: 'on',
      baselineVariant: 'off',
    });
    const target = targetRegistry().create(spec, {
      secret: secretOf(() => unleash.adminToken),
      rootDir: () => undefined,
      memory: new MemoryTargetRegistry(),
    });
    expect(target.describe).toBe(`unleash:${unleash.url}/default/development#${flag}`);
    await target.apply(change(60));
    expect(await target.read()).toEqual({ percent: 60 });
  });
});

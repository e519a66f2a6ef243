import { basicLogger, init, type LDClient } from '@launchdarkly/node-server-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTarget, MemoryTargetRegistry } from '../../../activities/targets/index.js';
import {
  createLaunchDarklyTarget,
  launchDarklyTarget,
} from '../../../activities/targets/launchdarkly/launchdarkly-target.js';
import type { TargetError } from '../../../activities/targets/port.js';
import { LaunchDarklyTargetSpec, TargetSpec } from '../../../src/domain/target-spec.schema.js';
import { startLaunchDarklyFake, type LaunchDarklyFake } from '../../helpers/launchdarkly-fake.js';
import { catalogSecrets } from '../catalog-secrets.js';

const TOKEN = 'api-0d5e7c1f-token-value';
const SDK_KEY = 'sdk-6a1b9e22-production';
const FLAG = 'new-checkout';
/** Contexts the official SDK evaluates per observation; ±3 points is beyond 5 standard deviations at 2,000. */
const CONTEXTS = 2_000;
const BAND = 3;

let fake: LaunchDarklyFake;
const sdkClients = new Set<LDClient>();

beforeAll(async () => {
  fake = await startLaunchDarklyFake({
    apiToken: TOKEN,
    project: 'shop',
    environments: [
      { key: 'production', sdkKey: SDK_KEY },
      { key: 'staging', sdkKey: 'sdk-staging' },
    ],
  });
});

afterAll(async () => {
  for (const client of sdkClients) client.close();
  await fake.close();
});

beforeEach(() => {
  // Named variations whose values differ from their names: the SDK serves values, the target finds names.
  fake.createFlag(
    FLAG,
    [
      { value: 'legacy', name: 'control' },
      { value: 'v2', name: 'treatment' },
    ],
    { offVariation: 0 },
  );
  fake.audit.length = 0;
  fake.requests.length = 0;
});

/** The catalog declares secret `ld-api-token` in LD_API_TOKEN; the target's entry names it. */
function target(overrides: Partial<LaunchDarklyTargetSpec> = {}, env: NodeJS.ProcessEnv = { LD_API_TOKEN: TOKEN }) {
  const spec = LaunchDarklyTargetSpec.parse({
    type: 'launchdarkly',
    url: fake.url,
    token: 'ld-api-token',
    project: 'shop',
    environment: 'production',
    flag: FLAG,
    variant: 'treatment',
    baselineVariant: 'control',
    ...overrides,
  });
  const { secret } = catalogSecrets({ 'ld-api-token': { env: 'LD_API_TOKEN' } }, env);
  return createLaunchDarklyTarget(spec, { secret });
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a TargetError'),
    (e: unknown) => e as TargetError,
  );

const patches = () => fake.requests.filter((r) => r.method === 'PATCH');
const variationId = (name: string) => fake.flag(FLAG)?.variations.find((v) => v.name === name)?._id ?? '';

/**
 * What the official server-side SDK serves `CONTEXTS` user contexts. A fresh client per observation: a polling
 * client fetches `/sdk/latest-all` once at start and then no more often than every 30 s.
 */
async function sdkServes(flag = FLAG, served: unknown = 'v2'): Promise<{ percent: number; keys: Set<string> }> {
  const client = init(SDK_KEY, {
    baseUri: fake.url,
    streamUri: fake.url,
    eventsUri: fake.url,
    stream: false,
    sendEvents: false,
    diagnosticOptOut: true,
    logger: basicLogger({ level: 'none' }),
  });
  sdkClients.add(client);
  try {
    await client.waitForInitialization({ timeout: 30 });
    const keys = new Set<string>();
    for (let i = 0; i < CONTEXTS; i++) {
      const key = `user-${i}`;
      if ((await client.variation(flag, { kind: 'user', key }, 'sdk-default')) === served) keys.add(key);
    }
    return { percent: (keys.size * 100) / CONTEXTS, keys };
  } finally {
    client.close();
    sdkClients.delete(client);
  }
}

describe("launchdarkly target against a fake built from LaunchDarkly's published API contract", () => {
  it('applies 5 % as one semantic patch: flag on, rollout weights in thousandths, the raw token, the key in the comment', async () => {
    const reading = await target().apply({ percent: 5, idempotencyKey: 'wf-1/step-0' });

    expect(reading).toEqual({ percent: 5, lastKey: 'wf-1/step-0' });
    const [patch] = patches();
    expect(patch?.path).toBe(`/api/v2/flags/shop/${FLAG}`);
    expect(patch?.headers['authorization']).toBe(TOKEN);
    expect(patch?.headers['content-type']).toBe('application/json; domain-model=launchdarkly.semanticpatch');
    expect(patch?.headers['ld-api-version']).toBe('20240415');
    expect(JSON.parse(patch?.body ?? '')).toEqual({
      environmentKey: 'production',
      comment: expect.stringContaining('wf-1/step-0') as string,
      instructions: [
        { kind: 'turnFlagOn' },
        {
          kind: 'updateFallthroughVariationOrRollout',
          rolloutWeights: { [variationId('treatment')]: 5_000, [variationId('control')]: 95_000 },
          rolloutBucketBy: 'key',
        },
      ],
    });
    expect(fake.audit.map((a) => a.comment)).toEqual([expect.stringContaining('wf-1/step-0')]);
    expect(fake.flag(FLAG)?.environments['staging']?.on).toBe(false);
    expect(await target().read()).toEqual({ percent: 5 });
  });

  it('walks 5 → 50 → 100 → 0 %, each read back exactly and served by the official SDK to ≈ that share', async () => {
    const t = target();
    let exposedAt5 = new Set<string>();
    for (const percent of [5, 50, 100, 0]) {
      await t.apply({ percent, idempotencyKey: `wf-2/${percent}` });
      expect(await t.read()).toEqual({ percent });
      const sdk = await sdkServes();
      if (percent === 0 || percent === 100) expect(sdk.percent).toBe(percent);
      else expect(Math.abs(sdk.percent - percent)).toBeLessThanOrEqual(BAND);
      // Sticky bucketing: raising the share only adds contexts.
      if (percent === 5) exposedAt5 = sdk.keys;
      if (percent === 50) expect([...exposedAt5].filter((k) => !sdk.keys.has(k))).toEqual([]);
    }
    expect(fake.audit).toHaveLength(4);
  });

  it('repeats an apply without patching again: the flag keeps its version and the audit log one entry', async () => {
    const t = target();
    await t.apply({ percent: 25, idempotencyKey: 'wf-3/step-1' });
    const version = fake.flag(FLAG)?.environments['production']?.version;

    expect(await t.apply({ percent: 25, idempotencyKey: 'wf-3/step-1' })).toEqual({
      percent: 25,
      lastKey: 'wf-3/step-1',
    });
    expect(patches()).toHaveLength(1);
    expect(fake.audit).toHaveLength(1);
    expect(fake.flag(FLAG)?.environments['production']?.version).toBe(version);
  });

  it('holds fractional percentages exactly to 0.001 % and refuses finer ones without writing', async () => {
    const t = target();
    await t.apply({ percent: 0.5, idempotencyKey: 'wf-4/0.5' });
    expect(await t.read()).toEqual({ percent: 0.5 });
    const body = JSON.parse(patches()[0]?.body ?? '') as { instructions: { rolloutWeights?: object }[] };
    expect(body.instructions[1]?.rolloutWeights).toEqual({
      [variationId('treatment')]: 500,
      [variationId('control')]: 99_500,
    });
    const { keys } = await sdkServes();
    expect(keys.size).toBeGreaterThan(0);
    expect(keys.size).toBeLessThan(30); // 0.5 % of 2,000 is 10

    for (const percent of [12.345, 0.001]) {
      await t.apply({ percent, idempotencyKey: `wf-4/${percent}` });
      expect(await t.read()).toEqual({ percent });
    }
    const error = await failure(t.apply({ percent: 0.0005, idempotencyKey: 'wf-4/finer' }));
    expect(error.code).toBe('REFUSED');
    expect(error.message).toContain('0.001 %');
    expect(patches()).toHaveLength(3);
  });

  it('refuses a cohort step before contacting LaunchDarkly', async () => {
    const cohort = { attribute: 'region', values: ['eu-west'] };
    const error = await failure(target().apply({ percent: 10, cohort, idempotencyKey: 'wf-5/step-0' }));

    expect(error.code).toBe('REFUSED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('cohort');
    expect(fake.requests).toEqual([]);
  });

  it('finds variations by their value when unnamed, boolean flags included', async () => {
    fake.createFlag('dark-mode', [{ value: true }, { value: false }]);
    const t = target({ flag: 'dark-mode', variant: 'true', baselineVariant: 'false' });

    await t.check?.();
    await t.apply({ percent: 30, idempotencyKey: 'wf-6/step-0' });
    expect(await t.read()).toEqual({ percent: 30 });
    expect(Math.abs((await sdkServes('dark-mode', true)).percent - 30)).toBeLessThanOrEqual(BAND);
  });

  it('reads a flag that is off as its off variation, and reports a fixed default rule as 0 or 100 %', async () => {
    fake.createFlag(
      'served-off',
      [
        { value: 'v2', name: 'treatment' },
        { value: 'legacy', name: 'control' },
      ],
      {
        onVariation: 1,
        offVariation: 0,
      },
    );
    expect(await target({ flag: 'served-off' }).read()).toEqual({ percent: 100 });
    // Back to 0 % turns the flag on, serving the baseline from its default rule.
    await target({ flag: 'served-off' }).apply({ percent: 0, idempotencyKey: 'wf-7/rollback' });
    expect(await target({ flag: 'served-off' }).read()).toEqual({ percent: 0 });
    expect((await sdkServes('served-off')).percent).toBe(0);
  });

  it('reports a wrong token as CONFIG (retryable), naming the catalog secret and never the token', async () => {
    const wrong = 'api-wrong-token-value';
    const error = await failure(target({}, { LD_API_TOKEN: wrong }).read());

    expect(error.code).toBe('CONFIG');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('answered 401');
    expect(error.message).toContain('"ld-api-token"');
    expect(error.message).not.toContain(wrong);
  });

  it('redacts the token when a server echoes it in an error body', async () => {
    fake.failNext({ status: 403, body: { code: 'forbidden', message: `token ${TOKEN} may not write` } });
    const error = await failure(target().apply({ percent: 5, idempotencyKey: 'k' }));

    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(TOKEN);
  });

  it('reports an unknown flag or environment as NOT_FOUND, naming the keys', async () => {
    const flag = await failure(target({ flag: 'no-such-flag' }).read());
    expect(flag.code).toBe('NOT_FOUND');
    expect(flag.message).toContain('"no-such-flag"');
    expect(flag.message).toContain('"shop"');

    const env = await failure(target({ environment: 'qa' }).apply({ percent: 5, idempotencyKey: 'k' }));
    expect(env.code).toBe('NOT_FOUND');
    expect(env.message).toContain('"qa"');
    expect(patches()).toEqual([]);
  });

  it.each([
    [500, {}],
    [503, {}],
    [409, {}],
    [429, { 'retry-after': '30' }],
  ])('treats %i as UNAVAILABLE and retryable', async (status, headers) => {
    fake.failNext({ status, body: { code: 'rate_limited', message: 'try again later' }, headers });
    const error = await failure(target().apply({ percent: 5, idempotencyKey: 'k' }));

    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`answered ${status}`);
    if (status === 429) expect(error.message).toContain('Retry-After: 30');
    expect(patches()).toEqual([]);
  });

  it('treats an unreachable API as UNAVAILABLE and a missing secret as CONFIG, both retryable', async () => {
    const down = await failure(target({ url: 'http://127.0.0.1:9' }).read());
    expect([down.code, down.retryable]).toEqual(['UNAVAILABLE', true]);

    const unset = await failure(target({}, {}).read());
    expect([unset.code, unset.retryable]).toEqual(['CONFIG', true]);
    expect(unset.message).toContain('ld-api-token');
  });

  it('refuses a flag without the named variations in check() and apply(), but rolls back to its baseline', async () => {
    const t = target({ variant: 'express' });
    const checked = await failure(t.check?.() ?? Promise.resolve());
    expect([checked.code, checked.retryable]).toEqual(['CONFIG', false]);
    expect(checked.message).toContain('"express"');

    expect((await failure(t.apply({ percent: 5, idempotencyKey: 'k' }))).code).toBe('CONFIG');
    expect(patches()).toEqual([]);
    // Back to 0 % needs only the baseline: a flag off and serving another variation gets the baseline outright.
    fake.createFlag(FLAG, [{ value: 'legacy', name: 'control' }, { value: 'v2' }], { offVariation: 1 });
    expect(await t.apply({ percent: 0, idempotencyKey: 'rollback' })).toEqual({ percent: 0, lastKey: 'rollback' });
    expect(JSON.parse(patches()[0]?.body ?? '')).toMatchObject({
      instructions: [{ kind: 'turnFlagOn' }, { variationId: variationId('control') }],
    });
    expect((await failure(target({ baselineVariant: 'none' }).check?.() ?? Promise.resolve())).code).toBe('CONFIG');
  });

  it('is a built-in kind: a catalog entry of type launchdarkly creates it', async () => {
    const spec = TargetSpec.parse({
      type: 'launchdarkly',
      url: fake.url,
      token: 'ld-api-token',
      project: 'shop',
      environment: 'production',
      flag: FLAG,
      variant: 'treatment',
      baselineVariant: 'control',
    });
    const { secret } = catalogSecrets({ 'ld-api-token': { env: 'LD_API_TOKEN' } }, { LD_API_TOKEN: TOKEN });
    const t = createTarget(spec, { memory: new MemoryTargetRegistry(), rootDir: () => undefined, secret });

    expect(launchDarklyTarget.kind).toBe('launchdarkly');
    expect(t.describe).toBe(`launchdarkly:shop/production#${FLAG}`);
    await t.apply({ percent: 40, idempotencyKey: 'k' });
    expect(await t.read()).toEqual({ percent: 40 });
  });

  it('the fake answers what LaunchDarkly rejects with its { code, message } errors', async () => {
    const patch = (contentType: string, instructions: unknown[]) =>
      fetch(`${fake.url}/api/v2/flags/shop/${FLAG}`, {
        method: 'PATCH',
        headers: { authorization: TOKEN, 'content-type': contentType },
        body: JSON.stringify({ environmentKey: 'production', instructions }),
      });
    const semantic = 'application/json; domain-model=launchdarkly.semanticpatch';
    const cases = [
      await patch('application/json', [{ kind: 'turnFlagOn' }]),
      await patch(semantic, [{ kind: 'addRule', clauses: [] }]),
      await patch(semantic, [{ kind: 'updateFallthroughVariationOrRollout', rolloutWeights: { nope: 100_000 } }]),
    ];
    for (const response of cases) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'invalid_request', message: expect.any(String) as string });
    }
    expect(fake.flag(FLAG)?.environments['production']?.on).toBe(false);
  });
});

import { basicLogger, init } from '@launchdarkly/node-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogOf } from '../../src/catalog/load.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { startLaunchDarklyFake, type LaunchDarklyFake } from '../helpers/launchdarkly-fake.js';
import { rolloutHarness, uniqueFlag } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();
const TOKEN = 'api-51c0ffee-rollout-token';
const SDK_KEY = 'sdk-rollout-production';

describe("a rollout on Temporal driving LaunchDarkly (a fake built from LaunchDarkly's published API contract)", () => {
  let fake: LaunchDarklyFake;

  beforeAll(async () => {
    fake = await startLaunchDarklyFake({
      apiToken: TOKEN,
      project: 'shop',
      environments: [{ key: 'production', sdkKey: SDK_KEY }],
    });
  });
  afterAll(async () => {
    await fake?.close();
  });

  /** Runs `steps` against a catalog target named after `flag`, the token in the worker's environment. */
  async function rollout(flag: string, steps: RolloutSpecInput['steps']) {
    const catalog = catalogOf({
      secrets: { 'ld-api-token': { env: 'LD_API_TOKEN' } },
      targets: {
        [flag]: {
          type: 'launchdarkly',
          url: fake.url,
          token: 'ld-api-token',
          project: 'shop',
          environment: 'production',
          flag,
          variant: 'treatment',
          baselineVariant: 'control',
        },
      },
    });
    const h = await rolloutHarness(suite.env, suite.bundle, { catalog, env: { LD_API_TOKEN: TOKEN } });
    try {
      const { workflowId } = await suite.client.start(
        { name: 'checkout-v2', target: flag, steps },
        { taskQueue: h.taskQueue },
      );
      return await suite.client.result(workflowId);
    } finally {
      await h.stop();
    }
  }

  /** The share of 2,000 user contexts the official SDK, polling the fake once, serves the treatment's value. */
  async function sdkPercent(flag: string): Promise<number> {
    const client = init(SDK_KEY, {
      baseUri: fake.url,
      streamUri: fake.url,
      eventsUri: fake.url,
      stream: false,
      sendEvents: false,
      diagnosticOptOut: true,
      logger: basicLogger({ level: 'none' }),
    });
    try {
      await client.waitForInitialization({ timeout: 30 });
      let served = 0;
      for (let i = 0; i < 2_000; i++) {
        if ((await client.variation(flag, { kind: 'user', key: `user-${i}` }, 'sdk-default')) === 'v2') served += 1;
      }
      return served / 20;
    } finally {
      client.close();
    }
  }

  it('completes 5 → 50 → 100 %, the official SDK serving the treatment to everyone at the end', async () => {
    const flag = uniqueFlag('ld');
    fake.createFlag(flag, [
      { value: 'legacy', name: 'control' },
      { value: 'v2', name: 'treatment' },
    ]);

    const result = await rollout(flag, [{ exposure: 5 }, { exposure: 50 }, { exposure: 100 }]);

    expect(result.phase).toBe('Completed');
    expect(result.exposure.percent).toBe(100);
    const comments = fake.audit.filter((a) => a.flag === flag).map((a) => a.comment ?? '');
    expect(comments).toHaveLength(3);
    expect(comments.every((c) => c.startsWith('rollout-orchestrator '))).toBe(true);
    expect(await sdkPercent(flag)).toBe(100);
  });

  it('a cohort step is refused at the preflight, before anything is written', async () => {
    const flag = uniqueFlag('ld');
    fake.createFlag(flag, [
      { value: 'legacy', name: 'control' },
      { value: 'v2', name: 'treatment' },
    ]);

    const before = await sdkPercent(flag);
    const result = await rollout(flag, [
      { exposure: 10 },
      { exposure: 20, cohort: { attribute: 'region', values: ['eu-west'] } },
    ]);

    expect(result.phase).toBe('Failed');
    expect(result.reason).toContain('step 2: LaunchDarkly target');
    expect(result.reason).toContain('refuses cohort steps');
    expect(fake.audit.filter((a) => a.flag === flag)).toEqual([]);
    expect(await sdkPercent(flag)).toBe(before); // what the flag served before, untouched
  });
});

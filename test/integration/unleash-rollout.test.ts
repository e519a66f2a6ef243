import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { catalogOf } from '../../src/catalog/load.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { sdkView, serves, startUnleash, type RunningUnleash } from '../helpers/unleash-server.js';

const suite = useRolloutSuite();

/** Rollouts on a real Temporal dev server whose target is a real Unleash server, judged by the official SDK. */
describe('a rollout on an Unleash target, end to end', () => {
  let unleash: RunningUnleash;
  beforeAll(async () => {
    unleash = await startUnleash();
  }, 600_000);
  afterAll(async () => {
    await unleash?.stop();
  });

  const TOKEN_ENV = 'TEST_UNLEASH_ADMIN_TOKEN';

  /** A worker whose catalog declares the Unleash target (token by secret name) over a fresh flag. */
  async function unleashWorker() {
    const flag = uniqueFlag('checkout');
    const name = `shop-unleash-${flag.slice(-8)}`;
    const catalog = catalogOf(
      {
        secrets: { 'unleash-admin': { env: TOKEN_ENV } },
        targets: {
          [name]: {
            type: 'unleash',
            url: unleash.url,
            token: 'unleash-admin',
            flag,
            variant: 'new-checkout',
            baselineVariant: 'old-checkout',
          },
        },
      },
      tmpdir(),
    );
    const h = await rolloutHarness(suite.env, suite.bundle, { catalog, env: { [TOKEN_ENV]: unleash.adminToken } });
    const start = (steps: RolloutSpecInput['steps'], extra: Partial<RolloutSpecInput> = {}) =>
      suite.client.start({ name: 'checkout-rollout', target: name, steps, ...extra } as RolloutSpecInput, {
        taskQueue: h.taskQueue,
        catalog: catalog.catalog,
      });
    return { flag, h, start };
  }

  /** The flag's state in `development` as the Admin API reports it. */
  async function development(flag: string) {
    const response = await fetch(`${unleash.url}/api/admin/projects/default/features/${flag}`, {
      headers: { authorization: unleash.adminToken },
    });
    expect(response.status).toBe(200);
    const feature = (await response.json()) as {
      environments: { name: string; enabled: boolean; strategies: { parameters: Record<string, string> }[] }[];
    };
    return feature.environments.find((e) => e.name === 'development')!;
  }

  /** Each rollout the flag's strategy was given, oldest first, from Unleash's own event log. */
  async function rolloutsWritten(flag: string): Promise<string[]> {
    const response = await fetch(`${unleash.url}/api/admin/events/${flag}`, {
      headers: { authorization: unleash.adminToken },
    });
    expect(response.status).toBe(200);
    const { events } = (await response.json()) as {
      events: { id: number; type: string; data?: { parameters?: { rollout?: string } } }[];
    };
    return events
      .filter((e) => e.type === 'feature-strategy-add' || e.type === 'feature-strategy-update')
      .sort((a, b) => a.id - b.id)
      .map((e) => e.data?.parameters?.rollout ?? '?');
  }

  it('10 → 50 → 100 % completes, and the SDK then serves "new-checkout" to every user', async () => {
    const { flag, h, start } = await unleashWorker();
    try {
      const { workflowId } = await start([
        { exposure: 10, observe: '1s' },
        { exposure: 50, observe: '1s' },
        { exposure: 100 },
      ]);
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('Completed');
      expect(result.exposure.percent).toBe(100);

      const env = await development(flag);
      expect(env.enabled).toBe(true);
      expect(env.strategies.map((s) => s.parameters.rollout)).toEqual(['100']);
      // each step written once, in order, on the one strategy
      expect(await rolloutsWritten(flag)).toEqual(['10', '50', '100']);
      const view = await sdkView(unleash, flag, { until: (v) => serves(v, 100, 'new-checkout') });
      expect(view.variants).toEqual({ 'new-checkout': view.users });
    } finally {
      await h.stop();
    }
  });

  it('while a step observes, the SDK serves its share; an abort returns everyone to the baseline', async () => {
    const { flag, h, start } = await unleashWorker();
    try {
      const { workflowId } = await start([{ exposure: 40, observe: '1h' }, { exposure: 100 }]);
      await waitFor(
        async () => {
          const s = await suite.client.status(workflowId);
          return s.step === 0 && s.phase === 'Observing';
        },
        60_000,
        'the rollout observing at 40 %',
      );
      const during = await sdkView(unleash, flag, { until: (v) => serves(v, 40, 'new-checkout') });
      expect(serves(during, 40, 'new-checkout')).toBe(true);

      await suite.client.abort(workflowId, { reason: 'checkout errors', actor: 'oncall' });
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('Aborted');
      expect(result.exposure.percent).toBe(0);
      const after = await sdkView(unleash, flag, { until: (v) => v.enabled === 0 });
      expect(after.variants).toEqual({ disabled: after.users });
      // back to 0 %, the one strategy stays (rollout 0) and the flag stays on, serving no one
      const env = await development(flag);
      expect(env.strategies.map((s) => s.parameters.rollout)).toEqual(['0']);
      expect(env.enabled).toBe(true);
      expect(await rolloutsWritten(flag)).toEqual(['40', '0']);
    } finally {
      await h.stop();
    }
  });

  it('a guard breach at the second step rolls back: the SDK serves no one the new variant', async () => {
    const { flag, h, start } = await unleashWorker();
    try {
      const guard = {
        name: 'checkout-errors',
        source: { type: 'synthetic', series: { err: [0.001] }, steps: { '1': { err: [0.3] } } },
        query: 'err',
        max: 0.05,
        interval: '200ms',
        critical: true,
      };
      const { workflowId } = await start(
        [{ exposure: 10, observe: '1s' }, { exposure: 30, observe: '10s' }, { exposure: 100 }],
        { guards: [guard] } as Partial<RolloutSpecInput>,
      );
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toMatch(/checkout-errors/);
      expect(result.exposure.percent).toBe(0);
      const view = await sdkView(unleash, flag, { until: (v) => v.enabled === 0 });
      expect(view.variants).toEqual({ disabled: view.users });
      expect((await development(flag)).strategies.map((s) => s.parameters.rollout)).toEqual(['0']);
      expect(await rolloutsWritten(flag)).toEqual(['10', '30', '0']);
    } finally {
      await h.stop();
    }
  });
  it('a fractional step is refused at the preflight, and the flag is never created', async () => {
    const { flag, h, start } = await unleashWorker();
    try {
      const { workflowId } = await start([{ exposure: 0.5, observe: '1s' }, { exposure: 100 }]);
      const result = await suite.client.result(workflowId);
      expect(result.phase).toBe('Failed');
      expect(result.reason).toContain('step 1: Unleash takes whole percentages');
      const response = await fetch(`${unleash.url}/api/admin/projects/default/features/${flag}`, {
        headers: { authorization: unleash.adminToken },
      });
      expect(response.status).toBe(404);
    } finally {
      await h.stop();
    }
  });
});

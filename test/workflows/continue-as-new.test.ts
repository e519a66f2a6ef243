import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { createLogger } from '../../src/logger.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { installRuntime } from '../../src/worker/runtime.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { freePort } from '../../src/util/ports.js';

describe('continue-as-new', () => {
  let server: DevServer;
  let env: TestWorkflowEnvironment;
  /** The workflows, bundled once for both tests. */
  let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
  beforeAll(async () => {
    workflowBundle = await bundleWorkflowCode({
      workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname,
      logger: silent,
    });
    installRuntime(createLogger({ level: 'warn' }));
    // a server that suggests continue-as-new after 40 events, so a short rollout crosses several runs
    server = await startDevServer({
      cliPath: inject('temporalCliPath'),
      port: await freePort(),
      uiPort: false,
      dbFile: null,
      reuseExisting: false,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    });
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  });
  afterAll(async () => {
    await env?.teardown();
    await server?.stop();
  });

  it('carries approvals, compensations and the timeline across runs', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    const client = new RolloutClient(env.client);
    try {
      const flag = uniqueFlag('can');
      const steps = [
        { exposure: 1, observe: '50ms' },
        { approval: {} },
        ...[2, 3, 5, 8, 13, 21, 34, 55].map((p) => ({ exposure: p, observe: '50ms' })),
        { exposure: 60, observe: '1h' },
      ];
      const { workflowId: id } = await client.start(flagdSpec(flag, steps), { taskQueue: h.taskQueue });
      await waitFor(async () => (await client.status(id)).phase === 'AwaitingApproval');
      await client.approve(id, { step: 1, actor: 'ana' });
      await waitFor(async () => (await client.status(id)).exposure.percent === 60, 60_000);
      const status = await client.status(id);
      expect(status.run).toBeGreaterThan(1);
      expect(status.approvals).toEqual([expect.objectContaining({ step: 1, actor: 'ana' })]);
      expect(status.timeline[0]?.cause).toBe('rollout started');
      await client.abort(id, { reason: 'done', actor: 'ana' });
      const result = await client.result(id);
      expect(result.phase).toBe('Aborted');
      expect(result.exposure.percent).toBe(0);
      expect(result.rollback?.done[0]).toBe('exposure to 0%'); // the compensation stack crossed the runs
      const runs = new Set<string>();
      for await (const w of env.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.add(w.runId);
      expect(runs.size).toBe(status.run);
    } finally {
      await h.stop();
    }
  }, 90_000);

  it('a guard that watches the whole rollout is watched again in every run: it catches a regression after several', async () => {
    let errors = 0.001;
    const metrics = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors }));
    });
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/stats`;
    const h = await rolloutHarness(env, workflowBundle);
    const client = new RolloutClient(env.client);
    try {
      const steps = [
        ...[1, 2, 3, 5, 8, 13, 21, 34].map((p) => ({ exposure: p, observe: '50ms' })),
        { approval: {} },
        { exposure: 100 },
      ];
      const guard = {
        name: 'errors',
        source: { type: 'http-json' as const, url },
        query: '$.errors',
        max: 0.05,
        unit: 'ratio' as const,
        interval: '200ms',
        during: 'rollout' as const,
      };
      const { workflowId: id } = await client.start(flagdSpec(uniqueFlag('can-bg'), steps, { guards: [guard] }), {
        taskQueue: h.taskQueue,
      });
      await waitFor(
        async () => {
          const s = await client.status(id);
          return s.phase === 'AwaitingApproval' && s.run > 1;
        },
        60_000,
        'the approval wait, in a later run',
      );
      errors = 0.3;
      const result = await client.result(id);
      expect(result.phase).toBe('RolledBack');
      expect(result.reason).toBe('guard errors failed 1× (limit 0): 30 % vs ≤ 5 %');
      // the run that caught it watched from its own start
      const scheduled = ((await client.handle(id).fetchHistory()).events ?? [])
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((n): n is string => typeof n === 'string');
      expect(scheduled[0]).toBe('watchGuards');
    } finally {
      await h.stop();
      metrics.close();
    }
  }, 90_000);
});

const noop = () => {};
const silent = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

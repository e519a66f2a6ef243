import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../../src/client/drills.js';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { bundle, connectTestEnv } from '../helpers/temporal.js';
import { flagdSpec, rolloutHarness, uniqueFlag } from '../helpers/rollout-env.js';

let env: TestWorkflowEnvironment;
let workflowBundle: Awaited<ReturnType<typeof bundle>>;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname);
});
afterAll(async () => {
  await env?.teardown();
});

/** A port nothing listens on: the discard service's, closed on any test machine. */
const SILENT = 'http://127.0.0.1:9/';

const activitiesOf = async (client: RolloutClient, workflowId: string) =>
  ((await client.handle(workflowId).fetchHistory()).events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((name): name is string => typeof name === 'string');

describe('preflight: a rollout proves it can run before it changes anything', () => {
  it('given a guard whose Prometheus does not answer, the rollout ends Failed at once and the flag file is never written', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    const client = new RolloutClient(env.client);
    try {
      const flag = uniqueFlag('preflight-source');
      const handle = await h.start(
        flagdSpec(flag, [{ exposure: 5, observe: '1h' }, { exposure: 100 }], {
          guards: [{ name: 'errors', source: { type: 'prometheus', url: SILENT }, query: 'up', max: 1 }],
        }),
      );
      const result = await handle.result();
      expect(result.phase).toBe('Failed');
      expect(result.reason).toMatch(
        /^preflight failed, nothing was changed: guard errors: Prometheus http:\/\/127\.0\.0\.1:9\//,
      );
      expect(result.stepsCompleted).toBe(0);
      expect(result.rollback).toBeUndefined();
      expect(await activitiesOf(client, handle.workflowId)).toEqual(['preflight']);
      expect(await readdir(h.dir)).not.toContain('flags.json');
      const status = await client.status(handle.workflowId);
      expect(status.phase).toBe('Failed');
      expect(status.timeline.at(-1)).toMatchObject({ phase: 'Failed' });
    } finally {
      await h.stop();
    }
  });

  it('given a flag file whose directory does not exist, it ends Failed naming the directory, not at its first write', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    try {
      const flag = uniqueFlag('preflight-dir');
      const handle = await h.start({
        ...flagdSpec(flag, [{ exposure: 5 }]),
        target: { type: 'flagd', path: 'sandbox/flags.json', flag, variant: 'on', baselineVariant: 'off' },
      });
      const result = await handle.result();
      expect(result.phase).toBe('Failed');
      expect(result.reason).toMatch(/directory sandbox does not exist/);
      expect(await readdir(h.dir)).toEqual([]);
    } finally {
      await h.stop();
    }
  });

  it('given a target that serves something other than its baseline, it says so in the timeline and goes on', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    try {
      const flag = uniqueFlag('preflight-note');
      // a flag a human left at 30 %
      const first = await h.start(flagdSpec(flag, [{ exposure: 30 }]));
      expect((await first.result()).phase).toBe('Completed');
      const before = await readFile(join(h.dir, 'flags.json'), 'utf8');
      const second = await h.start({ ...flagdSpec(flag, [{ exposure: 50 }, { exposure: 100 }]), name: 'again' });
      const result = await second.result();
      expect(result.phase).toBe('Completed');
      expect(result.timeline.map((t) => t.cause)).toContainEqual(
        expect.stringMatching(/^preflight: target flagd:flags\.json#\S+ serves 30 % now \(baseline 0 %\)$/),
      );
      expect(before).not.toEqual(await readFile(join(h.dir, 'flags.json'), 'utf8'));
    } finally {
      await h.stop();
    }
  });

  it('a drill whose rollout cannot start fails at once with the preflight’s reason, not at its deadline', async () => {
    const h = await rolloutHarness(env, workflowBundle);
    try {
      const flag = uniqueFlag('preflight-drill');
      await writeFile(join(h.dir, 'flags.json'), '{"flags":{}}\n');
      const drills = new DrillClient(env.client, h.taskQueue);
      const handle = await drills.run({
        name: 'preflight-drill',
        rollout: flagdSpec(flag, [{ exposure: 5, observe: '1s' }, { exposure: 100 }], {
          guards: [{ name: 'errors', source: { type: 'prometheus', url: SILENT }, query: 'up', max: 1 }],
        }),
        inject: { atStep: 0 },
        deadline: '1h',
      });
      const failure = (await handle.result().catch((err: Error) => err)) as Error & { cause?: { message?: string } };
      expect(failure).toBeInstanceOf(Error);
      const message = failure.cause?.message ?? failure.message;
      expect(message).toMatch(/the rollout could not start: preflight failed, nothing was changed: guard errors/);
      expect(message).not.toMatch(/deadline|compensation/);
      expect(await readFile(join(h.dir, 'flags.json'), 'utf8')).toBe('{"flags":{}}\n');
    } finally {
      await h.stop();
    }
  });
});

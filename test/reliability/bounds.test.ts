import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { MAX_BREACH_RECORDS_PER_GUARD, MAX_TEXT } from '../../src/domain/bounds.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { PUSHED_BREACH_CHECK } from '../../src/domain/rollout-state.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { createLogger } from '../../src/logger.js';
import { guardBreachSignal, type RolloutStatus } from '../../workflows/messages.js';
import { rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { historyText } from './history-text.js';

/*
 * A caller who floods a rollout with breaches (through the Alertmanager webhook, or with any Temporal SDK) must not
 * be able to make its status unreadable or its result too large to record: before these bounds, a dozen 250 KB
 * alerts did both, and the server terminated the run at 5 % exposure with no rollback.
 */

const suite = useRolloutSuite();
const TOKEN = `bounds-${randomUUID()}`;
const GUARD = 'error-rate';
/** Well under Temporal's 2 MB blob limit, and far above what a bounded status needs. */
const STATUS_BUDGET_BYTES = 256 * 1024;
let h: RolloutHarness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await rolloutHarness(suite.env, suite.bundle);
  app = await createApiServer({
    client: suite.client,
    temporalClient: suite.env.client,
    token: TOKEN,
    logger: createLogger({ level: 'silent' }),
    taskQueue: h.taskQueue,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await h?.stop();
});

/** Observes 5 % for an hour under a passing guard that tolerates any number of failures: only an abort ends it. */
function floodableSpec(flag: string): RolloutSpecInput {
  return {
    name: 'bounds',
    target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
    steps: [{ exposure: 5, observe: '1h' }, { exposure: 100 }],
    guards: [
      {
        name: GUARD,
        source: { type: 'synthetic', series: { errors: [0] } },
        query: 'errors',
        max: 0.05,
        interval: '1s',
        failureLimit: 100_000,
        critical: false,
      },
    ],
  };
}

async function startObserving(flag: string): Promise<string> {
  const { workflowId } = await suite.client.start(floodableSpec(flag), { taskQueue: h.taskQueue });
  await waitFor(async () => (await suite.client.status(workflowId)).phase === 'Observing', 120_000, 'Observing');
  return workflowId;
}

/** Runs `count` calls, `parallel` at a time. */
async function inBatches(count: number, parallel: number, call: (i: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, (_, k) => call(start + k)));
  }
}

/** The status over the HTTP API, as sent: its size, and the value. */
async function statusOverHttp(id: string): Promise<{ bytes: number; status: RolloutStatus }> {
  const res = await fetch(`${base}/rollouts/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(200);
  return { bytes: Buffer.byteLength(text), status: JSON.parse(text) as RolloutStatus };
}

const pushedRecords = (s: RolloutStatus) =>
  s.measurements.filter((m) => m.guard === GUARD && m.check === PUSHED_BREACH_CHECK);

/** The rollout ended by rollback with its status and result small, and its target back at the baseline. */
async function expectBoundedRollback(id: string, flag: string, phases: string[]) {
  const result = await suite.client.result(id);
  expect(phases).toContain(result.phase);
  expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(STATUS_BUDGET_BYTES);
  const { bytes, status } = await statusOverHttp(id);
  expect(bytes).toBeLessThan(STATUS_BUDGET_BYTES);
  expect(status.exposure.percent).toBe(0);
  expect(status.rollback?.finishedAt).toEqual(expect.any(String));
  expect(h.memory.state(flag).percent).toBe(0);
  return { result, status, bytes };
}

describe('breach floods are bounded before they reach history and state', () => {
  it('1,000 Alertmanager alerts with a 250 KB summary each, then abort: status stays small, the rollout rolls back', async () => {
    const flag = uniqueFlag('bounds-am');
    const id = await startObserving(flag);
    const summary = `${'\u001b[2J'}${'s'.repeat(250 * 1024 - 4)}`;
    const ALERTS = 1_000;
    await inBatches(ALERTS, 25, async (i) => {
      const res = await fetch(`${base}/alerts/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          status: 'firing',
          receiver: 'rollouts',
          alerts: [
            {
              status: 'firing',
              labels: { rollout: flag, guard: GUARD, instance: `i-${i}` },
              annotations: { summary, value: '0.3' },
              startsAt: new Date().toISOString(),
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ signalled: 1, ignored: 0, errors: [] });
    });

    // every alert counted against the guard (it tolerates 100,000 failures), but only a few are kept as records
    await waitFor(
      async () => pushedRecords((await statusOverHttp(id)).status)[MAX_BREACH_RECORDS_PER_GUARD - 1] !== undefined,
      120_000,
      'the breaches to be recorded',
    );
    await waitFor(
      async () =>
        pushedRecords((await statusOverHttp(id)).status).at(-1)?.threshold ===
        'failure 1000 of 100000 tolerated (pushed)',
      120_000,
      'all 1,000 breaches to be counted',
    );
    const during = await statusOverHttp(id);
    expect(during.status.phase).toBe('Observing');
    expect(during.bytes).toBeLessThan(STATUS_BUDGET_BYTES);
    const records = pushedRecords(during.status);
    expect(records).toHaveLength(MAX_BREACH_RECORDS_PER_GUARD);
    expect(records.every((m) => m.detail.length === MAX_TEXT && m.detail.endsWith('…'))).toBe(true);

    const abort = await fetch(`${base}/rollouts/${encodeURIComponent(id)}/abort`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'breach flood drill' }),
    });
    expect(abort.status).toBe(200);
    const { result, bytes } = await expectBoundedRollback(id, flag, ['Aborted']);
    // the actor is the token's principal
    expect(result.reason).toBe('aborted by api: breach flood drill');
    // the history holds each signal as sent (bounded by the route), not the 250 MB the alerts carried
    const history = historyText(await suite.client.handle(id).fetchHistory());
    expect(Buffer.byteLength(history)).toBeLessThan(4 * 1024 * 1024);
    expect(history).not.toContain('s'.repeat(MAX_TEXT + 1));
    expect(bytes).toBeLessThan(STATUS_BUDGET_BYTES);
  }, 240_000);

  it('raw Temporal signals with oversized and wrongly typed fields: nothing throws, state stays bounded, rollback completes', async () => {
    const flag = uniqueFlag('bounds-raw');
    const id = await startObserving(flag);
    const handle = suite.env.client.workflow.getHandle(id);
    const big = (c: string) => c.repeat(100_000);
    // what no client of ours would send, but any SDK can: the signal is typed only on our side
    const payloads: unknown[] = [
      { guard: GUARD, value: '0.5', source: { nested: big('n') }, reason: big('r') },
      { guard: GUARD, value: { v: 1 }, source: big('s'), reason: ['a', 'b'] },
      { guard: GUARD, value: 1e308, source: 12, reason: big('\u009b'), extra: big('e') },
      { guard: GUARD, value: null, reason: null },
    ];
    // 120 signals: each is written to history as sent, which the server caps (50 MB by default) and no workflow
    // code can bound; what this proves is that the workflow keeps a bounded part of them
    const SIGNALS = 120;
    await inBatches(SIGNALS, 20, (i) => handle.signal(guardBreachSignal, payloads[i % payloads.length] as never));
    await waitFor(
      async () =>
        pushedRecords((await statusOverHttp(id)).status).at(-1)?.threshold ===
        `failure ${SIGNALS} of 100000 tolerated (pushed)`,
      120_000,
      'every raw breach to be counted',
    );
    const during = await statusOverHttp(id);
    expect(during.status.phase).toBe('Observing');
    expect(during.bytes).toBeLessThan(STATUS_BUDGET_BYTES);
    const records = pushedRecords(during.status);
    expect(records).toHaveLength(MAX_BREACH_RECORDS_PER_GUARD);
    for (const m of records) {
      expect(m.value === null || Number.isFinite(m.value)).toBe(true);
      expect(m.detail.length).toBeLessThanOrEqual(MAX_TEXT);
    }

    // a payload that is not a breach at all names no guard of the spec: like an unknown guard, it is refused, with a
    // note in the timeline for the first few and a count for all
    const junk = ['text', [1, 2], { guard: 42 }, { guard: big('g') }, null, { guard: 'nope' }, { guard: 'nope2' }];
    await Promise.all(junk.map((p) => handle.signal(guardBreachSignal, p as never).catch(() => undefined)));
    await waitFor(
      async () => (await suite.client.status(id)).refusedBreaches === junk.length,
      60_000,
      'every junk breach to be refused',
    );
    const refusedNotes = (await statusOverHttp(id)).status.timeline.filter((t) => t.cause.startsWith('breach refused'));
    expect(refusedNotes).toHaveLength(5);
    for (const note of refusedNotes) expect(note.cause.length).toBeLessThan(400);
    expect((await statusOverHttp(id)).status.phase).toBe('Observing');
    await suite.client.abort(id, { reason: 'enough', actor: 'ops' });
    await expectBoundedRollback(id, flag, ['Aborted']);
  }, 240_000);

  it('a server with a larger body limit still refuses a spec over 256 KB: 400 with one issue, nothing started', async () => {
    const roomy = await createApiServer({
      client: suite.client,
      temporalClient: suite.env.client,
      token: TOKEN,
      logger: createLogger({ level: 'silent' }),
      taskQueue: h.taskQueue,
      bodyLimitBytes: 4 * 1024 * 1024,
    });
    await roomy.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(roomy.server.address() as AddressInfo).port}/rollouts`;
      const flag = uniqueFlag('bounds-big');
      const post = async (body: string, type: string) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
          body,
        });
        return { status: res.status, body: (await res.json()) as { issues?: unknown[] } };
      };
      const spec = floodableSpec(flag);
      const yaml = `name: big\ndescription: "${'x'.repeat(300 * 1024)}"\n`;
      expect(await post(yaml, 'application/yaml')).toEqual({
        status: 400,
        body: expect.objectContaining({
          issues: [
            { path: '(root)', message: expect.stringMatching(/^too large \(301 KB; a spec may be at most 256 KB/) },
          ],
        }),
      });
      const padded = {
        ...spec,
        steps: [{ exposure: 5, cohort: { attribute: 'a', values: Array(100).fill('v'.repeat(100)) } }],
      };
      const json = JSON.stringify({ ...padded, steps: Array(40).fill(padded.steps[0]) });
      expect(Buffer.byteLength(json)).toBeGreaterThan(256 * 1024);
      expect(await post(json, 'application/json')).toEqual({
        status: 400,
        body: expect.objectContaining({
          issues: [
            {
              path: '(root)',
              message: expect.stringMatching(/^the spec is too large \(\d+ KB as JSON; at most 256 KB\)$/),
            },
          ],
        }),
      });
      await expect(suite.client.handle(rolloutIdForFlag(flag)).describe()).rejects.toThrow(/not found/i);
    } finally {
      await roomy.close();
    }
  });

  it('an alert whose labels are oversized is answered without signalling a rollout it cannot name', async () => {
    const res = await fetch(`${base}/alerts/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { rollout: 'r'.repeat(100_000), guard: 'g'.repeat(100_000) },
            annotations: { summary: 'x' },
            startsAt: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { signalled: number; errors: { rollout: string; guard: string }[] };
    expect(body.signalled).toBe(0);
    expect(body.errors).toEqual([
      {
        rollout: expect.stringMatching(/^rollout\/r+…$/),
        guard: expect.stringMatching(/^g+…$/),
        error: expect.any(String),
      },
    ]);
    expect(JSON.stringify(body).length).toBeLessThan(1_000);
  });
});

/**
 * Records the event histories the replay test checks: each scenario runs on a fresh in-memory dev server
 * and its history is written to test/replay/histories/<set>/<scenario>.json, where <set> is the current
 * workflow version (`CURRENT_HISTORY_SET`). After a deliberate, patched() change to the workflow's command
 * sequence, start a new set and keep the old ones: every set must keep replaying.
 *
 *   npx tsx scripts/record-histories.ts [scenario ...]   # all scenarios, or only the named ones
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DrillClient } from '../src/client/drills.js';
import { RolloutClient } from '../src/client/rollout-client.js';
import { createLogger } from '../src/logger.js';
import { resolveTemporalCli } from '../src/temporal/cli-provision.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { installRuntime } from '../src/worker/runtime.js';
import { CURRENT_HISTORY_SET, HISTORIES } from '../test/helpers/histories.js';
import { httpRecorder } from '../test/helpers/http-recorder.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../test/helpers/rollout-env.js';

const out = new URL(`${CURRENT_HISTORY_SET}/`, HISTORIES);
await mkdir(out, { recursive: true });
installRuntime(createLogger({ level: 'warn' }));
const cli = await resolveTemporalCli();
const server = await startDevServer({
  cliPath: cli.path,
  port: 17233,
  uiPort: false,
  dbFile: null,
  reuseExisting: false,
});
const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
const client = new RolloutClient(env.client);
const workflowBundle = await bundleWorkflowCode({
  workflowsPath: new URL('../workflows/index.ts', import.meta.url).pathname,
});
const hooks = await httpRecorder();
const h = await rolloutHarness(env, workflowBundle);
const opts = { taskQueue: h.taskQueue };
const status = (id: string) => client.status(id);

const only = process.argv.slice(2);
// replay needs each history's real workflow ID (a drill derives its child's ID from its own)
const idsFile = new URL('ids.json', out);
const ids = JSON.parse(await readFile(idsFile, 'utf8').catch(() => '{}')) as Record<string, string>;
const scenarios: Record<string, () => Promise<string>> = {
  async 'completed-4-steps'() {
    return (
      await client.start(
        flagdSpec(uniqueFlag(), [
          { exposure: 1, observe: '100ms' },
          { exposure: 5, observe: '100ms' },
          { exposure: 25, observe: '100ms' },
          { exposure: 100 },
        ]),
        opts,
      )
    ).workflowId;
  },
  async 'abort-at-step-2-with-compensations'() {
    const spec = flagdSpec(
      uniqueFlag(),
      [{ exposure: 5, observe: '50ms' }, { exposure: 25, observe: '1h' }, { exposure: 100 }],
      {
        rollback: {
          compensations: [
            { name: 'a', http: { url: `${hooks.url}/a` } },
            { name: 'b', http: { url: `${hooks.url}/b` } },
          ],
        },
      },
    );
    const { workflowId } = await client.start(spec, opts);
    await waitFor(
      async () => (await status(workflowId)).step === 1 && (await status(workflowId)).phase === 'Observing',
    );
    await client.abort(workflowId, { reason: 'recorded', actor: 'ops' });
    return workflowId;
  },
  async 'approval-wrong-then-right'() {
    const { workflowId } = await client.start(
      flagdSpec(uniqueFlag(), [{ exposure: 5 }, { approval: { timeout: '1h' } }, { exposure: 100 }]),
      opts,
    );
    await waitFor(async () => (await status(workflowId)).phase === 'AwaitingApproval');
    await client.approve(workflowId, { step: 0, actor: 'ana' }).catch(() => undefined);
    await client.approve(workflowId, { step: 1, actor: 'ana' });
    return workflowId;
  },
  async 'approval-timeout-pause-then-approve'() {
    const { workflowId } = await client.start(
      flagdSpec(uniqueFlag(), [
        { exposure: 5 },
        { approval: { timeout: '100ms', onTimeout: 'pause' } },
        { exposure: 100 },
      ]),
      opts,
    );
    await waitFor(async () => (await status(workflowId)).phase === 'Paused');
    await client.approve(workflowId, { step: 1, actor: 'ana' });
    return workflowId;
  },
  async 'breach-rollback'() {
    const { workflowId } = await client.start(
      flagdSpec(uniqueFlag(), [{ exposure: 20, observe: '1h' }], { guards: [{ name: 'error-rate', alert: {} }] }),
      opts,
    );
    await waitFor(async () => (await status(workflowId)).phase === 'Observing');
    await client.breach(workflowId, { guard: 'error-rate', value: 0.1 });
    return workflowId;
  },
  async 'pause-resume-promote'() {
    const { workflowId } = await client.start(
      flagdSpec(uniqueFlag(), [{ exposure: 5, observe: '1h' }, { pause: {} }, { exposure: 100 }]),
      opts,
    );
    await waitFor(async () => (await status(workflowId)).phase === 'Observing');
    await client.pause(workflowId, { reason: 'look', actor: 'ana' });
    await client.resume(workflowId, { actor: 'ana' });
    await client.promote(workflowId, { actor: 'ana' });
    await waitFor(async () => (await status(workflowId)).step === 1);
    await client.promote(workflowId, { actor: 'ana' });
    return workflowId;
  },
  async 'promote-twice-then-cancel'() {
    const { workflowId } = await client.start(
      flagdSpec(uniqueFlag(), [
        { exposure: 5, observe: '1h' },
        { exposure: 25, observe: '1h' },
        { exposure: 50, observe: '1h' },
        { exposure: 100 },
      ]),
      opts,
    );
    for (const step of [0, 1]) {
      await waitFor(
        async () => (await status(workflowId)).step === step && (await status(workflowId)).phase === 'Observing',
      );
      await client.promote(workflowId, { actor: 'ana' });
    }
    await waitFor(
      async () => (await status(workflowId)).step === 2 && (await status(workflowId)).phase === 'Observing',
    );
    await client.handle(workflowId).cancel();
    return workflowId;
  },
  async 'guards-synthetic-breach'() {
    const spec = flagdSpec(
      uniqueFlag(),
      [
        { exposure: 5, observe: '300ms' },
        { exposure: 25, observe: '5s' },
      ],
      {
        guards: [
          {
            name: 'error-rate',
            source: { type: 'synthetic', series: { err: [0.01, 0.2] } },
            query: 'err',
            max: 0.05,
            interval: '100ms',
          },
        ],
      },
    );
    return (await client.start(spec, opts)).workflowId;
  },
  async 'guards-inconclusive-extend-pause'() {
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 5, observe: '200ms' }, { exposure: 100 }], {
      guards: [
        { name: 'err', source: { type: 'synthetic', series: { e: [null] } }, query: 'e', max: 0.05, interval: '100ms' },
      ],
      analysis: { extendBy: '200ms', maxExtensions: 1, onInconclusive: 'pause' },
    });
    const { workflowId } = await client.start(spec, opts);
    await waitFor(async () => (await status(workflowId)).phase === 'Paused');
    await client.promote(workflowId, { actor: 'ana' });
    return workflowId;
  },
  async 'drill-signal-pass'() {
    const drills = new DrillClient(env.client, h.taskQueue);
    const handle = await drills.run({
      name: 'recorded',
      rollout: flagdSpec(uniqueFlag(), [
        { exposure: 5, observe: '200ms' },
        { exposure: 25, observe: '1h' },
      ]),
      inject: { atStep: 1, method: 'signal' },
    });
    await handle.result();
    // the drill's child rollout reports its phases to the drill: record that history too
    const child = await client.handle(`${handle.workflowId}/rollout`).fetchHistory();
    await writeFile(new URL('drill-signal-pass-rollout.json', out), historyToJSON(child));
    ids['drill-signal-pass-rollout'] = `${handle.workflowId}/rollout`;
    return handle.workflowId;
  },
  async 'invalid-spec-rejected'() {
    // started by workflow type name, as another SDK would, with a spec no client would have sent
    const spec = { ...flagdSpec(uniqueFlag(), [{ exposure: 5 }]), steps: [{ exposure: 150 }] };
    return (
      await env.client.workflow.start('progressiveRollout', {
        taskQueue: h.taskQueue,
        workflowId: `recorded-invalid-${Date.now()}`,
        args: [{ spec }],
      })
    ).workflowId;
  },
  async 'promote-and-approve-notified'() {
    // decisions recorded by operator commands within a phase (ROLLOUT_V3_PATCH) reach the notifier on their own
    const spec = flagdSpec(
      uniqueFlag(),
      [{ exposure: 5, observe: '1h' }, { approval: { timeout: '1h' } }, { exposure: 100 }],
      {
        notify: [{ webhook: { url: `${hooks.url}/notify` } }],
      },
    );
    const { workflowId } = await client.start(spec, opts);
    await waitFor(async () => (await status(workflowId)).phase === 'Observing');
    await client.promote(workflowId, { actor: 'ana' });
    await waitFor(async () => (await status(workflowId)).phase === 'AwaitingApproval');
    await client.approve(workflowId, { step: 1, actor: 'ana' });
    return workflowId;
  },
  async 'preflight-failed'() {
    // a guard whose source does not answer: the rollout ends Failed before its first exposure change (ROLLOUT_V4_PATCH)
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 5, observe: '1h' }], {
      guards: [{ name: 'errors', source: { type: 'prometheus', url: 'http://127.0.0.1:9/' }, query: 'up', max: 1 }],
    });
    return (await client.start(spec, opts)).workflowId;
  },
  async 'background-guard-approval-rollback'() {
    // a guard with `during: rollout` fails while the rollout waits for approval (ROLLOUT_V5_PATCH)
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 10 }, { approval: {} }, { exposure: 100 }], {
      guards: [
        {
          name: 'error-rate',
          source: { type: 'synthetic', series: { e: [0, 0, 0, 0.3] } },
          query: 'e',
          max: 0.05,
          unit: 'ratio',
          interval: '200ms',
          during: 'rollout',
        },
      ],
    });
    return (await client.start(spec, opts)).workflowId;
  },
  async 'final-bake-dry-run-completed'() {
    // a final bake after 100 %, judged like a window, with a failing dry-run guard that changes nothing
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 50, observe: '300ms' }, { exposure: 100 }], {
      guards: [
        { name: 'errors', source: { type: 'synthetic', series: { e: [0] } }, query: 'e', max: 0.1, interval: '100ms' },
        {
          name: 'new-slo',
          source: { type: 'synthetic', series: { p99: [0.9] } },
          query: 'p99',
          max: 0.2,
          unit: 's',
          interval: '100ms',
          dryRun: true,
        },
      ],
      analysis: { finalBake: '300ms' },
    });
    return (await client.start(spec, opts)).workflowId;
  },
  async 'budget-rollout-rollback'() {
    // one pulled failure per window, limit 1: the second window's failure is the second over the rollout
    const spec = flagdSpec(
      uniqueFlag(),
      [{ exposure: 5, observe: '300ms' }, { exposure: 25, observe: '300ms' }, { exposure: 100 }],
      {
        guards: [
          {
            name: 'errors',
            source: { type: 'synthetic', series: { e: [0.5, 0, 0] } },
            query: 'e',
            max: 0.1,
            interval: '100ms',
            failureLimit: 1,
          },
        ],
      },
    );
    return (await client.start(spec, opts)).workflowId;
  },
  async 'push-pull-refused-breach'() {
    // a breach for no guard is refused; one pulled failure and one pushed breach add up past the limit
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 10, observe: '400ms' }, { approval: {} }, { exposure: 100 }], {
      guards: [
        {
          name: 'errors',
          source: { type: 'synthetic', series: { e: [0, 0.5, 0] } },
          query: 'e',
          max: 0.1,
          interval: '100ms',
          failureLimit: 1,
        },
      ],
    });
    const { workflowId } = await client.start(spec, opts);
    await waitFor(async () => (await status(workflowId)).phase === 'AwaitingApproval');
    await client.breach(workflowId, { guard: 'latency', value: 2 });
    await waitFor(async () => (await status(workflowId)).refusedBreaches === 1);
    await client.breach(workflowId, { guard: 'errors', value: 0.4 });
    return workflowId;
  },
  async 'promote-full'() {
    // promote with full during the first window: one exposure change to the last step's, then Completed (ROLLOUT_V6_PATCH)
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 5, observe: '1h' }, { pause: {} }, { exposure: 100 }]);
    const { workflowId } = await client.start(spec, opts);
    await waitFor(async () => (await status(workflowId)).phase === 'Observing');
    await client.promote(workflowId, { actor: 'ana', full: true, reason: 'recorded' });
    return workflowId;
  },
  async 'undo-completed'() {
    // a completed rollout undone: no step runs, the compensation and the exposure go back (ROLLOUT_V7_PATCH)
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 10, observe: '100ms' }, { exposure: 100 }], {
      rollback: { compensations: [{ name: 'drain', http: { url: `${hooks.url}/drain` } }] },
    });
    const { workflowId } = await client.start(spec, opts);
    await client.result(workflowId);
    await client.undo(workflowId, { reason: 'recorded', actor: 'ops' });
    return workflowId;
  },
  async 'shadow-step'() {
    // a shadow step before the first live one: the companion flag at 10 %, then live exposure ends it (ROLLOUT_V8_PATCH)
    const spec = flagdSpec(uniqueFlag(), [
      { shadow: 10, observe: '100ms' },
      { exposure: 10, observe: '100ms' },
      { exposure: 100 },
    ]);
    const { workflowId } = await client.start(spec, opts);
    return workflowId;
  },
  async 'compensation-retry'() {
    let failures = 2;
    hooks.respond = () => (failures-- > 0 ? { status: 503 } : { status: 200 });
    const spec = flagdSpec(uniqueFlag(), [{ exposure: 10, observe: '1h' }], {
      rollback: { compensations: [{ name: 'drain', http: { url: `${hooks.url}/drain` } }] },
    });
    const { workflowId } = await client.start(spec, opts);
    await waitFor(async () => (await status(workflowId)).phase === 'Observing');
    await client.abort(workflowId, { reason: 'recorded', actor: 'ops' });
    return workflowId;
  },
};

try {
  for (const [name, run] of Object.entries(scenarios).filter(([n]) => only.length === 0 || only.includes(n))) {
    const workflowId = await run();
    const handle = env.client.workflow.getHandle(workflowId);
    await handle.result().catch(() => undefined); // a scenario may end in a failure on purpose
    const history = await handle.fetchHistory();
    await writeFile(new URL(`${name}.json`, out), historyToJSON(history));
    ids[name] = workflowId;
    process.stdout.write(`${name}: ${(await handle.describe()).status.name}, ${history.events?.length ?? 0} events\n`);
  }
  await writeFile(idsFile, `${JSON.stringify(ids, null, 2)}\n`);
} finally {
  await h.stop();
  await hooks.close();
  await env.teardown();
  await server.stop();
}

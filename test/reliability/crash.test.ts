import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { CommandRejectedError, RolloutClient } from '../../src/client/rollout-client.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import type { RolloutResult } from '../../workflows/messages.js';
import { freePort } from '../../src/util/ports.js';
import { mulberry32 } from '../helpers/prng.js';
import { spawnWorkerProcess, writeWorkflowBundle } from '../helpers/worker-process.js';
import { startChaosWorld, type ChaosWorld } from './chaos-world.js';

/** CI size by default; `npm run chaos` runs CHAOS_N=100. */
const N = Number(process.env.CHAOS_N ?? 20);
const CHAOS_MS = Number(process.env.CHAOS_MS ?? 30_000);
const random = mulberry32(Number(process.env.CHAOS_SEED ?? 20261121));
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'complete' | 'guard' | 'abort' | 'approval';
interface Scenario {
  i: number;
  kind: Kind;
  flag: string;
  target: 'flagd' | 'http';
  spec: RolloutSpecInput;
  expect: { phase: RolloutResult['phase']; exposure: number };
}

function scenario(i: number, world: ChaosWorld): Scenario {
  const kind = (['complete', 'guard', 'abort', 'approval'] as const)[i % 4]!;
  const flag = `chaos-${i}`;
  const target = i % 2 === 0 ? 'flagd' : 'http';
  const targetSpec =
    target === 'flagd'
      ? { type: 'flagd' as const, path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' }
      : { type: 'http' as const, url: `${world.url}/flags/${flag}`, flag, variant: 'on', baselineVariant: 'off' };
  const steps: RolloutSpecInput['steps'] = {
    complete: [{ exposure: 5, observe: '1s' }, { exposure: 25, observe: '1s' }, { exposure: 100 }],
    guard: [{ exposure: 5, observe: '1s' }, { exposure: 25, observe: '5s' }, { exposure: 100 }],
    abort: [{ exposure: 5, observe: '1s' }, { exposure: 25, observe: '10m' }, { exposure: 100 }],
    approval: [{ exposure: 5, observe: '1s' }, { approval: {} }, { exposure: 50, observe: '1s' }, { exposure: 100 }],
  }[kind];
  const guards: RolloutSpecInput['guards'] =
    kind === 'guard'
      ? [
          {
            name: 'err',
            source: { type: 'synthetic', series: { e: [0] }, steps: { '1': { e: [0.5] } } },
            query: 'e',
            max: 0.1,
            interval: '250ms',
          },
        ]
      : [];
  return {
    i,
    kind,
    flag,
    target,
    spec: {
      name: flag,
      target: targetSpec,
      steps,
      guards,
      rollback: { compensations: [{ name: 'hook', http: { url: `${world.url}/hooks/${flag}` } }] },
    },
    expect: {
      phase: kind === 'guard' ? 'RolledBack' : kind === 'abort' ? 'Aborted' : 'Completed',
      exposure: kind === 'complete' || kind === 'approval' ? 100 : 0,
    },
  };
}

/** Retries a client call through worker kills and server restarts until it succeeds or is refused. */
async function persist<T>(op: () => Promise<T>, deadlineMs = 120_000): Promise<T | CommandRejectedError> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (err instanceof CommandRejectedError) return err;
      if (Date.now() > deadline) throw err;
      await sleep(300);
    }
  }
}

describe(`chaos: ${N} rollouts while workers are SIGKILLed and the server restarts`, () => {
  const workers: ChildProcess[] = [];
  let server: DevServer | undefined;
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await server?.stop();
  });

  it(
    'loses nothing: every rollout ends as its scenario demands, targets match, approvals and compensations hold',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'chaos-'));
      const world = await startChaosWorld();
      const port = await freePort();
      const boot = () =>
        startDevServer({
          cliPath: inject('temporalCliPath'),
          port,
          uiPort: false,
          dbFile: join(dir, 'temporal.db'),
          reuseExisting: false,
        });
      server = await boot();
      const bundlePath = await writeWorkflowBundle(dir);
      const taskQueue = `chaos-${Date.now()}`;
      const startWorker = async () => {
        // started blindly: the supervisor kills and restarts it whether or not it got to poll
        const child = await spawnWorkerProcess({
          address: server!.address,
          taskQueue,
          baseDir: dir,
          bundlePath,
          logLevel: 'error',
          waitReady: false,
          inheritStderr: Boolean(process.env.CHAOS_DEBUG),
        });
        workers.push(child);
        return child;
      };
      const connection = await Connection.connect({ address: server.address });
      const rollouts = new RolloutClient(new Client({ connection }));
      const scenarios = Array.from({ length: N }, (_, i) => scenario(i, world));
      let worker = await startWorker();
      for (const s of scenarios) await rollouts.start(s.spec, { taskQueue });

      // operators act mid-chaos: approvals and aborts must not be lost
      const operators = scenarios.map(async (s) => {
        if (s.kind !== 'abort' && s.kind !== 'approval') return;
        const id = rolloutIdForFlag(s.flag);
        const deadline = Date.now() + CHAOS_MS + 90_000;
        while (Date.now() < deadline) {
          const status = await rollouts.status(id).catch(() => undefined);
          if (s.kind === 'abort' && status && status.step >= 1 && status.phase === 'Observing') {
            return persist(() => rollouts.abort(id, { reason: 'chaos', actor: 'chaos-monkey' }));
          }
          if (s.kind === 'approval' && status?.phase === 'AwaitingApproval') {
            return persist(() => rollouts.approve(id, { step: 1, actor: 'chaos-approver' }));
          }
          await sleep(between(200, 800));
        }
        return undefined;
      });

      const chaosStart = Date.now();
      let kills = 0;
      let restarts = 0;
      while (Date.now() - chaosStart < CHAOS_MS) {
        await sleep(between(800, 2_500));
        worker.kill('SIGKILL');
        kills += 1;
        if (restarts < 2 && Date.now() - chaosStart > ((restarts + 1) * CHAOS_MS) / 3) {
          await server.stop();
          await sleep(between(100, 500));
          server = await boot();
          restarts += 1;
        }
        await sleep(between(100, 600));
        worker = await startWorker();
      }
      await Promise.all(operators);
      const progress = setInterval(() => {
        void Promise.all(
          scenarios.map((s) =>
            rollouts.status(rolloutIdForFlag(s.flag)).then(
              (st) => `${s.flag}:${st.phase}@${st.step}`,
              (e: Error) => `${s.flag}:? ${e.message.slice(0, 60)}`,
            ),
          ),
        ).then((lines) =>
          console.log(
            `[chaos] waiting: worker ${worker.exitCode === null ? 'alive' : `exited ${worker.exitCode}`}; ${lines.filter((l) => !/Completed|RolledBack|Aborted/.test(l)).join(' ')}`,
          ),
        );
      }, 10_000);
      const results = await Promise.all(
        scenarios.map(
          (s) => persist(() => rollouts.result(rolloutIdForFlag(s.flag)), 180_000) as Promise<RolloutResult>,
        ),
      );

      clearInterval(progress);
      const rows: { invariant: string; ok: boolean; detail: string }[] = [];
      const check = (invariant: string, failures: string[]) =>
        rows.push({ invariant, ok: failures.length === 0, detail: failures.slice(0, 3).join('; ') || 'all hold' });
      check(
        'every rollout terminal, in the phase its scenario demands',
        scenarios.flatMap((s, k) =>
          results[k]!.phase === s.expect.phase ? [] : [`${s.flag}: ${results[k]!.phase} ≠ ${s.expect.phase}`],
        ),
      );
      const targetFailures: string[] = [];
      for (const [k, s] of scenarios.entries()) {
        const final = results[k]!.exposure.percent;
        const actual =
          s.target === 'flagd'
            ? (
                await createFlagdFileTarget(
                  { type: 'flagd', path: 'flags.json', flag: s.flag, variant: 'on', baselineVariant: 'off' },
                  { baseDir: dir },
                ).read()
              ).percent
            : (world.flags.get(s.flag)?.percent ?? 0);
        if (actual !== final || final !== s.expect.exposure)
          targetFailures.push(`${s.flag}: target ${actual}%, result ${final}%, expected ${s.expect.exposure}%`);
      }
      check('each target holds its rollout final exposure', targetFailures);
      check(
        'HTTP change log: no lost, repeated or out-of-order exposure change',
        scenarios.filter((s) => s.target === 'http').flatMap((s) => changeLogProblems(s, results[s.i]!, world)),
      );
      check(
        'no approval lost',
        scenarios
          .filter((s) => s.kind === 'approval')
          .flatMap((s) =>
            results[s.i]!.approvals.filter((a) => a.step === 1).length === 1
              ? []
              : [`${s.flag}: ${results[s.i]!.approvals.length} approvals`],
          ),
      );
      check(
        'every compensation ran at least once, its effect applied exactly once',
        scenarios
          .filter((s) => s.expect.phase !== 'Completed')
          .flatMap((s) => {
            const calls = world.hookCalls.get(s.flag) ?? 0;
            const effects = world.hookEffects.get(s.flag) ?? 0;
            return calls >= 1 && effects === 1 ? [] : [`${s.flag}: ${calls} calls, ${effects} effects`];
          }),
      );
      check(
        'no compensation ran for completed rollouts',
        scenarios.filter((s) => s.expect.phase === 'Completed' && world.hookCalls.has(s.flag)).map((s) => s.flag),
      );
      check(`chaos happened: ${kills} worker kills, ${restarts} server restarts`, [
        ...(kills >= 3 ? [] : ['fewer than 3 kills']),
        ...(restarts >= 2 ? [] : ['fewer than 2 server restarts']),
      ]);
      console.log(
        `\n${'invariant'.padEnd(72)} result\n${rows.map((r) => `${r.invariant.padEnd(72)} ${r.ok ? 'ok  ' : 'FAIL'} ${r.detail}`).join('\n')}\n`,
      );
      await connection.close();
      await world.close();
      expect(rows.filter((r) => !r.ok)).toEqual([]);
    },
    CHAOS_MS + 300_000,
  );
});

/** Forward changes must be exactly the steps the rollout entered, in order; rollback only returns to 0. */
function changeLogProblems(s: Scenario, result: RolloutResult, world: ChaosWorld): string[] {
  const log = world.changes.filter((c) => c.flag === s.flag);
  const exposures = s.spec.steps.map((st) => ('exposure' in st ? st.exposure : undefined));
  const entered = result.timeline
    .filter((t) => t.phase === 'Progressing' && /set exposure/.test(t.cause))
    .map((t) => exposures[t.step]!);
  const firstRollback = result.rollback ? log.findIndex((c) => c.key.includes(':rollback:')) : log.length;
  const forward = log.slice(0, firstRollback === -1 ? log.length : firstRollback).map((c) => c.percent);
  const back = firstRollback === -1 ? [] : log.slice(firstRollback);
  const problems: string[] = [];
  if (JSON.stringify(forward) !== JSON.stringify(entered))
    problems.push(`${s.flag}: forward changes ${JSON.stringify(forward)} ≠ steps entered ${JSON.stringify(entered)}`);
  if (back.some((c) => c.percent !== 0 || !c.key.includes(':rollback:')))
    problems.push(`${s.flag}: rollback changes ${JSON.stringify(back.map((c) => c.percent))}`);
  if (result.rollback && back.length === 0) problems.push(`${s.flag}: rolled back without a change to 0`);
  return problems;
}

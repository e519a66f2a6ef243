/**
 * Reaction to a pushed breach: a rollout idles in an observation window at 20 %; the bench sends a `guardBreach`
 * (RolloutClient.breach, or an Alertmanager webhook to the HTTP API) and times until the flag file reads 0 %.
 * Rollouts run one at a time, each with its own flag file, on the production worker in this process.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createFlagdFileTarget } from '../activities/targets/index.js';
import { serveApi } from '../src/api/start.js';
import { createLogger } from '../src/logger.js';
import {
  ensureFlagDir,
  flagdTarget,
  sleep,
  startRolloutWorker,
  waitForPhase,
  watchExposure,
  type BenchContext,
  type Measurement,
} from './context.js';
import { below, latencyRows, percentile, type Row } from './report.js';

const EXPOSURE = 20;
/** After the status query says Observing, let the worker finish that workflow task before triggering. */
const SETTLE_MS = 50;
const WARMUP = 2;

interface Sample {
  reactionMs: number;
  /** How long the trigger call itself took (signal RPC, or the whole webhook request). */
  triggerMs: number;
  /** From the history's event times (server clock): signal recorded → the workflow task that handled it completed. */
  decideMs?: number;
  /** Signal recorded → the first rollback activity (exposure to 0 %) completed. */
  applyMs?: number;
}

/** Where the time went, read off the event history: deciding (workflow task) and applying (activity). */
async function phasesOf(ctx: BenchContext, workflowId: string): Promise<Pick<Sample, 'decideMs' | 'applyMs'>> {
  const events = (await ctx.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const ms = (e: (typeof events)[number]) =>
    Number(e.eventTime?.seconds ?? 0) * 1_000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
  if (signalled < 0) return {};
  const after = events.slice(signalled);
  const decided = after.find((e) => e.workflowTaskCompletedEventAttributes);
  const applied = after.find((e) => e.activityTaskCompletedEventAttributes);
  const t0 = ms(events[signalled]!);
  return { ...(decided ? { decideMs: ms(decided) - t0 } : {}), ...(applied ? { applyMs: ms(applied) - t0 } : {}) };
}

type Trigger = (workflowId: string, flag: string) => Promise<void>;

async function measureOne(ctx: BenchContext, taskQueue: string, flag: string, trigger: Trigger): Promise<Sample> {
  const target = flagdTarget(flag);
  const spec = {
    name: 'bench-push',
    target,
    steps: [{ exposure: EXPOSURE, observe: '1h' }],
    guards: [{ name: 'error-rate', alert: {} }],
  };
  const { workflowId } = await ctx.rollouts.start(spec, { taskQueue });
  await waitForPhase(ctx, workflowId, 'Observing');
  await sleep(SETTLE_MS);
  const before = await createFlagdFileTarget(target, { baseDir: ctx.dir }).read();
  if (before.percent !== EXPOSURE)
    throw new Error(`${flag}: file at ${before.percent}% before the breach, expected ${EXPOSURE}%`);

  const watch = watchExposure(ctx, target, (percent) => percent === 0);
  const t0 = performance.now();
  try {
    await trigger(workflowId, flag);
  } catch (err) {
    watch.close();
    throw err;
  }
  const triggered = performance.now();
  const seenAt = await watch.seen;
  const result = await ctx.rollouts.result(workflowId);
  if (result.phase !== 'RolledBack') throw new Error(`${workflowId} ended ${result.phase}, expected RolledBack`);
  return { reactionMs: seenAt - t0, triggerMs: triggered - t0, ...(await phasesOf(ctx, workflowId)) };
}

async function series(
  ctx: BenchContext,
  label: string,
  n: number,
  taskQueue: string,
  trigger: Trigger,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = -WARMUP; i < n; i++) {
    const sample = await measureOne(ctx, taskQueue, `${ctx.tag}-${label}-${i + WARMUP}`, trigger);
    if (i >= 0) samples.push(sample);
    if (i >= 0 && (i + 1) % 10 === 0)
      ctx.progress(
        `${label}: ${i + 1}/${n}, p50 so far ${percentile(
          samples.map((s) => s.reactionMs),
          50,
        ).toFixed(1)} ms`,
      );
  }
  return samples;
}

function phaseRows(samples: Sample[]): Row[] {
  const decide = samples.flatMap((s) => (s.decideMs === undefined ? [] : [s.decideMs]));
  const apply = samples.flatMap((s) => (s.applyMs === undefined ? [] : [s.applyMs]));
  return [
    {
      metric: '  of which: signal event → decision (workflow task) p50',
      value: percentile(decide, 50),
      unit: 'ms',
      n: decide.length,
      note: 'server event times',
    },
    {
      metric: '  of which: signal event → exposure 0% activity done p50',
      value: percentile(apply, 50),
      unit: 'ms',
      n: apply.length,
    },
  ];
}

function alertmanagerBody(flag: string) {
  return {
    version: '4',
    status: 'firing',
    receiver: 'bench',
    groupKey: `{}:{rollout="${flag}"}`,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'ErrorRateHigh', rollout: flag, guard: 'error-rate' },
        annotations: { value: '0.2', summary: 'bench: error rate above 5%' },
        startsAt: new Date().toISOString(),
      },
    ],
  };
}

export const reactionPush: Measurement = {
  name: 'reaction-push',
  title: 'Reaction, push: guardBreach signal / Alertmanager webhook → flag file at baseline',
  async run(ctx) {
    const nSignal = ctx.size('PUSH_N', 50, 5);
    const nAlert = ctx.size('ALERT_N', 20, 3);
    await ensureFlagDir(ctx);
    const worker = await startRolloutWorker(ctx, 'push');
    const token = randomBytes(16).toString('hex');
    const api = await serveApi({
      client: ctx.client,
      logger: createLogger({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
      token,
      taskQueue: worker.taskQueue,
    });
    try {
      ctx.progress(`signal: ${nSignal} rollouts one at a time (+${WARMUP} warm-up)`);
      const signal = await series(ctx, 'signal', nSignal, worker.taskQueue, (id) =>
        ctx.rollouts.breach(id, { guard: 'error-rate', value: 0.2, source: 'bench', reason: 'bench breach' }),
      );
      ctx.progress(`alertmanager: ${nAlert} rollouts one at a time via POST ${api.url}/alerts/alertmanager`);
      const alert = await series(ctx, 'alert', nAlert, worker.taskQueue, async (_id, flag) => {
        const response = await fetch(`${api.url}/alerts/alertmanager`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(alertmanagerBody(flag)),
        });
        const answer = (await response.json()) as { signalled?: number };
        if (!response.ok || answer.signalled !== 1)
          throw new Error(`alertmanager webhook: HTTP ${response.status} ${JSON.stringify(answer)}`);
      });
      const rows: Row[] = [
        ...latencyRows(
          'signal → file at 0%',
          signal.map((s) => s.reactionMs),
          below(100),
        ),
        {
          metric: 'signal RPC (client.signal) p50',
          value: percentile(
            signal.map((s) => s.triggerMs),
            50,
          ),
          unit: 'ms',
          n: signal.length,
        },
        ...phaseRows(signal),
        ...latencyRows(
          'alertmanager POST → file at 0%',
          alert.map((s) => s.reactionMs),
          below(100),
        ),
        {
          metric: 'alertmanager request p50',
          value: percentile(
            alert.map((s) => s.triggerMs),
            50,
          ),
          unit: 'ms',
          n: alert.length,
        },
      ];
      return {
        rows,
        details: {
          exposure: EXPOSURE,
          settleMs: SETTLE_MS,
          warmup: WARMUP,
          mode: 'sequential, one rollout at a time; in-process worker (createRolloutWorker); flag file watched with fs.watch + 5 ms poll',
          signal,
          alertmanager: alert,
        },
      };
    } finally {
      await api.app.close();
      await worker.stop();
    }
  },
};

/**
 * Scale: N concurrent rollouts idling in 10-minute observation windows (no guards) on ONE worker process
 * (`test/fixtures/worker-process.ts` with the pre-built bundle, as the crash test spawns it). Samples the worker's
 * VmRSS / VmHWM and utime+stime from /proc every second; times the starts and until every rollout is Observing
 * (counted through visibility). The rollouts are left running: the dev server is stopped after the last measurement.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { spawnWorkerProcess } from '../test/helpers/worker-process.js';
import { sleep, type BenchContext, type Measurement } from './context.js';
import { atMost, type Row } from './report.js';

const CLOCK_TICKS_PER_S = 100; // _SC_CLK_TCK on Linux
const MB = 1e6;

interface ProcSample {
  atMs: number;
  rssMB: number;
  peakMB: number;
  cpuS: number;
}

/** VmRSS, VmHWM and user+system CPU of a live process, from /proc. */
export async function sampleProc(pid: number): Promise<ProcSample> {
  const [status, stat] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8'),
    readFile(`/proc/${pid}/stat`, 'utf8'),
  ]);
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  // fields after "(comm)": state is field 3, utime 14, stime 15
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    atMs: performance.now(),
    rssMB: (kB('VmRSS') * 1024) / MB,
    peakMB: (kB('VmHWM') * 1024) / MB,
    cpuS: (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_S,
  };
}

function spawnWorker(ctx: BenchContext, taskQueue: string): Promise<ChildProcess> {
  return spawnWorkerProcess({
    address: ctx.server.address,
    namespace: ctx.server.namespace,
    taskQueue,
    baseDir: ctx.dir,
    bundlePath: ctx.bundlePath,
    logLevel: 'error',
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export const scale: Measurement = {
  name: 'scale',
  title: 'Scale: concurrent rollouts idling in observation windows on one worker process',
  async run(ctx) {
    const n = ctx.size('SCALE_N', 2_000, 100);
    const lanes = ctx.size('SCALE_START_PARALLEL', 32, 8);
    const idleS = ctx.size('SCALE_IDLE_S', 20, 5);
    const deadlineS = ctx.size('SCALE_DEADLINE_S', 420, 120);
    const taskQueue = `bench-scale-${ctx.tag}`;
    const observing = `TaskQueue = "${taskQueue}" AND RolloutPhase = "Observing"`;
    const worker = await spawnWorker(ctx, taskQueue);
    const pid = worker.pid!;
    const samples: ProcSample[] = [];
    const serverSamples: ProcSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling && worker.exitCode === null) {
        samples.push(await sampleProc(pid));
        const server =
          ctx.server.pid === undefined ? undefined : await sampleProc(ctx.server.pid).catch(() => undefined);
        if (server) serverSamples.push(server);
        await sleep(1_000);
      }
    })();
    try {
      await sleep(2_000);
      const idleBefore = await sampleProc(pid);
      ctx.progress(
        `worker pid ${pid} ready, RSS ${idleBefore.rssMB.toFixed(0)} MB; starting ${n} rollouts, ${lanes} start calls in flight`,
      );

      const t0 = performance.now();
      let started = 0;
      const lane = async () => {
        while (started < n) {
          const i = started++;
          const flag = `${ctx.tag}-scale-${i}`;
          await ctx.rollouts.start(
            {
              name: 'bench-scale',
              target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
              steps: [{ exposure: 1, observe: '10m' }, { exposure: 100 }],
            },
            { taskQueue },
          );
          if ((i + 1) % 250 === 0) ctx.progress(`started ${i + 1}/${n}`);
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
      const startCallsMs = performance.now() - t0;
      ctx.progress(
        `${n} start calls returned in ${(startCallsMs / 1000).toFixed(1)} s; waiting for every rollout to be Observing`,
      );

      let reached = 0;
      let lastReport = 0;
      const deadline = t0 + deadlineS * 1000;
      while (performance.now() < deadline && worker.exitCode === null) {
        reached = Number((await ctx.client.workflow.count(observing)).count);
        if (reached >= n) break;
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          ctx.progress(`observing ${reached}/${n}, worker RSS ${samples[samples.length - 1]?.rssMB.toFixed(0)} MB`);
        }
        await sleep(500);
      }
      const allObservingMs = performance.now() - t0;
      if (worker.exitCode !== null || worker.signalCode !== null) {
        const last = samples[samples.length - 1];
        throw new Error(
          `the worker process died (${worker.exitCode ?? worker.signalCode}) with ${reached}/${n} Observing; last RSS ${last?.rssMB.toFixed(0)} MB`,
        );
      }
      const afterStart = await sampleProc(pid);
      ctx.progress(
        `${reached}/${n} observing after ${(allObservingMs / 1000).toFixed(1)} s; measuring ${idleS} s of idle`,
      );
      await sleep(idleS * 1000);
      const idleEnd = await sampleProc(pid);
      const startCpuS = afterStart.cpuS - idleBefore.cpuS;
      const rows: Row[] = [
        {
          metric: 'rollouts Observing at once',
          value: reached,
          unit: 'rollouts',
          n,
          ...(reached < n ? { note: `only ${reached} of ${n} reached Observing within ${deadlineS} s` } : {}),
        },
        { metric: `${n} start calls returned (${lanes} in flight)`, value: startCallsMs / 1000, unit: 's' },
        { metric: `all ${n} Observing (first start → visibility count)`, value: allObservingMs / 1000, unit: 's' },
        { metric: 'worker RSS, idle before any rollout', value: idleBefore.rssMB, unit: 'MB' },
        {
          metric: `worker RSS with ${reached} rollouts idling`,
          value: idleEnd.rssMB,
          unit: 'MB',
          target: atMost(1_000),
        },
        { metric: 'worker peak RSS (VmHWM)', value: idleEnd.peakMB, unit: 'MB' },
        {
          metric: 'worker RSS added per idling rollout',
          value: (idleEnd.rssMB - idleBefore.rssMB) / Math.max(1, reached),
          unit: 'MB',
        },
        { metric: 'worker CPU to take them all to Observing', value: startCpuS, unit: 'cpu-s' },
        { metric: 'worker CPU per rollout started', value: (1000 * startCpuS) / Math.max(1, reached), unit: 'ms' },
        {
          metric: 'worker CPU while they idle',
          value: (100 * (idleEnd.cpuS - afterStart.cpuS)) / ((idleEnd.atMs - afterStart.atMs) / 1000),
          unit: '% of a core',
        },
      ];
      const server = serverSamples[serverSamples.length - 1];
      if (server) rows.push({ metric: 'dev server RSS (for context)', value: server.rssMB, unit: 'MB' });
      return {
        rows,
        details: {
          n,
          reached,
          startParallel: lanes,
          idleS,
          workerPid: pid,
          worker:
            'node --import tsx test/fixtures/worker-process.ts (createRolloutWorker, SDK default maxCachedWorkflows), WORKFLOW_BUNDLE pre-built',
          cleanup: 'rollouts left running; the dev server is stopped at the end of the bench',
          workerSamples: samples.map((s) => ({ t: Math.round(s.atMs - t0), rssMB: Math.round(s.rssMB), cpuS: s.cpuS })),
          serverSamples: serverSamples.map((s) => ({
            t: Math.round(s.atMs - t0),
            rssMB: Math.round(s.rssMB),
            cpuS: s.cpuS,
          })),
        },
      };
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await stopWorker(worker);
    }
  },
};

/**
 * Scale: N concurrent rollouts idling in 10-minute observation windows (no guards) on W worker processes
 * (`test/fixtures/worker-process.ts` with the pre-built bundle and a bounded sticky cache, as a deployment would run
 * `rollout worker --max-cached-workflows`). Samples each worker's VmRSS / VmHWM and utime+stime from /proc every
 * second, and the server's (and, on the cluster profile, PostgreSQL's: the postmaster and every backend) CPU; times
 * the starts and until every rollout is Observing (counted through visibility). The rollouts are left running: the
 * server is stopped after the last measurement.
 */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * PostgreSQL's CPU: the postmaster's and every live child's (a backend per connection), plus what exited children
 * left in the postmaster's cutime/cstime. Undefined off the cluster profile.
 */
async function sampleDatabase(): Promise<{ atMs: number; cpuS: number } | undefined> {
  const state = process.env.CLUSTER_STATE_DIR;
  if (!state) return undefined;
  const postmaster = Number(
    (await readFile(join(state, 'pgdata', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
  );
  if (!postmaster) return undefined;
  let cpuS = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    if (pid !== postmaster && Number(rest[1]) !== postmaster) continue;
    cpuS += (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_S;
    if (pid === postmaster) cpuS += (Number(rest[13]) + Number(rest[14])) / CLOCK_TICKS_PER_S;
  }
  return { atMs: performance.now(), cpuS };
}

function spawnWorker(ctx: BenchContext, taskQueue: string, maxCachedWorkflows: number): Promise<ChildProcess> {
  return spawnWorkerProcess({
    address: ctx.server.address,
    namespace: ctx.server.namespace,
    taskQueue,
    baseDir: ctx.dir,
    bundlePath: ctx.bundlePath,
    logLevel: 'error',
    maxCachedWorkflows,
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

const cpuPercent = (a: { atMs: number; cpuS: number }, b: { atMs: number; cpuS: number }) =>
  (100 * (b.cpuS - a.cpuS)) / Math.max(0.001, (b.atMs - a.atMs) / 1000);

export const scale: Measurement = {
  name: 'scale',
  title: 'Scale: concurrent rollouts idling in observation windows on worker processes with a bounded cache',
  async run(ctx) {
    const n = ctx.size('SCALE_N', 10_000, 100);
    const workerCount = ctx.size('SCALE_WORKERS', 2, 2);
    const maxCached = ctx.size('SCALE_MAX_CACHED', 1_000, 50);
    const lanes = ctx.size('SCALE_START_PARALLEL', 32, 8);
    const idleS = ctx.size('SCALE_IDLE_S', 20, 5);
    const deadlineS = ctx.size('SCALE_DEADLINE_S', 1_800, 120);
    const where = process.env.CLUSTER_STATE_DIR ? 'cluster' : 'dev server';
    const taskQueue = `bench-scale-${ctx.tag}`;
    const observing = `TaskQueue = "${taskQueue}" AND RolloutPhase = "Observing"`;
    const workers = await Promise.all(
      Array.from({ length: workerCount }, () => spawnWorker(ctx, taskQueue, maxCached)),
    );
    const samples: ProcSample[][] = workers.map(() => []);
    const serverSamples: ProcSample[] = [];
    let sampling = true;
    const alive = () => workers.every((w) => w.exitCode === null && w.signalCode === null);
    const sampler = (async () => {
      while (sampling && alive()) {
        for (const [i, w] of workers.entries()) samples[i]!.push(await sampleProc(w.pid!));
        const server =
          ctx.server.pid === undefined ? undefined : await sampleProc(ctx.server.pid).catch(() => undefined);
        if (server) serverSamples.push(server);
        await sleep(1_000);
      }
    })();
    const sampleAll = async () => ({
      workers: await Promise.all(workers.map((w) => sampleProc(w.pid!))),
      server: ctx.server.pid === undefined ? undefined : await sampleProc(ctx.server.pid).catch(() => undefined),
      database: await sampleDatabase(),
    });
    const lastRss = () => samples.map((s) => s[s.length - 1]?.rssMB.toFixed(0)).join(' + ');
    try {
      await sleep(2_000);
      const before = await sampleAll();
      ctx.progress(
        `${workerCount} workers ready on the ${where} (RSS ${before.workers.map((w) => w.rssMB.toFixed(0)).join(' + ')} MB, ` +
          `cache ${maxCached} each); starting ${n} rollouts, ${lanes} start calls in flight`,
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
          if ((i + 1) % 1_000 === 0) ctx.progress(`started ${i + 1}/${n}`);
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
      while (performance.now() < deadline && alive()) {
        reached = Number((await ctx.client.workflow.count(observing)).count);
        if (reached >= n) break;
        if (performance.now() - lastReport > 15_000) {
          lastReport = performance.now();
          ctx.progress(`observing ${reached}/${n}, worker RSS ${lastRss()} MB`);
        }
        await sleep(1_000);
      }
      const allObservingMs = performance.now() - t0;
      if (!alive()) {
        throw new Error(
          `a worker process died (${workers.map((w) => w.exitCode ?? w.signalCode ?? 'alive').join(', ')}) with ${reached}/${n} Observing; last RSS ${lastRss()} MB`,
        );
      }
      const afterStart = await sampleAll();
      ctx.progress(
        `${reached}/${n} observing after ${(allObservingMs / 1000).toFixed(1)} s; measuring ${idleS} s of idle`,
      );
      await sleep(idleS * 1000);
      const idleEnd = await sampleAll();
      const sum = (xs: ProcSample[], f: (p: ProcSample) => number) => xs.reduce((a, p) => a + f(p), 0);
      const workerStartCpuS = sum(afterStart.workers, (p) => p.cpuS) - sum(before.workers, (p) => p.cpuS);
      const rows: Row[] = [
        {
          metric: `rollouts Observing at once (${where})`,
          value: reached,
          unit: 'rollouts',
          n,
          ...(reached < n ? { note: `only ${reached} of ${n} reached Observing within ${deadlineS} s` } : {}),
        },
        { metric: `${n} start calls returned (${lanes} in flight)`, value: startCallsMs / 1000, unit: 's' },
        { metric: 'start rate (start calls)', value: n / (startCallsMs / 1000), unit: 'rollouts/s' },
        { metric: `all ${n} Observing (first start → visibility count)`, value: allObservingMs / 1000, unit: 's' },
        { metric: 'rollouts reaching Observing', value: reached / (allObservingMs / 1000), unit: 'rollouts/s' },
        ...afterStart.workers.flatMap((_, i): Row[] => [
          { metric: `worker ${i + 1} RSS, idle before any rollout`, value: before.workers[i]!.rssMB, unit: 'MB' },
          {
            metric: `worker ${i + 1} RSS with its share of ${reached} idling (cache ${maxCached})`,
            value: idleEnd.workers[i]!.rssMB,
            unit: 'MB',
            target: atMost(1_000),
          },
          { metric: `worker ${i + 1} peak RSS (VmHWM)`, value: idleEnd.workers[i]!.peakMB, unit: 'MB' },
        ]),
        { metric: "workers' CPU to take them all to Observing", value: workerStartCpuS, unit: 'cpu-s' },
        {
          metric: "workers' CPU per rollout started",
          value: (1000 * workerStartCpuS) / Math.max(1, reached),
          unit: 'ms',
        },
        {
          metric: "workers' CPU while they idle",
          value: afterStart.workers.reduce((a, p, i) => a + cpuPercent(p, idleEnd.workers[i]!), 0),
          unit: '% of a core',
        },
      ];
      if (before.server && afterStart.server && idleEnd.server) {
        const cpu = afterStart.server.cpuS - before.server.cpuS;
        rows.push(
          { metric: `${where} CPU to take them all to Observing`, value: cpu, unit: 'cpu-s' },
          { metric: `${where} CPU per rollout started`, value: (1000 * cpu) / Math.max(1, reached), unit: 'ms' },
          {
            metric: `${where} CPU while they idle`,
            value: cpuPercent(afterStart.server, idleEnd.server),
            unit: '% of a core',
          },
          { metric: `${where} RSS`, value: idleEnd.server.rssMB, unit: 'MB' },
        );
      }
      if (before.database && afterStart.database && idleEnd.database) {
        const cpu = afterStart.database.cpuS - before.database.cpuS;
        rows.push(
          { metric: 'PostgreSQL CPU to take them all to Observing', value: cpu, unit: 'cpu-s' },
          { metric: 'PostgreSQL CPU per rollout started', value: (1000 * cpu) / Math.max(1, reached), unit: 'ms' },
          {
            metric: 'PostgreSQL CPU while they idle',
            value: cpuPercent(afterStart.database, idleEnd.database),
            unit: '% of a core',
          },
        );
      }
      return {
        rows,
        details: {
          where,
          n,
          reached,
          workers: workerCount,
          maxCachedWorkflows: maxCached,
          startParallel: lanes,
          idleS,
          workerPids: workers.map((w) => w.pid),
          worker:
            'node --import tsx test/fixtures/worker-process.ts (createRolloutWorker, MAX_CACHED_WORKFLOWS), WORKFLOW_BUNDLE pre-built',
          cleanup: 'rollouts left running; the server is stopped at the end of the bench',
          workerSamples: samples.map((ws) =>
            ws
              .filter((_, k) => k % 5 === 0)
              .map((s) => ({ t: Math.round(s.atMs - t0), rssMB: Math.round(s.rssMB), cpuS: s.cpuS })),
          ),
          serverSamples: serverSamples
            .filter((_, k) => k % 5 === 0)
            .map((s) => ({ t: Math.round(s.atMs - t0), rssMB: Math.round(s.rssMB), cpuS: s.cpuS })),
        },
      };
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await Promise.all(workers.map(stopWorker));
    }
  },
};

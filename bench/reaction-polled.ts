/**
 * Reaction to a polled guard: a rollout observes at 20 % with an http-json guard checked every second against a
 * metric this process serves. At a random moment the metric turns bad; the bench times flip → flag file at 0 %,
 * and splits it into detection (flip → first bad answer served) and action (bad answer → file at 0 %).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { toMs } from '../src/domain/time.js';
import { mulberry32 } from '../test/helpers/prng.js';
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
import { atMost, latencyRows, percentile, type Row } from './report.js';

const INTERVAL = '1s';
const GOOD = 0.01;
const BAD = 0.5;
const MAX = 0.05;

/** A metric endpoint: `GET /metric/<key>` answers `{ "value": n }`; remembers when it first served a bad value. */
class MetricServer {
  readonly values = new Map<string, number>();
  readonly firstBadServedAt = new Map<string, number>();
  readonly #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const key = decodeURIComponent((req.url ?? '').replace(/^\/metric\//, ''));
      const value = this.values.get(key) ?? GOOD;
      if (value > MAX && !this.firstBadServedAt.has(key)) this.firstBadServedAt.set(key, performance.now());
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value }));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

interface Sample {
  flag: string;
  /** Random delay after the window opened before the flip. */
  flipAfterMs: number;
  reactionMs: number;
  detectMs: number;
  actMs: number;
}

async function measureOne(
  ctx: BenchContext,
  taskQueue: string,
  metrics: MetricServer,
  flag: string,
  random: () => number,
): Promise<Sample> {
  const target = flagdTarget(flag);
  const spec = {
    name: 'bench-polled',
    target,
    steps: [{ exposure: 20, observe: '10m' }],
    guards: [
      {
        name: 'error-rate',
        source: { type: 'http-json' as const, url: `${metrics.url}/metric/${flag}` },
        query: '$.value',
        max: MAX,
        interval: INTERVAL,
      },
    ],
  };
  metrics.values.set(flag, GOOD);
  const { workflowId } = await ctx.rollouts.start(spec, { taskQueue });
  await waitForPhase(ctx, workflowId, 'Observing');
  // uniform over two intervals, so the flip lands at every phase of the check schedule
  const flipAfterMs = Math.floor(random() * 2 * toMs(INTERVAL));
  await sleep(flipAfterMs);
  const watch = watchExposure(ctx, target, (percent) => percent === 0);
  const flippedAt = performance.now();
  metrics.values.set(flag, BAD);
  const seenAt = await watch.seen;
  const result = await ctx.rollouts.result(workflowId);
  if (result.phase !== 'RolledBack') throw new Error(`${workflowId} ended ${result.phase}, expected RolledBack`);
  const badAt = metrics.firstBadServedAt.get(flag) ?? Number.NaN;
  return { flag, flipAfterMs, reactionMs: seenAt - flippedAt, detectMs: badAt - flippedAt, actMs: seenAt - badAt };
}

export const reactionPolled: Measurement = {
  name: 'reaction-polled',
  title: `Reaction, polled: http-json guard every ${INTERVAL}, metric turns bad at a random moment → flag file at baseline`,
  async run(ctx) {
    const n = ctx.size('POLLED_N', 20, 4);
    const parallel = ctx.size('POLLED_PARALLEL', 4, 2);
    await ensureFlagDir(ctx);
    const metrics = new MetricServer();
    await metrics.listen();
    const worker = await startRolloutWorker(ctx, 'polled');
    const random = mulberry32(ctx.size('SEED', 20261121, 20261121));
    try {
      ctx.progress(
        `${n} rollouts, ${parallel} at a time; each flips its metric 0–${2 * toMs(INTERVAL)} ms into its window`,
      );
      const samples: Sample[] = [];
      let next = 0;
      const lane = async () => {
        while (next < n) {
          const i = next++;
          samples.push(await measureOne(ctx, worker.taskQueue, metrics, `${ctx.tag}-polled-${i}`, random));
          if (samples.length % 5 === 0)
            ctx.progress(
              `polled: ${samples.length}/${n}, p50 so far ${percentile(
                samples.map((s) => s.reactionMs),
                50,
              ).toFixed(0)} ms`,
            );
        }
      };
      await Promise.all(Array.from({ length: parallel }, lane));
      const intervalMs = toMs(INTERVAL);
      const rows: Row[] = [
        ...latencyRows(
          'flip → file at 0%',
          samples.map((s) => s.reactionMs),
          atMost(intervalMs + 100),
        ),
        {
          metric: 'detect (flip → first bad answer) p99',
          value: percentile(
            samples.map((s) => s.detectMs),
            99,
          ),
          unit: 'ms',
          n: samples.length,
        },
        {
          metric: 'act (bad answer → file at 0%) p50',
          value: percentile(
            samples.map((s) => s.actMs),
            50,
          ),
          unit: 'ms',
          n: samples.length,
        },
        {
          metric: 'act (bad answer → file at 0%) p99',
          value: percentile(
            samples.map((s) => s.actMs),
            99,
          ),
          unit: 'ms',
          n: samples.length,
        },
      ];
      return { rows, details: { interval: INTERVAL, parallel, good: GOOD, bad: BAD, max: MAX, samples } };
    } finally {
      await worker.stop();
      await metrics.close();
    }
  },
};

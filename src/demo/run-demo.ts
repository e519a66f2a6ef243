import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { RolloutClient } from '../client/rollout-client.js';
import { RolloutAlreadyRunningError } from '../client/start.js';
import type { Companion, CompanionContext } from '../dev/orchestrator.js';
import { isTerminal } from '../domain/rollout-state.js';
import { TASK_QUEUE } from '../temporal/connection.js';
import { createLiveView } from '../view/live-view.js';
import type { RolloutStatus } from '../../workflows/messages.js';
import {
  demoCatalog,
  DEMO_FLAG,
  DEMO_ROLLOUT_ID,
  demoStepLabel,
  demoSpec,
  FAULT_AT_STEP,
  type DemoMetrics,
} from './demo-spec.js';
import { extendCatalog } from '../catalog/dev-default.js';
import { demoFrame, demoHeader, demoSummary, type DemoViewState } from './demo-view.js';
import { startDemoService, type DemoService } from './demo-service.js';
import { startLoad } from './load.js';
import { findPrometheus, startPrometheus, type DemoPrometheus } from './prometheus.js';
import { listenForKeys, type DemoKey } from './terminal.js';

export interface DemoOptions {
  /** Port of the demo service on 127.0.0.1 (default 8090). */
  port: number;
  rps: number;
  /** Turn the fault on once the rollout reaches step 1, so the guards catch it and roll back. */
  fault: boolean;
  /** `auto` uses Prometheus when a binary is installed, else the scrape source. */
  metrics: 'auto' | 'prometheus' | 'scrape';
  /** Observation window per step (see `demoWindow`). */
  window: string;
  /** Where `.rollout/demo/flags.json` lives (default: cwd, which is also where the worker resolves it). */
  baseDir?: string;
  out?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  refreshMs?: number;
}

/**
 * The demo as a companion of `rollout dev`: the flag file, the demo service, Prometheus (or the scrape source),
 * the load, then the demo rollout — started, or resumed when one from an earlier run is still running — and
 * the live view until the orchestrator stops it. Everything it started is stopped in reverse order.
 *
 * A resumed rollout keeps the spec it was started with, guard URLs included: the guards reach Prometheus through
 * the demo service's stable address for that reason, but a different `--demo-port` (or switching between
 * Prometheus and scrape) makes the resumed guards fail to read metrics, and the rollout rolls back (fails closed).
 */
export function demoCompanion(options: DemoOptions): (ctx: CompanionContext) => Promise<Companion> {
  return async (ctx) => {
    const cleanup: (() => Promise<void>)[] = [];
    const stopAll = async () => {
      for (const step of cleanup.reverse())
        await step().catch((err: unknown) => ctx.logger.warn({ err }, 'demo clean-up failed'));
    };
    try {
      const flagFile = await ensureFlagFile(options.baseDir ?? process.cwd());
      const service = await startDemoService({
        port: options.port,
        flag: {
          file: flagFile,
          key: DEMO_FLAG.key,
          variant: DEMO_FLAG.variant,
          baselineVariant: DEMO_FLAG.baselineVariant,
        },
      });
      cleanup.push(() => service.stop());
      const { metrics, prometheus } = await guardMetrics(options.metrics, service);
      if (prometheus) cleanup.push(() => prometheus.stop());
      // the demo's target, provider and guard templates join the worker's catalog; its spec names them
      extendCatalog(ctx.catalog, demoCatalog({ metrics, baseDir: options.baseDir ?? process.cwd() }));
      const load = startLoad({ url: service.url, rps: options.rps });
      cleanup.push(() => load.stop());
      const watcher = watchDemo(ctx, options, { service, metrics, prometheus, load });
      cleanup.push(() => watcher.stop());
      await watcher.started;
      return { stop: stopAll };
    } catch (err) {
      await stopAll();
      throw err;
    }
  };
}

/** The flagd provider needs the file to exist before it starts: create it at baseline when missing. */
async function ensureFlagFile(baseDir: string): Promise<string> {
  const file = resolve(baseDir, DEMO_FLAG.path);
  await mkdir(dirname(file), { recursive: true });
  if (!existsSync(file)) {
    const target = createFlagdFileTarget(
      {
        type: 'flagd',
        path: DEMO_FLAG.path,
        flag: DEMO_FLAG.key,
        variant: DEMO_FLAG.variant,
        baselineVariant: DEMO_FLAG.baselineVariant,
      },
      { baseDir },
    );
    await target.apply({ percent: 0, idempotencyKey: 'demo-initial-baseline' });
  }
  return file;
}

async function guardMetrics(
  mode: DemoOptions['metrics'],
  service: DemoService,
): Promise<{ metrics: DemoMetrics; prometheus?: DemoPrometheus }> {
  const binary = mode === 'scrape' ? undefined : findPrometheus();
  if (mode === 'prometheus' && !binary) {
    throw new Error(
      '--metrics prometheus: no prometheus binary (looked at $PROMETHEUS_PATH, PATH, /usr/bin/prometheus); use --metrics scrape or install it',
    );
  }
  if (!binary) return { metrics: { kind: 'scrape', url: `${service.url}/metrics` } };
  const prometheus = await startPrometheus(binary, service.hostPort);
  service.setPrometheus(prometheus.url);
  return { metrics: { kind: 'prometheus', url: `${service.url}/prometheus` }, prometheus };
}

interface DemoParts {
  service: DemoService;
  metrics: DemoMetrics;
  prometheus: DemoPrometheus | undefined;
  load: ReturnType<typeof startLoad>;
}

/** Starts or resumes the demo rollout, then polls its status into the live view and handles keys and the fault. */
function watchDemo(
  ctx: CompanionContext,
  options: DemoOptions,
  parts: DemoParts,
): { started: Promise<void>; stop(): Promise<void> } {
  const rollouts = new RolloutClient(ctx.client);
  const view = createLiveView(options.out ?? process.stdout);
  const stdin = options.stdin ?? process.stdin;
  let faultArmed = options.fault;
  let ended = false;
  let stopped = false;
  let last: RolloutStatus | string = 'starting the demo rollout…';
  const state = (): DemoViewState => ({
    serviceUrl: parts.service.url,
    metrics: parts.metrics,
    prometheusUrl: parts.prometheus?.url,
    rps: options.rps,
    load: parts.load.stats(),
    fault: parts.service.fault(),
    faultArmed,
    uiUrl: ctx.uiUrl,
    namespace: ctx.namespace,
    address: ctx.address,
    keys: stdin.isTTY === true,
  });
  let hungUp = false;
  const draw = () => hungUp || view.frame(demoFrame(state(), last), demoSummary(state(), last));
  const note = (text: string) => hungUp || view.note(text);
  // A closed terminal hangs up the demo: stop everything as Ctrl-C does (Node would otherwise die at once and
  // leave Prometheus, which takes SIGHUP as "reload", running), and stop drawing into a terminal that is gone.
  const onHangup = () => {
    hungUp = true;
    ctx.requestStop();
  };
  process.on('SIGHUP', onHangup);

  async function startOrResume(): Promise<void> {
    const running = await rollouts
      .handle(DEMO_ROLLOUT_ID)
      .describe()
      .then(
        (d) => d.status.name === 'RUNNING',
        () => false,
      );
    let resumed = running;
    if (!running) {
      try {
        await rollouts.start(demoSpec({ window: options.window }), { taskQueue: TASK_QUEUE });
      } catch (err) {
        if (!(err instanceof RolloutAlreadyRunningError)) throw err;
        resumed = true;
      }
    }
    ended = false;
    faultArmed = options.fault;
    // a new rollout (key r) starts healthy; --fault breaks it again at step 1
    if (!resumed) parts.service.setFault(false);
    note(
      resumed
        ? `resuming ${DEMO_ROLLOUT_ID}, still running from an earlier start`
        : `started ${DEMO_ROLLOUT_ID} (${options.window} windows)`,
    );
  }

  async function refresh(): Promise<void> {
    try {
      const status = await rollouts.status(DEMO_ROLLOUT_ID);
      last = status;
      ended = isTerminal(status.phase);
      if (faultArmed && status.step >= FAULT_AT_STEP && !ended && status.phase !== 'RollingBack') {
        faultArmed = false;
        parts.service.setFault(true);
        note(
          `--fault: step ${status.step + 1} reached (${demoStepLabel(status.step) ?? `${status.exposure.percent}%`}): the new variant is now slower and failing`,
        );
      }
    } catch (err) {
      last = `status unavailable: ${(err as Error).message.split('\n')[0]}`;
    }
    draw();
  }

  const onKey = (key: DemoKey) => {
    if (key === 'quit') return ctx.requestStop();
    if (key === 'toggle-fault') {
      faultArmed = false;
      parts.service.setFault(!parts.service.fault());
      note(`fault ${parts.service.fault() ? 'ON' : 'off'} (key f)`);
      return draw();
    }
    if (ended)
      void startOrResume().then(refresh, (err: Error) => note(`cannot start the rollout again: ${err.message}`));
  };

  let wake: (() => void) | undefined;
  const loop = async () => {
    while (!stopped) {
      // once the rollout ended there is nothing to poll; a restart (key r) resumes polling
      if (!ended) await refresh();
      await new Promise<void>((r) => {
        const timer = setTimeout(r, options.refreshMs ?? 1_000);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
  };
  let releaseKeys = () => {};
  let looping: Promise<void> = Promise.resolve();
  // a TTY shows the header in every frame; a log gets it once
  if ((options.out ?? process.stdout).isTTY !== true) note(demoHeader(state()).join('\n'));
  const started = startOrResume().then(() => {
    if (stopped) return;
    releaseKeys = listenForKeys(stdin, onKey);
    looping = loop();
  });
  return {
    started,
    async stop() {
      stopped = true;
      wake?.();
      process.off('SIGHUP', onHangup);
      releaseKeys();
      await looping;
      note(
        ended ? 'demo stopped.' : `demo stopped; ${DEMO_ROLLOUT_ID} is still running and resumes on the next start.`,
      );
    },
  };
}

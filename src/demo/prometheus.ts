import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../util/ports.js';

/** A Prometheus server this process started; `stop()` kills it and removes its temporary directory. */
export interface DemoPrometheus {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/** The Prometheus binary: `$PROMETHEUS_PATH`, `prometheus` on PATH, or `/usr/bin/prometheus`; undefined when none. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.PROMETHEUS_PATH
    ? [env.PROMETHEUS_PATH]
    : [
        ...(env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, 'prometheus')),
        '/usr/bin/prometheus',
      ];
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Starts Prometheus on a free loopback port with a temporary config scraping `target` (`host:port`, path
 * `/metrics`) every second and a temporary TSDB, and resolves once `/-/ready` answers. The child is killed when
 * this process exits, even on a crash, so no Prometheus outlives the demo.
 */
export async function startPrometheus(binary: string, target: string): Promise<DemoPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'rollout-demo-prometheus-'));
  // JSON is YAML: no serializer needed.
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'demo-service', static_configs: [{ targets: [target] }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    // its own process group: a terminal's Ctrl-C or hang-up reaches the demo, which stops Prometheus itself
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-2000)));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      log += `\nspawn failed: ${err.message}`;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, pid: child.pid, stop };
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(
        `Prometheus (${binary}) did not become ready${gone ? ' (it exited)' : ` within ${READY_TIMEOUT_MS} ms`}: ${log.trim()}`,
      );
    }
    await sleep(100);
  }
}

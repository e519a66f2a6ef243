import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { connectClient, loadTemporalSettings } from '../../src/temporal/connection.js';
import { freePort } from '../../src/util/ports.js';
import { VirtualTerminal } from '../helpers/virtual-terminal.js';

const execFileAsync = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// resolved here, because the demo runs in an empty directory where `--import tsx` would find no tsx
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** How wide the demo draws in a terminal that does not say (`script` without a terminal of its own reports 0 × 0). */
export const DEMO_COLUMNS = 160;

/** Ports of one `rollout dev --demo` run. */
export interface DemoPorts {
  port: number;
  uiPort: number;
  apiPort: number;
  demoPort: number;
}

export async function demoPorts(): Promise<DemoPorts> {
  return { port: await freePort(), uiPort: await freePort(), apiPort: await freePort(), demoPort: await freePort() };
}

/** A running `rollout dev --demo`: its output so far, its exit, and the pids of everything it started. */
export interface DemoRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The node process running the CLI (under `script` when in a PTY). */
  cliPid(): Promise<number>;
  /** Every process below the spawned one, with its command line. */
  tree(): Promise<{ pid: number; args: string }[]>;
}

/** Every run this file started, for clean-up after a failed test. */
const runs = new Set<DemoRun>();

/**
 * Runs the demo as a user would, from `cwd`. With `pty`, inside `script` so stdin and stdout are a terminal
 * (raw keys, in-place redraw); otherwise with pipes and no stdin, like CI.
 */
export function runDemo(opts: {
  cwd: string;
  dbFile: string;
  ports: DemoPorts;
  args: string[];
  env: Record<string, string>;
  pty: boolean;
}): DemoRun {
  const { ports } = opts;
  const argv = [
    process.execPath,
    '--import',
    TSX,
    MAIN,
    'dev',
    '--demo',
    '--db',
    opts.dbFile,
    '--port',
    String(ports.port),
    '--ui-port',
    String(ports.uiPort),
    '--api-port',
    String(ports.apiPort),
    '--demo-port',
    String(ports.demoPort),
    ...opts.args,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_CLI_PATH: inject('temporalCliPath'),
    LOG_LEVEL: 'warn',
    COLUMNS: String(DEMO_COLUMNS),
    ...opts.env,
  };
  // the demo connects to the server it starts, never to one the test environment points at
  delete env.TEMPORAL_ADDRESS;
  const child = opts.pty
    ? spawn('script', ['-qfec', argv.map(shellQuote).join(' '), '/dev/null'], {
        cwd: opts.cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const tree = () => descendants(child.pid!);
  const run: DemoRun = {
    child,
    output: () => output,
    exited,
    tree,
    async cliPid() {
      if (!opts.pty) return child.pid!;
      const cli = (await tree()).find((p) => p.args.includes('main.ts') && p.args.startsWith(process.execPath));
      if (!cli) throw new Error('the CLI process is not running under script');
      return cli.pid;
    },
  };
  runs.add(run);
  return run;
}

/**
 * A client of the Temporal server the demo started, to read what the rollout recorded (status, result, run) rather
 * than catch it in passing on the screen. Close it before the demo stops, as the server goes with it.
 */
export async function demoClient(ports: DemoPorts): Promise<{ rollouts: RolloutClient; close(): Promise<void> }> {
  const client = await connectClient(
    loadTemporalSettings({ ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${ports.port}` }),
  );
  return { rollouts: new RolloutClient(client), close: () => client.connection.close() };
}

/** What a terminal `columns` wide shows once it has received the whole output: the rows a person would read. */
export function screenOf(output: string, columns = DEMO_COLUMNS): string[] {
  const terminal = new VirtualTerminal(columns);
  terminal.write(output);
  return terminal.screen();
}

/** Waits until the output matches, or fails with its tail. */
export async function untilOutput(run: DemoRun, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output())) {
    if (Date.now() > deadline || run.child.exitCode !== null) {
      throw new Error(
        `no ${pattern} in the demo's output${run.child.exitCode !== null ? ` (it exited ${run.child.exitCode})` : ''}; it ends with:\n${tail(run.output())}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The output without terminal escapes (cursor moves, clears), as a person would read it. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching the escape character is the point
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

export function tail(text: string): string {
  return plain(text).split('\n').slice(-40).join('\n');
}

async function descendants(pid: number): Promise<{ pid: number; args: string }[]> {
  const { stdout } = await execFileAsync('ps', ['-e', '-o', 'pid=,ppid=,args=']);
  const rows = stdout
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const out: { pid: number; args: string }[] = [];
  const walk = (parent: number) => {
    for (const m of rows) {
      if (Number(m[2]) !== parent) continue;
      out.push({ pid: Number(m[1]), args: m[3]! });
      walk(Number(m[1]));
    }
  };
  walk(pid);
  return out;
}

/** A zombie counts as gone: it no longer runs, only waits for a parent to reap it. */
export async function isRunning(pid: number): Promise<boolean> {
  const state = await execFileAsync('ps', ['-o', 'stat=', '-p', String(pid)]).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
  return state !== '' && !state.startsWith('Z');
}

/** Kills whatever a failed test left running: each run that has not exited, and every process below it. */
export async function killStarted(): Promise<void> {
  for (const run of runs) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) continue;
    const pids = [...(await run.tree()).map((p) => p.pid).reverse(), run.child.pid!];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  runs.clear();
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

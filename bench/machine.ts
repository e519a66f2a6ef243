/**
 * The machine a result was measured on, recorded with every run: CPUs, memory, Node and Temporal CLI versions,
 * load, and the SQLite settings the dev server really runs with (read from its command line and the database file).
 */
import { execFile } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface SqliteInfo {
  file: string | undefined;
  /** `--sqlite-pragma` values the launcher passed to `temporal server start-dev`. */
  pragmas: string[];
  /** What the database file says (see {@link journalMode}). */
  journal: string;
}

export interface MachineInfo {
  /** The Temporal server measured against: the bench's own dev server, or an external one (the cluster profile). */
  external?: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  temporalCli: string;
  temporalCliPath: string;
  gitCommit: string;
  loadAverage: { start: number[]; end: number[] };
  sqlite: SqliteInfo;
  /** `--dynamic-config-value` overrides the dev server runs with; everything else is at its default. */
  dynamicConfig: string[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The one-minute, five-minute and fifteen-minute load averages, rounded. */
export const loadAverage = (): number[] => loadavg().map(round2);

export async function describeMachine(
  cli: { path: string; version: string },
  server: { pid: number | undefined; dbFile: string | undefined },
): Promise<MachineInfo> {
  const args = await serverArgs(server.pid);
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: round2(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    temporalCli: cli.version,
    temporalCliPath: cli.path,
    gitCommit: await gitCommit(),
    loadAverage: { start: loadAverage(), end: [] },
    sqlite: {
      file: server.dbFile,
      pragmas: flagValues(args, '--sqlite-pragma'),
      journal: server.dbFile ? await journalMode(server.dbFile) : 'in-memory',
    },
    dynamicConfig: flagValues(args, '--dynamic-config-value'),
  };
}

/** The dev server's command line, as the kernel has it. */
async function serverArgs(pid: number | undefined): Promise<string[]> {
  if (pid === undefined) return [];
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
}

function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && args[i + 1] ? [args[i + 1]!] : []));
}

async function gitCommit(): Promise<string> {
  try {
    const cwd = new URL('..', import.meta.url).pathname;
    const { stdout: head } = await execFileAsync('git', ['rev-parse', '--short', 'HEAD'], { cwd });
    const { stdout: dirty } = await execFileAsync('git', ['status', '--porcelain'], { cwd });
    return `${head.trim()}${dirty.trim() ? ' (uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** From the database header (bytes 18–19: 1 legacy, 2 WAL) and the presence of a `-wal` file. */
export async function journalMode(file: string): Promise<string> {
  const header = Buffer.alloc(20);
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return 'unknown (no database file)';
  try {
    await handle.read(header, 0, 20, 0);
  } finally {
    await handle.close();
  }
  const wal = await stat(`${file}-wal`).then(
    () => true,
    () => false,
  );
  const version =
    header[18] === 2 && header[19] === 2
      ? 'WAL'
      : header[18] === 1
        ? 'rollback (legacy)'
        : `header ${header[18]}/${header[19]}`;
  return `${version}${wal ? ', -wal file present' : ''}`;
}

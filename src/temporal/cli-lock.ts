import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { TemporalCliError } from '../errors.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock file created with O_EXCL holding the owner's pid. Returns a release function, or undefined
 * when `ready()` became true while waiting (another process provisioned the CLI). A lock whose owner
 * died is taken over.
 */
export async function acquireLock(
  lockPath: string,
  ready: () => Promise<boolean>,
  log: (m: string) => void,
  waitMs: number,
): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      return () => rm(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    const justCreated = (await stat(lockPath).catch(() => undefined))?.mtimeMs ?? 0;
    const unreadable = !Number.isInteger(owner) || owner <= 0;
    // an empty lock may be one another process created but has not written its pid into yet
    if ((unreadable && Date.now() - justCreated > 10_000) || (!unreadable && !pidAlive(owner))) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (await ready()) return undefined;
    if (!told) {
      log(`Another process (pid ${owner}) is provisioning the Temporal CLI; waiting for it...`);
      told = true;
    }
    if (Date.now() > deadline) {
      throw new TemporalCliError(
        `Timed out waiting for pid ${owner} to finish provisioning the Temporal CLI (lock ${lockPath}).`,
        'Wait for it to finish, or stop it and delete the lock file.',
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * `npm run test:stress [-- vitest args]`: runs `vitest run` (the test step of `npm test`) while CPU burners keep
 * every core busy, to find tests that only pass on an idle machine. Exits with vitest's status.
 *
 * Each burner is a child process that spins until its own deadline (`STRESS_SECONDS`, default 1200: the whole
 * suite with a wide margin), so none outlives a killed run for long; they are killed as soon as vitest exits.
 * `STRESS_BURNERS` sets how many (default 2, one per core of the machines the suite runs on).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.env.STRESS_SECONDS ?? 1200);
const count = Number(process.env.STRESS_BURNERS ?? 2);
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

/** A process that spins on one core until `deadline`, then exits by itself. */
function startBurner(deadline: number): ChildProcess {
  const spin = 'const end = Number(process.argv[1]); while (Date.now() < end) {}';
  return spawn(process.execPath, ['-e', spin, String(deadline)], { stdio: 'ignore' });
}

const deadline = Date.now() + seconds * 1_000;
const burners = Array.from({ length: count }, () => startBurner(deadline));
const stopBurners = () => {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
};
process.stderr.write(
  `test:stress: ${count} CPU burners (pids ${burners.map((b) => b.pid).join(', ')}) for at most ${seconds} s while vitest runs\n`,
);

const vitest = spawn(process.execPath, [vitestBin, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
// Ctrl-C reaches vitest from the terminal itself (same process group): wait for it to finish rather than die first
process.on('SIGINT', () => {});
process.on('SIGTERM', () => vitest.kill('SIGTERM'));
vitest.on('exit', (code, signal) => {
  stopBurners();
  // a signal's death reads as the shell would report it: 128 + its number
  process.exit(code ?? (signal ? 128 + constants.signals[signal] : 1));
});

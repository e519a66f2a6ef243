#!/usr/bin/env node
import { Command } from 'commander';
import { RolloutError } from '../errors.js';
import { registerServerCommands } from './commands/server.js';

/** Exit codes: 0 ok, 1 operation failed, 2 usage or invalid input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const program = new Command()
  .name('rollout')
  .description('Progressive rollouts as durable Temporal workflows')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT.usage);
  });

registerServerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof RolloutError) {
    process.stderr.write(`error: ${err.explain()}\n`);
    process.exit(EXIT.failed);
  }
  throw err;
}

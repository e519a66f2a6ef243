#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { CommandRejectedError } from '../client/rollout-client.js';
import { describeIssues } from '../domain/validation.js';
import { RolloutError, ValidationError } from '../errors.js';
import { registerDrillCommands } from './commands/drill.js';
import { registerOperateCommands } from './commands/operate.js';
import { registerRolloutCommands } from './commands/rollouts.js';
import { registerServerCommands } from './commands/server.js';
import { EXIT } from './context.js';

const program = new Command()
  .name('rollout')
  .description('Progressive rollouts as durable Temporal workflows')
  .showHelpAfterError()
  .exitOverride();

registerRolloutCommands(program);
registerOperateCommands(program);
registerServerCommands(program);
registerDrillCommands(program);
(await import('./commands/report.js')).registerReportCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

/** Prints an error as one paragraph (never a stack trace for a known cause) and picks the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof ValidationError) {
    process.stderr.write(
      `error: ${err.issues.length ? `${err.message.split('\n')[0]}\n${describeIssues(err.issues)}` : err.message}\n`,
    );
    return EXIT.usage;
  }
  if (err instanceof CommandRejectedError) {
    process.stderr.write(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof RolloutError) {
    process.stderr.write(`error: ${err.explain()}\n`);
    return EXIT.failed;
  }
  const e = err as Error & { code?: number };
  if (e?.name === 'WorkflowNotFoundError') {
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.failed;
  }
  if (/ECONNREFUSED|UNAVAILABLE|Failed to connect/i.test(e?.message ?? '')) {
    process.stderr.write(
      `error: cannot reach Temporal (${e.message.split('\n')[0]}).\nStart it with \`rollout dev\`, or set TEMPORAL_ADDRESS.\n`,
    );
    return EXIT.failed;
  }
  process.stderr.write(`error: ${e?.stack ?? String(err)}\n`);
  return EXIT.failed;
}

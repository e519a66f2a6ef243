#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { CommandRejectedError } from '../client/rollout-client.js';
import { describeIssues } from '../domain/validation.js';
import { RolloutError, ValidationError } from '../errors.js';
import { loadTemporalSettings } from '../temporal/connection.js';
import { isConnectionFailure, unreachableError } from '../temporal/unreachable.js';
import { registerDrillCommands } from './commands/drill.js';
import { registerOperateCommands, registerRetryCommand, registerUndoCommand } from './commands/operate.js';
import { registerRolloutCommands } from './commands/rollouts.js';
import { registerServerCommands } from './commands/server.js';
import { EXIT, printErrorLines } from './context.js';
import { packageVersion } from '../util/package-version.js';

const version = await packageVersion();

const program = new Command()
  .name('rollout')
  .description('Progressive rollouts as durable Temporal workflows')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError()
  .exitOverride();

registerRolloutCommands(program);
registerOperateCommands(program);
registerRetryCommand(program);
registerUndoCommand(program);
registerServerCommands(program);
registerDrillCommands(program);
(await import('./commands/report.js')).registerReportCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = await report(err);
}

/**
 * Prints an error as one paragraph (never a stack trace for a known cause) and picks the exit code. Messages can
 * carry caller text (a rejected command's reason, an issue naming a spec's field): control characters are escaped.
 */
async function report(err: unknown): Promise<number> {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof ValidationError) {
    if (err.issues.length)
      printErrorLines(`error: ${err.message.split('\n')[0]}`, ...err.issues.map((i) => describeIssues([i])));
    else printErrorLines(`error: ${err.message}`);
    return EXIT.usage;
  }
  if (err instanceof CommandRejectedError) {
    printErrorLines(`error: ${err.message}`);
    return EXIT.usage;
  }
  if (isConnectionFailure(err)) err = await unreachableError(loadTemporalSettings().address, err);
  if (err instanceof RolloutError) {
    // our own explanations may span lines (a server's start-up output); each line is escaped on its own
    printErrorLines(...`error: ${err.explain()}`.split('\n'));
    return EXIT.failed;
  }
  const e = err as Error & { code?: number };
  if (e?.name === 'WorkflowNotFoundError') {
    printErrorLines(`error: ${e.message}`);
    return EXIT.failed;
  }
  printErrorLines(...`error: ${e?.stack ?? String(err)}`.split('\n'));
  return EXIT.failed;
}

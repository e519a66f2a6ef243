import type { Command } from 'commander';
import { createLogger } from '../../logger.js';
import { resolveTemporalCli } from '../../temporal/cli-provision.js';

/** `provision`, `worker` and `dev`: the long-running parts. */
export function registerServerCommands(program: Command): void {
  program
    .command('provision')
    .description('find or build the Temporal CLI this project runs its embedded server with, and print its path')
    .action(async () => {
      const cli = await resolveTemporalCli();
      process.stdout.write(`${cli.path}\n`);
      process.stderr.write(`Temporal CLI v${cli.version} (${cli.source})\n`);
    });

  program
    .command('worker')
    .description('run a rollout worker against the configured Temporal (TEMPORAL_ADDRESS, profiles)')
    .action(async () => {
      const { runOrchestrator } = await import('../../dev/orchestrator.js');
      await runOrchestrator({ logger: createLogger(), embedded: false });
    });

  program
    .command('dev')
    .description('run the embedded Temporal dev server (SQLite), its Web UI and a worker in one process tree')
    .option('--db <file>', 'SQLite file for the embedded server', '.rollout/temporal.db')
    .option('--port <port>', 'gRPC port of the embedded server', (v) => Number(v), 7233)
    .option('--ui-port <port>', 'Web UI port', (v) => Number(v), 8233)
    .action(async (opts: { db: string; port: number; uiPort: number }) => {
      const { runOrchestrator } = await import('../../dev/orchestrator.js');
      await runOrchestrator({ logger: createLogger(), embedded: true, dbFile: opts.db, port: opts.port, uiPort: opts.uiPort });
    });
}

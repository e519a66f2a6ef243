import type { Command } from 'commander';
import { ValidationError } from '../errors.js';

/** `rollout setup`: prepares the configured Temporal (namespace, search attributes) for rollouts, idempotently. */
export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description(
      'create the namespace (if missing and allowed) and register the search attributes rollouts need, on the configured Temporal',
    )
    .option(
      '--namespace <namespace>',
      'namespace to prepare (default: TEMPORAL_NAMESPACE or the profile, else default)',
    )
    .option('--retention <hours>', 'retention of a namespace it creates, in hours', (v) => Number(v), 72)
    .option(
      '--timeout <seconds>',
      'how long to wait for the namespace and attributes to become usable',
      (v) => Number(v),
      60,
    )
    .action(async (opts: { namespace?: string; retention: number; timeout: number }) => {
      for (const [flag, value] of [
        ['--retention', opts.retention],
        ['--timeout', opts.timeout],
      ] as const) {
        if (!Number.isFinite(value) || value <= 0)
          throw new ValidationError(`${flag} must be a positive number, got ${value}`, []);
      }
      const [{ setupTemporal }, { loadTemporalSettings }] = await Promise.all([
        import('./setup.js'),
        import('../temporal/connection.js'),
      ]);
      const settings = loadTemporalSettings();
      process.stderr.write(`Temporal at ${settings.address}\n`);
      await setupTemporal({
        settings,
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        retentionHours: opts.retention,
        timeoutMs: opts.timeout * 1000,
        log: (line) => process.stdout.write(`${line}\n`),
      });
    });
}

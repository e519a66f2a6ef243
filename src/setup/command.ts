import type { Command } from 'commander';
import { ValidationError } from '../errors.js';
import { escapeControls } from '../view/terminal-text.js';

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
    .option(
      '--retention <hours>',
      'retention of a namespace it creates, in hours',
      positive('--retention', 'hours'),
      72,
    )
    .option(
      '--timeout <seconds>',
      'how long to wait for the namespace and attributes to become usable',
      positive('--timeout', 's'),
      60,
    )
    .action(async (opts: { namespace?: string; retention: number; timeout: number }) => {
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

/** An option's parser: a positive number, or an error quoting what was typed and naming the unit. */
function positive(flag: string, unit: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0)
      throw new ValidationError(`${flag} must be a positive number of ${unit}, got "${escapeControls(text)}"`, []);
    return value;
  };
}

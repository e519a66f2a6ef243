import type { Command } from 'commander';
import { ValidationError } from '../../errors.js';
import type { RolloutStatus } from '../../../workflows/messages.js';
import { catalogFromOptions } from '../../catalog/load.js';
import { actorOf, cliClient, printJson, printLines, rolloutId } from '../context.js';

interface OperateOpts {
  actor?: string;
  reason?: string;
  step?: string;
  comment?: string;
  full?: boolean;
  force?: boolean;
  json?: boolean;
}

/** `pause`, `resume`, `promote`, `approve`, `abort`: the Updates. A rejection prints the reason, exit 2. */
export function registerOperateCommands(program: Command): void {
  const verbs: { name: string; description: string; reason?: boolean; step?: boolean }[] = [
    { name: 'pause', description: 'hold the rollout (with --reason)', reason: true },
    { name: 'resume', description: 'clear every pause' },
    {
      name: 'promote',
      description: 'end the current observation window or pause now; --full skips every remaining step to the last',
    },
    { name: 'approve', description: 'approve the approval step that waits (or --step N)', step: true },
    { name: 'abort', description: 'roll back now (with --reason)', reason: true },
  ];
  for (const verb of verbs) {
    const cmd = program
      .command(verb.name)
      .argument('<id>', 'rollout ID (rollout/<flag>) or flag')
      .description(verb.description)
      .option('--actor <name>', 'who is acting (default: the OS user)')
      .option('--json', 'print the acknowledgement as JSON');
    if (verb.reason) cmd.requiredOption('--reason <text>', 'why');
    if (verb.name === 'promote')
      cmd
        .option('--full', 'skip every remaining step and window: straight to the last exposure, then Completed')
        .option('--force', 'with --full: promote although a guard is failing (needs --reason)')
        .option('--reason <text>', 'why (needed with --force)');
    if (verb.step)
      cmd
        .option('--step <n>', 'the approval step, counted from 1 as status shows it; default: the step that waits')
        .option('--comment <text>', 'a note kept with the approval');
    cmd.action(async (id: string, opts: OperateOpts) => {
      const { rollouts } = await cliClient();
      const actor = actorOf(opts);
      const wid = rolloutId(id);
      const reason = opts.reason ?? '';
      const ack = await (() => {
        switch (verb.name) {
          case 'pause':
            return rollouts.pause(wid, { reason, actor });
          case 'resume':
            return rollouts.resume(wid, { actor });
          case 'promote':
            return rollouts.promote(wid, {
              actor,
              ...(opts.full ? { full: true } : {}),
              ...(opts.force ? { force: true } : {}),
              ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
            });
          case 'approve':
            return waitingStep(opts.step, () => rollouts.status(wid)).then((step) =>
              rollouts.approve(wid, { step, actor, ...(opts.comment ? { comment: opts.comment } : {}) }),
            );
          default:
            return rollouts.abort(wid, { reason, actor });
        }
      })();
      if (opts.json) printJson(ack);
      else printLines(`${verb.name} accepted: ${wid} is ${ack.phase} at step ${ack.step + 1}`);
    });
  }
}

/** `retry`: start an aborted, rolled-back or failed rollout's spec again, with the reason in its description. */
export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .argument('<id>', 'rollout ID (rollout/<flag>) or flag')
    .requiredOption('--reason <text>', 'why it is worth another try (kept in the new run’s description)')
    .option('--actor <name>', 'who is acting (default: the OS user)')
    .option('--config <file>', `check the spec against this catalog before starting again`)
    .option('--json', 'print the new run as JSON')
    .description('start an ended rollout (aborted, rolled back or failed) again with the same spec')
    .action(async (id: string, opts: { reason: string; actor?: string; config?: string; json?: boolean }) => {
      const loaded = await catalogFromOptions(opts.config);
      const { rollouts } = await cliClient();
      const started = await rollouts.retry(rolloutId(id), {
        reason: opts.reason,
        actor: actorOf(opts),
        ...(loaded ? { catalog: loaded.catalog } : {}),
      });
      if (opts.json) printJson(started);
      else printLines(`retried ${started.workflowId} (it had ended ${started.after}): run ${started.runId}`);
    });
}

/** `undo`: take a completed rollout back to its spec's baseline, in a new run that runs its compensations. */
export function registerUndoCommand(program: Command): void {
  program
    .command('undo')
    .argument('<id>', 'rollout ID (rollout/<flag>) or flag')
    .requiredOption('--reason <text>', 'why it goes back (kept in the new run and its timeline)')
    .option('--actor <name>', 'who is acting (default: the OS user)')
    .option('--config <file>', `check the spec against this catalog before starting the undo`)
    .option('--wait', 'wait until the target is verified back at its baseline')
    .option('--json', 'print the new run as JSON')
    .description('take a completed rollout back to its baseline exposure (its compensations run too)')
    .action(
      async (id: string, opts: { reason: string; actor?: string; config?: string; wait?: boolean; json?: boolean }) => {
        const loaded = await catalogFromOptions(opts.config);
        const { rollouts } = await cliClient();
        const started = await rollouts.undo(rolloutId(id), {
          reason: opts.reason,
          actor: actorOf(opts),
          ...(loaded ? { catalog: loaded.catalog } : {}),
        });
        const result = opts.wait ? await rollouts.result(started.workflowId) : undefined;
        if (opts.json) printJson(result ? { ...started, phase: result.phase, exposure: result.exposure } : started);
        else
          printLines(
            `undoing ${started.workflowId} (completed run ${started.undoes}): run ${started.runId} sets it back to ${started.baseline}%`,
            ...(result ? [`${result.phase}: ${result.reason}`] : []),
          );
      },
    );
}

/**
 * The step to approve, as an index: `--step N` counts from 1 as every human-facing output does (the workflow's
 * validator judges it), else the step the rollout waits at; a rollout that waits for no approval is refused here,
 * naming its phase.
 */
async function waitingStep(given: string | undefined, status: () => Promise<RolloutStatus>): Promise<number> {
  if (given !== undefined) {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 1)
      throw new ValidationError(`--step: must be a step number, counted from 1 (got ${JSON.stringify(given)})`, [
        { path: '--step', message: 'must be an integer ≥ 1' },
      ]);
    return n - 1;
  }
  const s = await status();
  if (s.phase === 'AwaitingApproval' || s.pauseReasons.some((p) => p.kind === 'approval-timeout')) return s.step;
  throw new ValidationError(
    `no step waits for approval: the rollout is ${s.phase} at step ${s.step + 1} (give --step)`,
    [],
  );
}

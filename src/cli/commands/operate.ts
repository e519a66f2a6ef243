import type { Command } from 'commander';
import { actorOf, cliClient, printJson, printLines, rolloutId } from '../context.js';

interface OperateOpts {
  actor?: string;
  reason?: string;
  step?: string;
  comment?: string;
  json?: boolean;
}

/** `pause`, `resume`, `promote`, `approve`, `abort`: the Updates. A rejection prints the reason, exit 2. */
export function registerOperateCommands(program: Command): void {
  const verbs: { name: string; description: string; reason?: boolean; step?: boolean }[] = [
    { name: 'pause', description: 'hold the rollout (with --reason)', reason: true },
    { name: 'resume', description: 'clear every pause' },
    { name: 'promote', description: 'end the current observation window or pause now' },
    { name: 'approve', description: 'approve the waiting approval step (--step N)', step: true },
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
    if (verb.step)
      cmd
        .requiredOption('--step <n>', 'index of the approval step, as in the spec (steps[n])')
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
            return rollouts.promote(wid, { actor });
          case 'approve':
            return rollouts.approve(wid, {
              step: Number(opts.step),
              actor,
              ...(opts.comment ? { comment: opts.comment } : {}),
            });
          default:
            return rollouts.abort(wid, { reason, actor });
        }
      })();
      if (opts.json) printJson(ack);
      else printLines(`${verb.name} accepted: ${wid} is ${ack.phase} at step ${ack.step}`);
    });
  }
}

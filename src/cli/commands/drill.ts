import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { DrillClient } from '../../client/drills.js';
import type { DrillSpecInput } from '../../domain/drill.schema.js';
import { Duration } from '../../domain/duration.schema.js';
import { toMs } from '../../domain/time.js';
import { ValidationError } from '../../errors.js';
import { cliClient, EXIT, printJson } from '../context.js';

/** Reads a drill file; a `rolloutFile` (relative to the drill file) is inlined as `rollout`. */
export async function loadDrillFile(file: string): Promise<DrillSpecInput> {
  const parse = async (path: string) => {
    const doc = parseDocument(await readFile(path, 'utf8'));
    if (doc.errors.length)
      throw new ValidationError(`${path}: ${doc.errors[0]!.message.split('\n')[0]}`, [
        { path: '(root)', message: doc.errors[0]!.message },
      ]);
    return doc.toJS() as Record<string, unknown>;
  };
  const drill = await parse(file);
  if (typeof drill.rolloutFile === 'string' && drill.rollout === undefined) {
    drill.rollout = await parse(resolve(dirname(file), drill.rolloutFile));
  }
  return drill as DrillSpecInput;
}

const since = (v: string) => {
  if (!Duration.safeParse(v).success)
    throw new ValidationError(`--since must be a duration like 7d`, [
      { path: '--since', message: 'must be a duration' },
    ]);
  return toMs(v);
};

/** `rollout drill run|schedule|list|trigger|pause|unpause|delete|report`. */
export function registerDrillCommands(program: Command): void {
  const drill = program
    .command('drill')
    .description('rollout drills: prove on a schedule that rollback works, and how fast');
  const client = async (taskQueue = 'rollouts') => new DrillClient((await cliClient()).client, taskQueue);

  drill
    .command('run')
    .argument('<file>', 'drill spec (YAML or JSON)')
    .option('--wait', 'wait for the verdict; exit 0 only when the drill passes')
    .option('--json', 'print as JSON')
    .option('--task-queue <queue>', 'task queue of the workers', 'rollouts')
    .description('run a drill once, now')
    .action(async (file: string, opts: { wait?: boolean; json?: boolean; taskQueue: string }) => {
      const drills = await client(opts.taskQueue);
      const handle = await drills.run(await loadDrillFile(file));
      if (!opts.wait)
        return opts.json
          ? printJson({ workflowId: handle.workflowId })
          : void process.stdout.write(`started ${handle.workflowId}\n`);
      try {
        const report = await handle.result();
        if (opts.json) printJson(report);
        else
          process.stdout.write(
            `drill passed: detected in ${report.timeToDetectMs} ms, rolled back in ${report.timeToRollbackMs} ms\n`,
          );
      } catch (err) {
        const details = (err as { cause?: { details?: unknown[] } }).cause?.details?.[0] as
          { reasons?: string[] } | undefined;
        if (opts.json) printJson(details ?? { error: (err as Error).message });
        else
          process.stderr.write(
            `drill FAILED:\n${(details?.reasons ?? [(err as Error).message]).map((r) => `  - ${r}`).join('\n')}\n`,
          );
        process.exitCode = EXIT.failed;
      }
    });

  drill
    .command('schedule')
    .argument('<file>', 'drill spec (YAML or JSON)')
    .option('--every <duration>', 'run every interval, e.g. 1d')
    .option('--cron <expr>', 'run on a cron expression')
    .option('--task-queue <queue>', 'task queue of the workers', 'rollouts')
    .description('create a Temporal Schedule for the drill (overlapping runs are skipped)')
    .action(async (file: string, opts: { every?: string; cron?: string; taskQueue: string }) => {
      const id = await (
        await client(opts.taskQueue)
      ).schedule(await loadDrillFile(file), {
        ...(opts.every ? { every: opts.every } : {}),
        ...(opts.cron ? { cron: opts.cron } : {}),
      });
      process.stdout.write(`scheduled ${id}\n`);
    });

  drill
    .command('list')
    .option('--json', 'print as JSON')
    .description('drill schedules')
    .action(async (opts: { json?: boolean }) => {
      const rows = await (await client()).list();
      if (opts.json) return printJson(rows);
      for (const r of rows)
        process.stdout.write(
          `${r.scheduleId.padEnd(32)} ${r.paused ? 'paused ' : 'active '} next ${r.nextActionTimes[0] ?? '—'}\n`,
        );
    });

  for (const verb of ['trigger', 'pause', 'unpause', 'delete'] as const) {
    drill
      .command(verb)
      .argument('<id>', 'schedule ID (drill-<name>)')
      .description(`${verb} a drill schedule`)
      .action(async (id: string) => {
        const drills = await client();
        await drills[verb](id);
        process.stdout.write(`${verb}: ${id}\n`);
      });
  }

  drill
    .command('report')
    .option('--since <duration>', 'how far back', '7d')
    .option('--name <drill>', 'only this drill')
    .option('--json', 'print as JSON')
    .description('pass rate and time-to-rollback percentiles over past drills')
    .action(async (opts: { since: string; name?: string; json?: boolean }) => {
      const summary = await (await client()).report(since(opts.since), opts.name ? { name: opts.name } : {});
      if (opts.json) return printJson(summary);
      const pct = (p: typeof summary.timeToRollbackMs) =>
        `p50 ${p.p50 ?? '—'} ms, p90 ${p.p90 ?? '—'} ms, p99 ${p.p99 ?? '—'} ms, max ${p.max ?? '—'} ms`;
      process.stdout.write(
        `drills since ${summary.since}: ${summary.drills} (${summary.passed} passed, ${summary.failed} failed, pass rate ${summary.passRate === null ? '—' : `${(summary.passRate * 100).toFixed(1)}%`})\n` +
          `time to detect:   ${pct(summary.timeToDetectMs)}\ntime to rollback: ${pct(summary.timeToRollbackMs)}\n`,
      );
      for (const r of summary.reports.filter((x) => !x.passed))
        process.stdout.write(`  FAILED ${r.workflowId}: ${r.reasons.join('; ')}\n`);
    });
}

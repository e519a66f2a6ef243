import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { DrillClient } from '../../client/drills.js';
import type { DrillSpecInput } from '../../domain/drill.schema.js';
import { DURATION_FORM, toMs } from '../../domain/time.js';
import { ValidationError } from '../../errors.js';
import { readYamlFile } from '../../spec/load.js';
import { cliClient, EXIT, printErrorLines, printJson, printLines } from '../context.js';

/** Reads a drill file (size, syntax and aliases checked as for specs); a `rolloutFile` is inlined as `rollout`. */
export async function loadDrillFile(file: string): Promise<DrillSpecInput> {
  const parse = async (path: string) => {
    const value = await readYamlFile(path);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new ValidationError(`${path}: must be a mapping of keys to values`, []);
    return value as Record<string, unknown>;
  };
  const drill = await parse(file);
  if (typeof drill.rolloutFile === 'string' && drill.rollout === undefined) {
    drill.rollout = await parse(resolve(dirname(file), drill.rolloutFile));
  }
  return drill as DrillSpecInput;
}

/** A look-back such as `7d`: the duration form without the 90-day cap of `Duration`, which bounds timers. */
const since = (v: string) => {
  if (!DURATION_FORM.test(v) || toMs(v) <= 0)
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
        return opts.json ? printJson({ workflowId: handle.workflowId }) : printLines(`started ${handle.workflowId}`);
      try {
        const report = await handle.result();
        if (opts.json) printJson(report);
        else
          printLines(
            `drill passed: detected in ${report.timeToDetectMs} ms, rolled back in ${report.timeToRollbackMs} ms`,
          );
      } catch (err) {
        const details = (err as { cause?: { details?: unknown[] } }).cause?.details?.[0] as
          { reasons?: string[] } | undefined;
        if (opts.json) printJson(details ?? { error: (err as Error).message });
        else printErrorLines('drill FAILED:', ...(details?.reasons ?? [(err as Error).message]).map((r) => `  - ${r}`));
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
      printLines(`scheduled ${id}`);
    });

  drill
    .command('list')
    .option('--json', 'print as JSON')
    .description('drill schedules')
    .action(async (opts: { json?: boolean }) => {
      const rows = await (await client()).list();
      if (opts.json) return printJson(rows);
      for (const r of rows)
        printLines(
          `${r.scheduleId.padEnd(32)} ${r.paused ? 'paused ' : 'active '} next ${r.nextActionTimes[0] ?? '—'}`,
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
        printLines(`${verb}: ${id}`);
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
      printLines(
        `drills since ${summary.since}: ${summary.drills} (${summary.passed} passed, ${summary.failed} failed, pass rate ${summary.passRate === null ? '—' : `${(summary.passRate * 100).toFixed(1)}%`})`,
        `time to detect:   ${pct(summary.timeToDetectMs)}`,
        `time to rollback: ${pct(summary.timeToRollbackMs)}`,
      );
      for (const r of summary.reports.filter((x) => !x.passed))
        printLines(`  FAILED ${r.workflowId}: ${r.reasons.join('; ')}`);
    });
}

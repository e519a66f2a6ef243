import { writeFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { RolloutClient } from '../../client/rollout-client.js';
import { ValidationError } from '../../errors.js';
import { renderReportHtml, renderReportSvg } from '../../report/index.js';
import { cliClient, printLines, rolloutId } from '../context.js';

const FORMATS: Record<string, typeof renderReportHtml> = {
  '.html': renderReportHtml,
  '.htm': renderReportHtml,
  '.svg': renderReportSvg,
};

/**
 * Writes the report of rollout `id` to `out`, as HTML or SVG by the file's extension; returns the absolute path.
 * Throws a ValidationError (exit 2) for any other extension, before asking Temporal anything.
 */
export async function writeReport(
  rollouts: Pick<RolloutClient, 'status'>,
  id: string,
  out: string,
  generatedAt = new Date().toISOString(),
): Promise<string> {
  const render = FORMATS[extname(out).toLowerCase()];
  if (!render) throw new ValidationError(`--out must end in .html or .svg (got ${out})`, []);
  const status = await rollouts.status(id);
  const path = resolve(out);
  await writeFile(path, render(status, { id, generatedAt }), 'utf8');
  return path;
}

/** `report <id> --out report.html|report.svg`: a self-contained timeline picture of one rollout; prints the path. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .argument('<id>', 'rollout ID (rollout/<flag>) or flag')
    .requiredOption('--out <file>', 'where to write the report: .html (picture and tables) or .svg (picture only)')
    .description('write a timeline picture of a rollout: exposure, phases, pauses, approvals, rollback, guards, steps')
    .action(async (id: string, opts: { out: string }) => {
      if (!FORMATS[extname(opts.out).toLowerCase()])
        throw new ValidationError(`--out must end in .html or .svg (got ${opts.out})`, []);
      const { rollouts } = await cliClient();
      printLines(await writeReport(rollouts, rolloutId(id), opts.out));
    });
}

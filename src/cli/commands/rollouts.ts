import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { isTerminal } from '../../domain/rollout-state.js';
import { measuredValue } from '../../domain/tally.js';
import { Phase } from '../../domain/rollout-state.schema.js';
import { describeIssues } from '../../domain/validation.js';
import { ValidationError } from '../../errors.js';
import { catalogJsonSchema, specJsonSchema } from '../../spec/load.js';
import { loadSpecFile } from '../../spec/check.js';
import { join } from 'node:path';
import { catalogFromOptions, CONFIG_ENV, rootDir, type LoadedCatalog } from '../../catalog/load.js';
import { assertNever } from '../../util/assert-never.js';
import type { TargetSpec } from '../../domain/target-spec.schema.js';
import { redactUrl } from '../../util/redact-url.js';
import {
  cliClient,
  EXIT,
  printErrorLines,
  printJson,
  printLines,
  printStatusLines,
  rolloutId,
  uiLink,
} from '../context.js';
import { createLiveView } from '../../view/live-view.js';
import { renderStatus } from '../../view/render.js';
import { ABSENT, escapeControls } from '../../view/terminal-text.js';

/** `validate`, `schema`, `start`, `status`, `list`, `history`, `watch`. */
export function registerRolloutCommands(program: Command): void {
  program
    .command('validate')
    .argument('<file>', 'rollout spec (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .option('--config <file>', `check against this catalog, as the worker will (default: ${CONFIG_ENV})`)
    .description('check a spec (against the catalog when given); prints every problem with its path, exit 2 on any')
    .action(async (file: string, opts: { json?: boolean; config?: string }) => {
      try {
        const loaded = await catalogFromOptions(opts.config);
        const { request: spec, resolved } = await loadSpecFile(file, loaded?.catalog);
        const target = resolved && loaded ? describeTarget(resolved.target, loaded) : undefined;
        if (opts.json)
          printJson({
            valid: true,
            name: spec.name,
            steps: spec.steps.length,
            guards: spec.guards.length,
            ...(loaded ? { catalog: loaded.file, target } : {}),
          });
        else
          printLines(
            `${file}: valid (${spec.steps.length} steps, ${spec.guards.length} guards)` +
              (loaded ? ` against ${loaded.file}` : ' (shape only: pass --config to check it against a catalog)'),
            ...(target ? [`target: ${target}`] : []),
          );
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        if (opts.json)
          printJson({ valid: false, issues: err.issues, error: err.issues.length ? undefined : err.message });
        else if (err.issues.length) printErrorLines(`${file}: invalid`, ...err.issues.map((i) => describeIssues([i])));
        else printErrorLines(err.message);
        process.exitCode = EXIT.usage;
      }
    });

  program
    .command('schema')
    .description('print the JSON Schemas of the rollout spec and of the catalog (for editors)')
    .option('--spec', 'only the rollout spec schema')
    .option('--catalog', 'only the catalog (rollout.config.yaml) schema')
    .action((opts: { spec?: boolean; catalog?: boolean }) => {
      const spec = {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: 'Rollout spec',
        ...specJsonSchema(),
      };
      const catalog = {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: 'Rollout catalog (rollout.config.yaml)',
        ...catalogJsonSchema(),
      };
      if (opts.spec && !opts.catalog) printJson(spec);
      else if (opts.catalog && !opts.spec) printJson(catalog);
      else printJson({ spec, catalog });
    });

  program
    .command('start')
    .argument('<file>', 'rollout spec (YAML or JSON)')
    .option('--wait', 'follow the rollout to its end; exit 0 only on Completed')
    .option('--json', 'print the result as JSON')
    .option('--task-queue <queue>', 'task queue of the workers', 'rollouts')
    .option('--config <file>', `check against this catalog before starting (default: ${CONFIG_ENV})`)
    .description('validate and start a rollout; prints its ID and Web UI link')
    .action(async (file: string, opts: { wait?: boolean; json?: boolean; taskQueue: string; config?: string }) => {
      const loaded = await catalogFromOptions(opts.config);
      const { request: spec } = await loadSpecFile(file, loaded?.catalog);
      const { rollouts, namespace } = await cliClient();
      const { workflowId, runId } = await rollouts.start(spec, { taskQueue: opts.taskQueue });
      const ui = uiLink(workflowId, namespace);
      if (!opts.json) printLines(`started ${workflowId}`, ...(ui ? [`Web UI: ${ui}`] : []));
      if (!opts.wait) {
        if (opts.json) printJson({ workflowId, runId, ui });
        return;
      }
      const result = await rollouts.result(workflowId).catch((err: unknown) => {
        // a run that failed (its spec refused by the worker's catalog, say) has no result: say why, no stack trace
        if (!(err instanceof WorkflowFailedError)) throw err;
        const why = err.cause?.message ?? err.message;
        const [first = '', ...rest] = why.split('\n').map(escapeControls);
        if (opts.json) printJson({ workflowId, runId, ui, failed: why });
        else printErrorLines(`${workflowId}: Failed — ${first}`, ...rest.map((line) => `  ${line}`));
        process.exitCode = EXIT.failed;
        return undefined;
      });
      if (!result) return;
      if (opts.json) printJson({ workflowId, runId, ui, result });
      else printLines(`${workflowId}: ${result.phase} — ${result.reason}`);
      process.exitCode = result.phase === 'Completed' ? EXIT.ok : EXIT.failed;
    });

  program
    .command('status')
    .argument('<id>', 'rollout ID (rollout/<flag>) or flag')
    .option('--json', 'print the status as JSON')
    .description('phase, step, exposure, pauses, approvals and guards')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { rollouts } = await cliClient();
      const status = await rollouts.status(rolloutId(id));
      if (opts.json) printJson(status);
      else printStatusLines(...renderStatus(rolloutId(id), status));
    });

  program
    .command('list')
    .option('--phase <phase>', `only this phase (${Phase.options.join(', ')})`)
    .option('--target <flag>', 'only this target flag')
    .option('--json', 'print as JSON')
    .description('rollouts known to Temporal visibility')
    .action(async (opts: { phase?: string; target?: string; json?: boolean }) => {
      if (opts.phase && !Phase.safeParse(opts.phase).success) {
        process.stderr.write(`--phase must be one of ${Phase.options.join(', ')}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      const { rollouts } = await cliClient();
      const rows = await rollouts.list({
        ...(opts.phase ? { phase: opts.phase as Phase } : {}),
        ...(opts.target ? { target: opts.target } : {}),
      });
      if (opts.json) return printJson(rows);
      printLines(
        ...table(
          ['ID', 'PHASE', 'EXPOSURE', 'STATUS'],
          rows.map((r) => [
            escapeControls(r.workflowId),
            r.phase ?? ABSENT,
            r.exposure === null ? ABSENT : `${r.exposure} %`,
            r.status,
          ]),
          [false, false, true, false],
        ),
      );
    });

  program
    .command('history')
    .argument('<id>', 'rollout ID or flag')
    .option('--json', 'print as JSON')
    .description('the decision timeline: every phase change with its cause, and decisive measurements')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { rollouts } = await cliClient();
      const status = await rollouts.status(rolloutId(id));
      if (opts.json)
        return printJson({ timeline: status.timeline, measurements: status.measurements, windows: status.windows });
      for (const t of status.timeline) {
        printLines(
          `${t.at}  ${t.phase.padEnd(16)} step ${t.step + 1}  ${String(t.exposure).padStart(5)}%  ${t.cause}${t.actor ? ` [${t.actor}]` : ''}`,
        );
      }
      for (const m of status.measurements)
        printLines(
          `${m.at}  measurement ${m.guard}: ${m.verdict} ${measuredValue(m.value, m.unit)} vs ${m.threshold} — ${m.detail}`,
        );
    });

  program
    .command('watch')
    .argument('<id>', 'rollout ID or flag')
    .option('--interval <ms>', 'refresh interval', (v) => Number(v), 1000)
    .description('a live view: steps, exposure, window time left, guard values vs thresholds')
    .action(async (id: string, opts: { interval: number }) => watch(rolloutId(id), opts.interval));
}

async function watch(id: string, intervalMs: number): Promise<void> {
  const { rollouts } = await cliClient();
  // a terminal is redrawn in place; a pipe or log gets a plain line whenever the frame changed
  const view = process.stdout.isTTY === true ? createLiveView(process.stdout, true) : undefined;
  let previous = '';
  for (;;) {
    const status = await rollouts.status(id);
    const lines = renderStatus(id, status);
    const text = lines.join('\n');
    if (view) {
      view.frame(lines, text);
    } else if (text !== previous) {
      printLines(
        `${new Date().toISOString()} ${status.phase} step ${Math.min(status.step + 1, status.totalSteps)}/${status.totalSteps} exposure ${status.exposure.percent}%${status.exposure.shadow ? ` (shadow ${status.exposure.shadow}%)` : ''}${status.guards.map((g) => ` ${g.name}=${measuredValue(g.value, g.unit)}(${g.verdict})`).join('')}`,
      );
    }
    previous = text;
    if (isTerminal(status.phase)) {
      process.exitCode = status.phase === 'Completed' ? EXIT.ok : EXIT.failed;
      return;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A resolved target in one line: what `validate` says a spec's target resolved to. A flag file is named by the
 * absolute path the worker will write (under the catalog root, never the caller's or the worker's directory).
 */
function describeTarget(t: TargetSpec, loaded: LoadedCatalog): string {
  return `${t.type === 'extension' ? `extension ${t.kind}` : t.type} ${whereOf(t, loaded)} flag ${t.flag}: ${t.baselineVariant} → ${t.variant}`;
}

function whereOf(t: TargetSpec, loaded: LoadedCatalog): string {
  switch (t.type) {
    case 'flagd': {
      const dir = t.root !== undefined ? rootDir(loaded, t.root) : undefined;
      return `${dir !== undefined ? join(dir, t.path) : t.path} (root ${t.root ?? '—'})`;
    }
    case 'http':
      return redactUrl(t.url);
    case 'unleash':
    case 'launchdarkly':
      return `${redactUrl(t.url)} project ${t.project} environment ${t.environment}`;
    case 'memory':
      return t.name;
    case 'extension':
      return `(${Object.keys(t.settings).length} settings)`;
    default:
      return assertNever(t, 'target type');
  }
}

/** Rows under a header, each column as wide as its widest cell (`right`: right-aligned, for numbers). */
function table(header: string[], rows: string[][], right: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}

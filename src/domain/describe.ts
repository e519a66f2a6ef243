import { measuredValue } from './tally.js';
import type { RolloutState } from './rollout-state.schema.js';
import type { ResolvedSpec, Step } from './spec.schema.js';
import { kindOf, pauseDuration } from './spec.js';
import { assertNever } from '../util/assert-never.js';
import { formatMs, toMs } from './time.js';

/** One line per step kind: `exposure 25% (region in eu-west), observe 30m`. */
export function describeStep(step: Step | undefined): string {
  if (!step) return 'done';
  const k = kindOf(step);
  switch (k.kind) {
    case 'exposure': {
      const s = k.step;
      const cohort = s.cohort ? ` (${s.cohort.attribute} in ${s.cohort.values.join(', ')})` : '';
      return `exposure ${s.exposure}%${cohort}${s.observe ? `, observe ${s.observe}` : ''}`;
    }
    case 'approval': {
      const s = k.step;
      return `approval${s.approval.timeout ? ` (timeout ${s.approval.timeout}, then ${s.approval.onTimeout})` : ''}`;
    }
    case 'pause': {
      const d = pauseDuration(k.step);
      return d ? `pause ${formatMs(toMs(d))}` : 'pause until resumed';
    }
    case 'shadow':
      return `shadow ${k.step.shadow}% (not served)${k.step.observe ? `, observe ${k.step.observe}` : ''}`;
    default:
      return assertNever(k, 'step kind');
  }
}

/** Markdown for the Web UI's "current details": the step table and where the rollout is. */
export function detailsMarkdown(spec: ResolvedSpec, s: RolloutState): string {
  const rows = spec.steps.map((step, i) => {
    const mark = i < s.step ? '✔' : i === s.step && s.phase !== 'Completed' ? '▶' : ' ';
    return `| ${mark} | ${i + 1} | ${describeStep(step)} |`;
  });
  const lines = [
    `**${spec.name}** · ${s.phase} · exposure **${s.exposure.percent}%**${s.exposure.shadow ? ` (shadow ${s.exposure.shadow}%)` : ''}`,
    '',
    '| | step | what |',
    '|---|---|---|',
    ...rows,
  ];
  if (s.pauseReasons.length)
    lines.push('', `Paused: ${s.pauseReasons.map((p) => `${p.reason}${p.actor ? ` (${p.actor})` : ''}`).join('; ')}`);
  if (s.rollback) {
    const r = s.rollback;
    lines.push(
      '',
      `Rollback: ${r.reason}${r.retrying ? ` — retrying ${r.retryingWhat ?? ''} (${r.failedAttempts} failed attempts, last error: ${r.lastError ?? '?'})` : ''}`,
    );
  }
  if (s.guards.length) {
    lines.push('', '| guard | verdict | value | threshold |', '|---|---|---|---|');
    for (const g of s.guards)
      lines.push(`| ${g.name} | ${g.verdict} | ${measuredValue(g.value, g.unit)} | ${g.threshold} |`);
  }
  return lines.join('\n');
}

import type { RolloutState } from './rollout-state.schema.js';
import type { RolloutSpec, Step } from './spec.schema.js';
import { stepKind } from './spec.js';
import { formatMs, toMs } from './time.js';

/** One line per step kind: `exposure 25% (region in eu-west), observe 30m`. */
export function describeStep(step: Step | undefined): string {
  if (!step) return 'done';
  switch (stepKind(step)) {
    case 'exposure': {
      const s = step as Extract<Step, { exposure: number }>;
      const cohort = s.cohort ? ` (${s.cohort.attribute} in ${s.cohort.values.join(', ')})` : '';
      return `exposure ${s.exposure}%${cohort}${s.observe ? `, observe ${s.observe}` : ''}`;
    }
    case 'approval': {
      const s = step as Extract<Step, { approval: unknown }>;
      return `approval${s.approval.timeout ? ` (timeout ${s.approval.timeout}, then ${s.approval.onTimeout})` : ''}`;
    }
    case 'pause': {
      const s = step as Extract<Step, { pause: unknown }>;
      const d = typeof s.pause === 'string' ? s.pause : s.pause.duration;
      return d ? `pause ${formatMs(toMs(d))}` : 'pause until resumed';
    }
  }
}

/** Markdown for the Web UI's "current details": the step table and where the rollout is. */
export function detailsMarkdown(spec: RolloutSpec, s: RolloutState): string {
  const rows = spec.steps.map((step, i) => {
    const mark = i < s.step ? '✔' : i === s.step && s.phase !== 'Completed' ? '▶' : ' ';
    return `| ${mark} | ${i} | ${describeStep(step)} |`;
  });
  const lines = [
    `**${spec.name}** · ${s.phase} · exposure **${s.exposure.percent}%**`,
    '',
    '| | step | what |',
    '|---|---|---|',
    ...rows,
  ];
  if (s.pauseReasons.length) lines.push('', `Paused: ${s.pauseReasons.map((p) => `${p.reason}${p.actor ? ` (${p.actor})` : ''}`).join('; ')}`);
  if (s.rollback) {
    const r = s.rollback;
    lines.push('', `Rollback: ${r.reason}${r.retrying ? ` — retrying ${r.retryingWhat ?? ''} (${r.failedAttempts} failed attempts, last error: ${r.lastError ?? '?'})` : ''}`);
  }
  if (s.guards.length) {
    lines.push('', '| guard | verdict | value | threshold |', '|---|---|---|---|');
    for (const g of s.guards) lines.push(`| ${g.name} | ${g.verdict} | ${g.value ?? '—'} | ${g.threshold} |`);
  }
  return lines.join('\n');
}

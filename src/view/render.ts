import type { RolloutStatus } from '../../workflows/messages.js';
import { measuredValue } from '../domain/tally.js';
import { formatMs } from '../domain/time.js';
import { escapeControls } from './terminal-text.js';

const BAR = 20;

/** A bar of exposure: `[█████░░░░░░░░░░░░░░░]  25%`. */
export function exposureBar(percent: number): string {
  const filled = Math.round((percent / 100) * BAR);
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}] ${String(percent).padStart(5)}%`;
}

/**
 * The status view shared by `rollout status`, `rollout watch` and the demo: steps, exposure, window, guards, pauses.
 * Names, reasons and causes come from callers: each line has its control characters escaped.
 */
export function renderStatus(id: string, s: RolloutStatus & { guardsAsOf?: string }, nowMs = Date.now()): string[] {
  const lines = [`${s.name} · ${id} · ${s.phase} · step ${Math.min(s.step + 1, s.totalSteps)}/${s.totalSteps}`];
  const left = s.windowEndsAt ? Math.max(0, Date.parse(s.windowEndsAt) - nowMs) : undefined;
  lines.push(
    `${exposureBar(s.exposure.percent)}${s.exposure.shadow ? ` + shadow ${s.exposure.shadow}%` : ''}${s.exposure.cohort ? ` of ${s.exposure.cohort.attribute} in ${s.exposure.cohort.values.join(',')}` : ''}${left !== undefined ? `   window: ${formatMs(left)} left` : ''}`,
  );
  s.steps.forEach((d, i) => {
    const done = i < s.step || s.phase === 'Completed';
    const mark = done ? '✔' : i === s.step && !['RolledBack', 'Aborted', 'Failed'].includes(s.phase) ? '▶' : ' ';
    lines.push(` ${mark} ${String(i + 1).padStart(2)} ${d}`);
  });
  if (s.guards.length) {
    lines.push(`guards${s.guardsAsOf ? ` (live, ${new Date(s.guardsAsOf).toISOString().slice(11, 19)})` : ''}:`);
    for (const g of s.guards) {
      const value = measuredValue(g.value, g.unit);
      const notes = [
        ...(g.dryRun ? ['dry run'] : []),
        ...(g.during === 'rollout' ? ['whole rollout'] : []),
        ...(g.failures !== undefined && g.failureLimit !== undefined
          ? [`${g.failures} failure(s) over the rollout, limit ${g.failureLimit}`]
          : []),
      ];
      lines.push(
        `  ${g.name.padEnd(22)} ${value.padStart(10)}  ${g.threshold.padEnd(24)} ${g.verdict}${g.checks !== undefined ? ` (${g.checks} checks)` : ''}${g.cohort ? ` worst cohort ${g.cohort}` : ''}${notes.length ? ` [${notes.join('; ')}]` : ''}`,
      );
    }
  }
  for (const p of s.pauseReasons) lines.push(`paused: ${p.reason}${p.actor ? ` (by ${p.actor})` : ''}`);
  if (s.rollback) {
    const r = s.rollback;
    lines.push(
      `rollback: ${r.reason}${r.retrying ? ` — RETRYING ${r.retryingWhat ?? ''} after ${r.failedAttempts} failures: ${r.lastError ?? ''}` : ''}`,
    );
  }
  const last = s.timeline[s.timeline.length - 1];
  if (last) lines.push(`last: ${last.at.slice(11, 19)} ${last.phase} — ${last.cause}`);
  return lines.map(escapeControls);
}

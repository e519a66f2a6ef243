import { pauseSpans, rollbackSpan, spanRect, timeGrid, type Frame } from './frame.js';
import type { GuardPoint, GuardSeries, WindowSpan } from './model.js';
import { clip, COLOURS, esc, formatElapsed, formatValue, linear, n, niceTicks, verdictColour } from './svg.js';

/** Height of one guard panel drawn by {@link guardPanel}. */
export const GUARD_PANEL_HEIGHT = 150;

const PLOT_TOP = 34;
const PLOT_HEIGHT = 88;

const WINDOW_FILL: Record<WindowSpan['outcome'], string> = {
  passed: 'rgba(47,158,85,0.08)',
  failed: 'rgba(214,40,40,0.08)',
  inconclusive: 'rgba(201,138,0,0.10)',
  promoted: 'rgba(90,100,112,0.07)',
  interrupted: 'rgba(90,100,112,0.07)',
};

/**
 * One guard's panel under the exposure chart: its observation windows, its threshold as a dashed line (when the
 * threshold is an absolute bound), its decisive measurements as dots and its last value as a hollow diamond,
 * failed ones in red. Routine checks are only counted in status, so they are not drawn. `timeLabels` labels the
 * time axis (for the last panel).
 */
export function guardPanel(f: Frame, g: GuardSeries, top: number, timeLabels = false): string {
  const plotTop = top + PLOT_TOP;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const numeric = g.points.filter(
    (p): p is GuardPoint & { value: number } => p.value !== null && Number.isFinite(p.value),
  );
  const levels = [
    ...numeric.map((p) => p.value),
    ...(g.bounds.min !== undefined ? [g.bounds.min] : []),
    ...(g.bounds.max !== undefined ? [g.bounds.max] : []),
  ];
  const lo = Math.min(0, ...levels);
  const hi = Math.max(0, ...levels);
  const pad = (hi - lo) * 0.15;
  const ticks = niceTicks(lo < 0 ? lo - pad : lo, hi > lo ? hi + pad : lo + 1, 3);
  const y = linear(ticks[0] ?? lo, ticks[ticks.length - 1] ?? hi, plotBottom, plotTop);
  const failed = g.points.some((p) => p.verdict === 'Failed');

  const out: string[] = [
    `<g class="guard-panel">`,
    `<text x="${n(f.left)}" y="${n(top + 12)}" class="title"${failed && !g.dryRun ? ` fill="${COLOURS.failed}"` : ''}>${esc(`Guard ${g.name}${g.dryRun ? ' (dry run)' : ''}${g.during === 'rollout' ? ' (whole rollout)' : ''}`)}</text>`,
    `<text x="${n(f.left)}" y="${n(top + 27)}" class="caption"><title>${esc(caption(g))}</title>${esc(clip(caption(g), Math.floor((f.right - f.left) / 5.9)))}</text>`,
    `<rect x="${n(f.left)}" y="${n(plotTop)}" width="${n(f.right - f.left)}" height="${PLOT_HEIGHT}" fill="#fff" stroke="${COLOURS.grid}"/>`,
    windows(f, plotTop, plotBottom),
    timeGrid(f, plotTop, plotBottom, timeLabels),
  ];
  for (const v of ticks) {
    out.push(
      `<line x1="${n(f.left)}" y1="${n(y(v))}" x2="${n(f.right)}" y2="${n(y(v))}" stroke="${COLOURS.grid}"/>`,
      `<text x="${n(f.left - 6)}" y="${n(y(v) + 4)}" text-anchor="end" class="tick">${esc(formatValue(v))}</text>`,
    );
  }
  out.push(pauseSpans(f, plotTop, plotBottom), rollbackSpan(f, plotTop, plotBottom), thresholdLines(f, g, y));
  g.points.forEach((p, i) => {
    // the last value is often the decisive one itself: draw its diamond, but label the value once
    const repeat = g.points.slice(0, i).some((q) => q.atMs === p.atMs && q.value === p.value);
    out.push(point(f, p, p.value === null || !Number.isFinite(p.value) ? undefined : y(p.value), plotTop, !repeat));
  });
  if (!g.points.length)
    out.push(
      `<text x="${n((f.left + f.right) / 2)}" y="${n(plotTop + 48)}" text-anchor="middle" class="caption">no measurement recorded yet</text>`,
    );
  out.push('</g>');
  return out.join('');
}

/** What the panel shows, in words: threshold, last verdict, counts, and that only decisive values are kept. */
function caption(g: GuardSeries): string {
  const parts = [`threshold ${g.threshold}`];
  if (g.dryRun) parts.push('dry run: measured and shown, never acted on');
  if (g.failures !== undefined && g.failureLimit !== undefined)
    parts.push(`${g.failures} failure(s) counted over the rollout (limit ${g.failureLimit})`);
  if (g.threshold !== '—' && g.bounds.min === undefined && g.bounds.max === undefined)
    parts.push('(comparative: no line on this scale)');
  if (g.verdict) parts.push(`last verdict ${g.verdict}`);
  if (g.checks !== undefined)
    parts.push(`${g.checks} checks${g.failed !== undefined ? `, ${g.failed} failed` : ''} (last window)`);
  parts.push('dots: decisive measurements · ◇: last value');
  return parts.join(' · ');
}

/** Observation windows as faint bands, tinted by outcome, labelled when wide enough. */
function windows(f: Frame, top: number, bottom: number): string {
  return f.model.windows
    .map((w) => {
      const tip = `window of step ${w.step + 1}: ${w.outcome}, ${w.checks} checks of all guards — ${w.reason}`;
      const width = f.x(w.toMs) - f.x(w.fromMs);
      const label = `window of step ${w.step + 1}: ${w.outcome}, ${w.checks} checks (all guards)`;
      const text =
        width > 70
          ? `<text x="${n(f.x(w.fromMs) + 3)}" y="${n(bottom - 4)}" class="window-label">${esc(clip(label, Math.floor((width - 6) / 5.4)))}</text>`
          : '';
      return spanRect(f, w, top, bottom, WINDOW_FILL[w.outcome], tip, 'window-span') + text;
    })
    .join('');
}

/** The threshold's bounds as dashed lines, labelled at the right edge. */
function thresholdLines(f: Frame, g: GuardSeries, y: (v: number) => number): string {
  const lines: [string, number][] = [];
  if (g.bounds.max !== undefined) lines.push(['max', g.bounds.max]);
  if (g.bounds.min !== undefined) lines.push(['min', g.bounds.min]);
  return lines
    .map(
      ([kind, v]) =>
        `<line class="threshold" x1="${n(f.left)}" y1="${n(y(v))}" x2="${n(f.right)}" y2="${n(y(v))}" stroke="${COLOURS.threshold}" stroke-width="1.5" stroke-dasharray="6 4"><title>${esc(`threshold ${g.threshold}`)}</title></line>` +
        `<text x="${n(f.right - 4)}" y="${n(y(v) - 4)}" text-anchor="end" class="value" fill="${COLOURS.threshold}">${esc(`${kind} ${formatValue(v)}`)}</text>`,
    )
    .join('');
}

/** A decisive measurement (filled dot) or the last value (hollow diamond); "no data" as a cross near the top. */
function point(f: Frame, p: GuardPoint, py: number | undefined, top: number, labelled: boolean): string {
  const x = f.x(p.atMs);
  const colour = verdictColour(p.verdict);
  const when = formatElapsed(p.atMs - f.model.range.fromMs);
  const tip = `${p.kind === 'decisive' ? 'decisive measurement' : 'last value'} at ${when}${p.step !== undefined ? ` (step ${p.step + 1})` : ''}: ${formatValue(p.value)} — ${p.verdict}${p.cohort ? ` in ${p.cohort}` : ''}${p.detail ? `. ${p.detail}` : ''}`;
  const title = `<title>${esc(tip)}</title>`;
  if (py === undefined) {
    const yy = top + 10;
    return `<g class="no-data">${title}<path d="M${n(x - 4)},${n(yy - 4)} l8,8 m0,-8 l-8,8" stroke="${colour}" stroke-width="2"/><text x="${n(x + 7)}" y="${n(yy + 4)}" class="value" fill="${colour}">no data</text></g>`;
  }
  const mark =
    p.kind === 'decisive'
      ? `<circle cx="${n(x)}" cy="${n(py)}" r="5" fill="${colour}" stroke="#fff" stroke-width="1"/>`
      : `<path d="M${n(x)},${n(py - 6)} l6,6 l-6,6 l-6,-6 Z" fill="none" stroke="${colour}" stroke-width="2"/>`;
  const label = `${formatValue(p.value)}${p.cohort ? ` (${p.cohort})` : ''}`;
  const anchorEnd = x > f.right - 80;
  return `<g class="${p.kind === 'decisive' ? 'measurement' : 'last-value'}${p.verdict === 'Failed' ? ' failed' : ''}">${title}${mark}${labelled ? `<text x="${n(anchorEnd ? x - 9 : x + 9)}" y="${n(py + 4)}"${anchorEnd ? ' text-anchor="end"' : ''} class="value" fill="${colour}">${esc(clip(label, 28))}</text>` : ''}</g>`;
}

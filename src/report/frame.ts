import type { ReportModel, Span } from './model.js';
import { COLOURS, esc, formatElapsed, linear, n, timeTicks } from './svg.js';

/** Geometry shared by every panel of the picture: the page width and the time axis. */
export interface Frame {
  model: ReportModel;
  width: number;
  /** Left and right edge of the plotting area. */
  left: number;
  right: number;
  /** Epoch ms to x. */
  x: (ms: number) => number;
  /** Elapsed ms of each time tick. */
  ticks: number[];
}

/** The frame of a report `width` pixels wide. */
export function frameOf(model: ReportModel, width = 1000): Frame {
  const left = 72;
  const right = width - 28;
  const { fromMs, toMs } = model.range;
  return { model, width, left, right, x: linear(fromMs, toMs, left, right), ticks: timeTicks(toMs - fromMs) };
}

/** Vertical grid lines at the time ticks over [top, bottom]; labels below when `labels`. */
export function timeGrid(f: Frame, top: number, bottom: number, labels: boolean): string {
  const out: string[] = [];
  for (const t of f.ticks) {
    const x = n(f.x(f.model.range.fromMs + t));
    out.push(`<line x1="${x}" y1="${n(top)}" x2="${x}" y2="${n(bottom)}" stroke="${COLOURS.grid}"/>`);
    if (labels)
      out.push(
        `<text x="${x}" y="${n(bottom + 14)}" text-anchor="middle" class="tick">${esc(formatElapsed(t))}</text>`,
      );
  }
  return out.join('');
}

/** The label under the time axis: elapsed time since the start, and the start and end as UTC times. */
export function timeAxisTitle(f: Frame, y: number): string {
  const { range } = f.model;
  const end = `${new Date(range.toMs).toISOString().slice(11, 23)} UTC${range.open ? ' (now, still running)' : ''}`;
  return (
    `<text x="${n(f.left)}" y="${n(y)}" class="axis-title">start ${esc(new Date(range.fromMs).toISOString().slice(11, 23))} UTC</text>` +
    `<text x="${n((f.left + f.right) / 2)}" y="${n(y)}" text-anchor="middle" class="axis-title">time since start</text>` +
    `<text x="${n(f.right)}" y="${n(y)}" text-anchor="end" class="axis-title">end ${esc(end)}</text>`
  );
}

/** A shaded span over [top, bottom] (pauses, rollback), with an optional tooltip; at least 2 px wide. */
export function spanRect(
  f: Frame,
  s: Span,
  top: number,
  bottom: number,
  fill: string,
  tooltip?: string,
  cls = '',
): string {
  const x0 = f.x(s.fromMs);
  const w = Math.max(2, f.x(s.toMs) - x0);
  const title = tooltip ? `<title>${esc(tooltip)}</title>` : '';
  return `<rect${cls ? ` class="${cls}"` : ''} x="${n(x0)}" y="${n(top)}" width="${n(w)}" height="${n(bottom - top)}" fill="${fill}">${title}</rect>`;
}

/** The rollback span over [top, bottom]: red fill, solid edge at the request, dashed end while still running. */
export function rollbackSpan(f: Frame, top: number, bottom: number): string {
  const rb = f.model.rollback;
  if (!rb) return '';
  const x0 = n(f.x(rb.fromMs));
  const x1 = n(Math.max(f.x(rb.toMs), f.x(rb.fromMs) + 2));
  const tip = `rollback (${rb.trigger}${rb.actor ? `, by ${rb.actor}` : ''}): ${rb.reason}${rb.open ? ' — not finished' : ''}`;
  return (
    spanRect(f, rb, top, bottom, COLOURS.rollback, tip, 'rollback-span') +
    `<line x1="${x0}" y1="${n(top)}" x2="${x0}" y2="${n(bottom)}" stroke="${COLOURS.rollbackEdge}" stroke-width="1.5"/>` +
    `<line x1="${x1}" y1="${n(top)}" x2="${x1}" y2="${n(bottom)}" stroke="${COLOURS.rollbackEdge}" stroke-width="1.5"${rb.open ? ' stroke-dasharray="4 3"' : ''}/>`
  );
}

/** Pause spans (grey) over [top, bottom]. */
export function pauseSpans(f: Frame, top: number, bottom: number): string {
  return f.model.pauses
    .map((p) =>
      spanRect(
        f,
        p,
        top,
        bottom,
        COLOURS.pause,
        `paused${p.actor ? ` by ${p.actor}` : ''}: ${p.cause}${p.open ? ' (still paused)' : ''}`,
        'pause-span',
      ),
    )
    .join('');
}

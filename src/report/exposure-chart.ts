import { pauseSpans, rollbackSpan, timeAxisTitle, timeGrid, type Frame } from './frame.js';
import { clip, COLOURS, esc, formatElapsed, linear, n, PHASE_COLOURS } from './svg.js';

/** Height of the phase band drawn by {@link phaseBand}. */
export const PHASE_BAND_HEIGHT = 48;
/** Height of the exposure chart drawn by {@link exposureChart}, labels included. */
export const EXPOSURE_CHART_HEIGHT = 284;

const CHAR = 6.1;

/**
 * The phase band: one coloured segment per phase (named where it fits), a tick at every phase change, and a
 * tooltip with the change's cause and actor.
 */
export function phaseBand(f: Frame, top: number): string {
  const y = top + 16;
  const h = 18;
  const out = [`<text x="${n(f.left - 8)}" y="${n(y + 13)}" text-anchor="end" class="label">phase</text>`];
  for (const p of f.model.phases) {
    const x0 = f.x(p.fromMs);
    const w = Math.max(1, f.x(p.toMs) - x0);
    const dark = ['Observing', 'Completed', 'RolledBack', 'Aborted'].includes(p.phase);
    const tip = `${p.phase} at ${formatElapsed(p.fromMs - f.model.range.fromMs)} (step ${p.step + 1}): ${p.cause}${p.actor ? ` — by ${p.actor}` : ''}`;
    out.push(
      `<g class="phase"><rect x="${n(x0)}" y="${n(y)}" width="${n(w)}" height="${h}" fill="${PHASE_COLOURS[p.phase] ?? '#ccc'}"><title>${esc(tip)}</title></rect>`,
      `<line x1="${n(x0)}" y1="${n(y - 4)}" x2="${n(x0)}" y2="${n(y + h)}" stroke="${COLOURS.text}" stroke-width="1"/>`,
    );
    if (w > p.phase.length * CHAR + 6) {
      out.push(
        `<text x="${n(x0 + 3)}" y="${n(y + 13)}" class="phase-name" fill="${dark ? '#fff' : COLOURS.text}">${esc(p.phase)}</text>`,
      );
    }
    out.push('</g>');
  }
  out.push(
    `<text x="${n(f.left)}" y="${n(top + 10)}" class="caption">phase changes (ticks; hover a segment for its cause and actor)</text>`,
  );
  return out.join('');
}

/**
 * The exposure chart: 0–100 % over time as a step line through the exposure recorded at each phase change, with
 * step starts, pauses (grey), approvals (green) and the rollback (red span from request to finish).
 */
export function exposureChart(f: Frame, top: number): string {
  const plotTop = top + 40;
  const plotBottom = plotTop + 190;
  const y = linear(0, 100, plotBottom, plotTop);
  const out: string[] = [
    `<text x="${n(f.left)}" y="${n(top + 10)}" class="title">Exposure (share of traffic on the new variant)</text>`,
    `<rect x="${n(f.left)}" y="${n(plotTop)}" width="${n(f.right - f.left)}" height="${n(plotBottom - plotTop)}" fill="#fff" stroke="${COLOURS.grid}"/>`,
    timeGrid(f, plotTop, plotBottom, true),
    timeAxisTitle(f, plotBottom + 30),
  ];
  for (const v of [0, 25, 50, 75, 100]) {
    out.push(
      `<line x1="${n(f.left)}" y1="${n(y(v))}" x2="${n(f.right)}" y2="${n(y(v))}" stroke="${COLOURS.grid}"/>`,
      `<text x="${n(f.left - 6)}" y="${n(y(v) + 4)}" text-anchor="end" class="tick">${v}%</text>`,
    );
  }
  out.push(
    `<text transform="translate(${n(f.left - 46)},${n((plotTop + plotBottom) / 2)}) rotate(-90)" text-anchor="middle" class="axis-title">exposure</text>`,
    pauseSpans(f, plotTop, plotBottom),
    rollbackSpan(f, plotTop, plotBottom),
    stepStarts(f, top + 24, plotBottom),
    exposureLine(f, y, plotBottom),
    approvals(f, plotTop, plotBottom),
    spanLabels(f, plotTop),
  );
  return out.join('');
}

/** The step line with the area under it, and the new percentage printed at each change. */
function exposureLine(f: Frame, y: (v: number) => number, bottom: number): string {
  const pts = f.model.exposure;
  const first = pts[0];
  if (!first) return '';
  let d = `M${n(f.x(first.atMs))},${n(y(first.percent))}`;
  const labels: string[] = [];
  let prev = first.percent;
  for (const p of pts.slice(1)) {
    d += ` H${n(f.x(p.atMs))}`;
    if (p.percent !== prev) {
      d += ` V${n(y(p.percent))}`;
      const above = p.percent >= prev || p.percent < 10;
      labels.push(
        `<text x="${n(f.x(p.atMs) + 3)}" y="${n(y(p.percent) + (above ? -5 : 12))}" class="value" fill="${COLOURS.exposure}">${esc(`${p.percent}%`)}</text>`,
      );
      prev = p.percent;
    }
  }
  const area = `${d} V${n(bottom)} H${n(f.x(first.atMs))} Z`;
  return (
    `<path d="${area}" fill="${COLOURS.exposureFill}" stroke="none"/>` +
    `<path class="exposure-line" d="${d}" fill="none" stroke="${COLOURS.exposure}" stroke-width="2.5" stroke-linejoin="round"><title>exposure as recorded at each phase change</title></path>` +
    labels.join('')
  );
}

/** A dotted line and a `step i` label where each reached step began; labels alternate rows when crowded. */
function stepStarts(f: Frame, labelTop: number, bottom: number): string {
  const out: string[] = [];
  const rowEnds = [-Infinity, -Infinity];
  for (const s of f.model.steps) {
    if (s.reachedAtMs === undefined) continue;
    const x = f.x(s.reachedAtMs);
    const text = `step ${s.index + 1}`;
    const row = Math.max(
      0,
      rowEnds.findIndex((end) => x >= end),
    );
    rowEnds[row] = x + text.length * CHAR + 4;
    out.push(
      `<line x1="${n(x)}" y1="${n(labelTop + 4 + row * 10)}" x2="${n(x)}" y2="${n(bottom)}" stroke="${COLOURS.axis}" stroke-dasharray="1 3"/>`,
      `<text x="${n(x + 2)}" y="${n(labelTop + 2 + row * 10)}" class="step-label"><title>${esc(`step ${s.index + 1}: ${s.description}`)}</title>${esc(text)}</text>`,
    );
  }
  return out.join('');
}

/** A green line with a ✓ for each approval, labelled with its step and actor. */
function approvals(f: Frame, top: number, bottom: number): string {
  return f.model.approvals
    .map((a) => {
      const x = n(f.x(a.atMs));
      const tip = `approved step ${a.step + 1} by ${a.actor}${a.comment ? `: ${a.comment}` : ''}`;
      return (
        `<g class="approval"><title>${esc(tip)}</title>` +
        `<line x1="${x}" y1="${n(top)}" x2="${x}" y2="${n(bottom)}" stroke="${COLOURS.approval}" stroke-width="2"/>` +
        `<circle cx="${x}" cy="${n(top + 10)}" r="7" fill="${COLOURS.approval}"/>` +
        `<text x="${x}" y="${n(top + 14)}" text-anchor="middle" class="check">✓</text>` +
        `<text x="${n(Number(x) + 10)}" y="${n(top + 14)}" class="value" fill="${COLOURS.approval}">${esc(clip(`${a.actor} approved step ${a.step + 1}`, 40))}</text></g>`
      );
    })
    .join('');
}

/** Short labels inside the pause and rollback spans, where they fit. */
function spanLabels(f: Frame, top: number): string {
  const out: string[] = [];
  const rb = f.model.rollback;
  if (rb) {
    const x0 = f.x(rb.fromMs);
    const x1 = f.x(rb.toMs);
    const text = `rollback (${rb.trigger}): ${rb.reason}`;
    // inside the span when it is wide enough, else to its left, ending at the span
    const inside = x1 - x0 > 160 || x0 - f.left < 160;
    const room = inside ? Math.max(f.right - x0 - 8, 60) : x0 - f.left - 8;
    const pos = inside ? `x="${n(x0 + 4)}"` : `x="${n(x0 - 4)}" text-anchor="end"`;
    out.push(
      `<text ${pos} y="${n(top + 46)}" class="value rollback-label" fill="${COLOURS.rollbackEdge}">${esc(clip(text, Math.min(90, Math.floor(room / CHAR))))}</text>`,
    );
  }
  for (const p of f.model.pauses) {
    const w = f.x(p.toMs) - f.x(p.fromMs);
    if (w < 50) continue;
    out.push(
      `<text x="${n(f.x(p.fromMs) + 4)}" y="${n(top + 30)}" class="value" fill="${COLOURS.muted}">${esc(clip(`paused: ${p.cause}`, Math.floor((w - 6) / CHAR)))}</text>`,
    );
  }
  return out.join('');
}

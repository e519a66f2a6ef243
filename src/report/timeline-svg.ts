import { EXPOSURE_CHART_HEIGHT, exposureChart, PHASE_BAND_HEIGHT, phaseBand } from './exposure-chart.js';
import { frameOf, type Frame } from './frame.js';
import { GUARD_PANEL_HEIGHT, guardPanel } from './guard-panel.js';
import { legend } from './legend.js';
import type { ReportModel, StepRow } from './model.js';
import { clip, COLOURS, esc, formatElapsed, formatUtc, n } from './svg.js';

const STYLE = [
  '.title{font-size:14px;font-weight:bold}',
  '.heading{font-size:18px;font-weight:bold}',
  '.caption{font-size:11px;fill:#6b7480}',
  '.tick{font-size:10.5px;fill:#5b6470}',
  '.axis-title{font-size:11px;fill:#5b6470}',
  '.label,.phase-name{font-size:11px}',
  '.value{font-size:11px;font-weight:bold}',
  '.step-label{font-size:10px;fill:#3d4550}',
  '.check{font-size:10px;fill:#fff;font-weight:bold}',
  '.window-label{font-size:9.5px;fill:#5b6470}',
  '.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:11.5px;white-space:pre}',
].join('');

/** How far the rollout got with a step, in words: `done`, `current`, `interrupted (RolledBack)`, `not reached`. */
export function stepStateText(row: StepRow, model: ReportModel): string {
  const elapsed = row.reachedAtMs === undefined ? undefined : row.reachedAtMs - model.range.fromMs;
  const when = elapsed === undefined ? '' : elapsed === 0 ? ' at start' : ` at ${formatElapsed(elapsed)}`;
  switch (row.state) {
    case 'done':
      return `✔ reached${when}, done`;
    case 'current':
      return `▶ reached${when}, current`;
    case 'interrupted':
      return `✖ reached${when}, interrupted (${model.phase})`;
    case 'not reached':
      return '— not reached';
  }
}

/**
 * The timeline picture as one `<svg>` element: phase band, exposure chart, one panel per guard, legend. With
 * `standalone`, a heading and the step list are drawn too, so an `.svg` file alone tells the whole story.
 */
export function renderTimelineSvg(model: ReportModel, options: { standalone: boolean; width?: number }): string {
  const f = frameOf(model, options.width ?? 1000);
  const parts: string[] = [];
  let y = 8;
  if (options.standalone) {
    parts.push(heading(f, y));
    y += 56;
  }
  parts.push(phaseBand(f, y));
  y += PHASE_BAND_HEIGHT;
  parts.push(exposureChart(f, y));
  y += EXPOSURE_CHART_HEIGHT;
  if (model.guards.length === 0) {
    parts.push(`<text x="${n(f.left)}" y="${n(y + 14)}" class="caption">no guards in this rollout</text>`);
    y += 28;
  }
  model.guards.forEach((g, i) => {
    parts.push(guardPanel(f, g, y, i === model.guards.length - 1));
    y += GUARD_PANEL_HEIGHT;
  });
  const key = legend(f, y + 4);
  parts.push(key.svg);
  y += key.height + 16;
  if (options.standalone) {
    const steps = stepList(f, y);
    parts.push(steps.svg);
    y += steps.height;
  }
  const height = Math.ceil(y + 8);
  const label = `Timeline of rollout ${model.id} (${model.name}): ${model.phase}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${height}" viewBox="0 0 ${f.width} ${height}" role="img" aria-label="${esc(label)}" ` +
    `font-family="'DejaVu Sans',Helvetica,Arial,sans-serif" fill="${COLOURS.text}">` +
    `<title>${esc(label)}</title><style>${STYLE}</style>` +
    `<rect width="100%" height="100%" fill="#fafbfc"/>${parts.join('')}</svg>`
  );
}

/** Name, phase, ID, target and times, for the standalone SVG. */
function heading(f: Frame, top: number): string {
  const m = f.model;
  const sub = `${m.id} · target ${m.target} · started ${formatUtc(m.range.fromMs)} · report generated ${m.generatedAt}`;
  return (
    `<text x="${n(f.left)}" y="${n(top + 18)}" class="heading">${esc(`${m.name} — ${m.phase}`)}</text>` +
    `<text x="${n(f.left)}" y="${n(top + 38)}" class="caption">${esc(clip(sub, 150))}</text>`
  );
}

/** The spec's steps as a list (index, description, reached or not), for the standalone SVG. */
function stepList(f: Frame, top: number): { svg: string; height: number } {
  const out = [`<text x="${n(f.left)}" y="${n(top + 12)}" class="title">Steps of the spec</text>`];
  f.model.steps.forEach((s, i) => {
    const y = top + 32 + i * 17;
    const colour =
      s.state === 'interrupted' ? COLOURS.failed : s.state === 'not reached' ? COLOURS.muted : COLOURS.text;
    out.push(
      `<text x="${n(f.left)}" y="${n(y)}" class="mono" xml:space="preserve" fill="${colour}">${esc(`${String(s.index + 1).padStart(2)}  ${clip(s.description, 60).padEnd(60)}  ${stepStateText(s, f.model)}`)}</text>`,
    );
  });
  return { svg: out.join(''), height: 32 + f.model.steps.length * 17 };
}

import type { Frame } from './frame.js';
import { COLOURS, esc, n, PHASE_COLOURS } from './svg.js';

type Swatch = (x: number, y: number) => string;

const line =
  (colour: string, width: number, dash = ''): Swatch =>
  (x, y) =>
    `<line x1="${n(x)}" y1="${n(y)}" x2="${n(x + 22)}" y2="${n(y)}" stroke="${colour}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
const box =
  (fill: string, edge?: string): Swatch =>
  (x, y) =>
    `<rect x="${n(x)}" y="${n(y - 7)}" width="22" height="14" fill="${fill}"${edge ? ` stroke="${edge}"` : ''}/>`;
const dot =
  (colour: string): Swatch =>
  (x, y) =>
    `<circle cx="${n(x + 11)}" cy="${n(y)}" r="5" fill="${colour}"/>`;
const diamond: Swatch = (x, y) =>
  `<path d="M${n(x + 11)},${n(y - 6)} l6,6 l-6,6 l-6,-6 Z" fill="#fff" stroke="${COLOURS.ok}" stroke-width="2"/>`;
const approval: Swatch = (x, y) =>
  `<circle cx="${n(x + 11)}" cy="${n(y)}" r="7" fill="${COLOURS.approval}"/><text x="${n(x + 11)}" y="${n(y + 4)}" text-anchor="middle" class="check">✓</text>`;
const tick: Swatch = (x, y) =>
  `<rect x="${n(x)}" y="${n(y - 6)}" width="22" height="12" fill="${PHASE_COLOURS.Observing}"/><line x1="${n(x + 11)}" y1="${n(y - 9)}" x2="${n(x + 11)}" y2="${n(y + 6)}" stroke="${COLOURS.text}"/>`;

const ITEMS: [Swatch, string][] = [
  [line(COLOURS.exposure, 2.5), 'exposure (recorded at each phase change)'],
  [tick, 'phase change'],
  [line(COLOURS.axis, 1, '1 3'), 'step start'],
  [box(COLOURS.pause), 'paused'],
  [approval, 'approval'],
  [box(COLOURS.rollback, COLOURS.rollbackEdge), 'rollback (requested → finished)'],
  [box('rgba(47,158,85,0.15)'), 'observation window'],
  [line(COLOURS.threshold, 1.5, '6 4'), 'guard threshold'],
  [dot(COLOURS.ok), 'decisive measurement'],
  [dot(COLOURS.failed), 'failed measurement'],
  [diamond, 'last value'],
];

/** The legend, flowing into rows across the frame; returns its markup and height. */
export function legend(f: Frame, top: number): { svg: string; height: number } {
  const out = [`<text x="${n(f.left)}" y="${n(top + 12)}" class="title">Legend</text>`];
  let x = f.left;
  let y = top + 32;
  for (const [swatch, label] of ITEMS) {
    const width = 30 + label.length * 6.1 + 18;
    if (x + width > f.right && x > f.left) {
      x = f.left;
      y += 22;
    }
    out.push(
      `<g class="legend-item">${swatch(x, y)}<text x="${n(x + 28)}" y="${n(y + 4)}" class="label">${esc(label)}</text></g>`,
    );
    x += width;
  }
  return { svg: out.join(''), height: y - top + 14 };
}

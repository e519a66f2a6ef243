import { describe, expect, it } from 'vitest';
import { buildReportModel, renderReportHtml, renderReportSvg, thresholdBounds } from '../../src/report/index.js';
import { at, HOSTILE_ACTOR, HOSTILE_CAUSE, rolledBackStatus } from './fixture.js';

const options = { id: 'rollout/ranker', generatedAt: '2025-03-04T11:00:00.000Z' };

/** Every tag closes in order: a cheap well-formedness check (all text is escaped, so `<` only starts tags). */
function balanced(markup: string): boolean {
  const stack: string[] = [];
  const VOID = new Set(['meta', 'br', 'img', 'input', 'link', 'hr']);
  for (const [, close, name, selfClose] of markup.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const tag = name!.toLowerCase();
    if (selfClose || VOID.has(tag)) continue;
    if (!close) stack.push(tag);
    else if (stack.pop() !== tag) return false;
  }
  return stack.length === 0;
}

/** The numeric attributes of the first tag that starts with `start` (e.g. `<rect class="rollback-span"`). */
function attrsOf(markup: string, start: string): Record<string, number> {
  const tag = markup.slice(markup.indexOf(start)).split('>')[0] ?? '';
  return Object.fromEntries([...tag.matchAll(/(\w+)="(-?[\d.]+)"/g)].map(([, k, v]) => [k, Number(v)]));
}

describe('rollout report renderer (pure, on a hand-made status)', () => {
  const html = renderReportHtml(rolledBackStatus(), options);
  const svg = renderReportSvg(rolledBackStatus(), options);

  it('lists every step of the spec, with how far the rollout got', () => {
    for (const step of rolledBackStatus().steps) {
      expect(html).toContain(step);
      expect(svg).toContain(step);
    }
    expect(html).toMatch(/exposure 25%, observe 15m<\/td><td>✖ reached at \+20m, interrupted \(RolledBack\)/);
    expect(html).toMatch(/pause 10m<\/td><td>— not reached/);
  });

  it('draws exposure as a step line that rises to 5 %, then 25 %, and falls back to 0 %', () => {
    const d = /<path class="exposure-line" d="([^"]+)"/.exec(svg)?.[1];
    expect(d).toMatch(/^M[\d.]+,[\d.]+( [HV][\d.]+)+$/);
    // three changes of exposure, so three vertical moves
    expect(d!.match(/V/g)).toHaveLength(3);
    for (const label of ['5%', '25%', '0%']) expect(svg).toContain(`>${label}</text>`);
  });

  it('shades the rollback from its request to its finish, in red', () => {
    const model = buildReportModel(rolledBackStatus(), options);
    expect(model.rollback).toMatchObject({ fromMs: Date.parse(at(35)), toMs: Date.parse(at(36)), open: false });
    // the time axis runs from 72 px (start) to 972 px (36 min); the rollback covers minute 35 to 36
    const rect = attrsOf(svg, '<rect class="rollback-span"');
    expect(rect.x).toBeCloseTo(72 + (35 / 36) * 900, 0);
    expect(rect.width).toBeCloseTo(900 / 36, 0);
    expect(svg).toContain('rollback (guard): guard error-rate failed 2×');
  });

  it('marks pauses, approvals and phase changes', () => {
    expect(svg.match(/class="pause-span"/g)).toHaveLength(1 + 3); // the exposure chart and each of 3 guard panels
    expect(svg).toContain('ana approved step 2');
    expect(svg.match(/<g class="phase">/g)).toHaveLength(rolledBackStatus().timeline.length);
  });

  it('draws each guard against its threshold: dashed bounds, failed measurements in red, last values', () => {
    expect(svg).toContain('Guard error-rate');
    expect(svg.match(/class="threshold"/g)).toHaveLength(3); // max of error-rate; min and max of latency; none for a ratio
    expect(svg.match(/<g class="measurement failed">/g)).toHaveLength(2);
    expect(svg).toMatch(
      /<g class="measurement failed"><title>decisive measurement at \+33m \(step 3\): 0\.05 — Failed/,
    );
    expect(svg.match(/<g class="last-value/g)).toHaveLength(3);
    expect(svg).toContain('no data');
    expect(svg).toContain('(comparative: no line on this scale)');
  });

  it('escapes every text from the status: a hostile actor or cause stays text (XSS-safe)', () => {
    for (const out of [html, svg]) {
      expect(out).not.toMatch(/<script/i);
      expect(out).not.toMatch(/<img/i);
      expect(out).not.toContain('<dashboards>');
      expect(balanced(out)).toBe(true);
    }
    expect(html).toContain('&lt;script&gt;alert(&quot;actor&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('checking &lt;dashboards&gt; &amp; logs');
    expect(HOSTILE_ACTOR).toContain('<script>');
    expect(HOSTILE_CAUSE).toContain('<img');
  });

  it('is self-contained: no script, no external asset, and a policy that forbids both', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<(?:link|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\s(?:src|href)="/i);
    expect(svg).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('draws a live rollout up to "now", with the current step and an open pause', () => {
    const { rollback: _, ...base } = rolledBackStatus();
    const live = {
      ...base,
      phase: 'Paused' as const,
      step: 1,
      exposure: { percent: 5 },
      timeline: base.timeline.slice(0, 5),
      approvals: [],
      measurements: [],
      windows: base.windows.slice(0, 1),
      guards: base.guards.map((g) => ({ ...g, at: at(9.9) })),
    };
    const model = buildReportModel(live, { id: 'rollout/ranker', generatedAt: at(14) });
    expect(model.range).toEqual({ fromMs: Date.parse(at(0)), toMs: Date.parse(at(14)), open: true });
    expect(model.pauses).toEqual([
      expect.objectContaining({ open: true, toMs: Date.parse(at(14)), cause: 'checking <dashboards> & logs' }),
    ]);
    expect(model.steps.map((s) => s.state)).toEqual(['done', 'current', 'not reached', 'not reached', 'not reached']);
    const out = renderReportHtml(live, { id: 'rollout/ranker', generatedAt: at(14) });
    expect(out).toContain('(now, still running)');
    expect(out).not.toContain('rollback-span');
  });

  it('reads absolute bounds from threshold texts and leaves comparative ones alone', () => {
    expect(thresholdBounds('≤ 0.02')).toEqual({ max: 0.02 });
    expect(thresholdBounds('≥ 0.9')).toEqual({ min: 0.9 });
    expect(thresholdBounds('within [1e-7, 2.5]')).toEqual({ min: 1e-7, max: 2.5 });
    expect(thresholdBounds('rate ≤ 1.5× baseline at 95%')).toEqual({});
    expect(thresholdBounds('—')).toEqual({});
  });

  it('reads bounds printed with a unit back on the value’s own scale, gray zone included', () => {
    expect(thresholdBounds('≤ 5 %', 'ratio')).toEqual({ max: 0.05 });
    expect(thresholdBounds('≤ 5 % (passes ≤ 2 %)', 'ratio')).toEqual({ max: 0.05 });
    expect(thresholdBounds('≤ 200 ms', 's')).toEqual({ max: 0.2 });
    expect(thresholdBounds('within [1.5 s, 3 s]', 'ms')).toEqual({ min: 1500, max: 3000 });
  });
});

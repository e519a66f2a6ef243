import { buildReportModel, type ReportModel, type ReportOptions, type ReportStatus } from './model.js';
import { esc, formatElapsed, formatUtc, formatValue, PHASE_COLOURS } from './svg.js';
import { renderTimelineSvg, stepStateText } from './timeline-svg.js';

const CSS = `
body{margin:0;padding:24px 32px;background:#f3f5f7;color:#1d2430;font:14px/1.45 'DejaVu Sans',Helvetica,Arial,sans-serif}
main{max-width:1040px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 8px}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-size:13px;vertical-align:middle;margin-left:8px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:10px 0 16px}
dl.facts dt{color:#6b7480}dl.facts dd{margin:0}
figure{margin:0;background:#fafbfc;border:1px solid #dde1e6;border-radius:6px;overflow-x:auto}
figcaption{padding:6px 12px 10px;color:#6b7480;font-size:12.5px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td,.failed{color:#b71c1c}tr.not-reached td{color:#8a929c}
code{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12.5px}
`;

/** Data a table cell shows, escaped; `cls` for a class on the cell. */
type Cell = string | number | { text: string; cls: string };

function table(headers: string[], rows: Cell[][], rowClass: (i: number) => string = () => ''): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r, i) => {
      const cls = rowClass(i);
      const cells = r.map((c) =>
        typeof c === 'object'
          ? `<td class="${esc(c.cls)}">${esc(c.text)}</td>`
          : `<td${typeof c === 'number' ? ' class="num"' : ''}>${esc(c)}</td>`,
      );
      return `<tr${cls ? ` class="${cls}"` : ''}>${cells.join('')}</tr>`;
    })
    .join('');
  return `<table>${head}${body}</table>`;
}

/** `+1.2s (12:00:01.200 UTC)` for an ISO time, relative to the report's start. */
function when(model: ReportModel, iso: string | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isFinite(ms)
    ? `${formatElapsed(ms - model.range.fromMs)} (${new Date(ms).toISOString().slice(11, 23)} UTC)`
    : iso;
}

function header(model: ReportModel, status: ReportStatus): string {
  const facts: [string, string][] = [
    ['Rollout ID', model.id],
    ['Target', model.target],
    ['Started', formatUtc(model.range.fromMs)],
    [
      model.range.open ? 'Now' : 'Ended',
      `${formatUtc(model.range.toMs)} (${formatElapsed(model.range.toMs - model.range.fromMs)} after start)`,
    ],
    [
      'Exposure now',
      `${status.exposure.percent}%${status.exposure.cohort ? ` of ${status.exposure.cohort.attribute} in ${status.exposure.cohort.values.join(', ')}` : ''}`,
    ],
    ['Step', `${Math.min(status.step + 1, status.totalSteps)} of ${status.totalSteps}: ${status.stepDescription}`],
    ['Report generated', model.generatedAt],
  ];
  if (model.guardsAsOf) facts.push(['Guard values as of', `${model.guardsAsOf} (live, from the running window)`]);
  const badge = `<span class="badge" style="background:${PHASE_COLOURS[model.phase] ?? '#888'}">${esc(model.phase)}</span>`;
  return `<header><h1>${esc(model.name)}${badge}</h1><dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></header>`;
}

function stepsSection(model: ReportModel): string {
  const rows = model.steps.map((s) => [s.index + 1, s.description, stepStateText(s, model)]);
  const cls = (i: number) =>
    ({ interrupted: 'failed', 'not reached': 'not-reached', done: '', current: '' })[model.steps[i]?.state ?? 'done'];
  return `<section id="steps"><h2>Steps of the spec</h2>${table(['#', 'Step', 'Reached'], rows, cls)}</section>`;
}

function rollbackSection(model: ReportModel, status: ReportStatus): string {
  const rb = status.rollback;
  if (!rb) return '';
  const facts: [string, string][] = [
    ['Trigger', rb.trigger],
    ['Reason', rb.reason],
    ['By', rb.actor ?? '—'],
    ['Requested', when(model, rb.requestedAt)],
    ['Finished', rb.finishedAt ? when(model, rb.finishedAt) : 'not yet'],
    ['Undone', rb.done.length ? rb.done.join(', ') : '—'],
    [
      'Failed attempts',
      `${rb.failedAttempts}${rb.retrying ? ` — retrying ${rb.retryingWhat ?? ''}` : ''}${rb.lastError ? ` (last error: ${rb.lastError})` : ''}`,
    ],
  ];
  return `<section id="rollback"><h2 class="failed">Rollback</h2><dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></section>`;
}

function guardSections(model: ReportModel, status: ReportStatus): string {
  const out: string[] = [];
  if (status.guards.length) {
    const rows = status.guards.map((g) => [
      g.name,
      formatValue(g.value),
      g.threshold,
      g.verdict,
      g.checks ?? '—',
      g.failed ?? '—',
      g.cohort ?? '—',
      when(model, g.at),
    ]);
    out.push(
      `<h2>Guards: last values</h2>${table(['Guard', 'Last value', 'Threshold', 'Verdict', 'Checks', 'Failed', 'Cohort', 'At'], rows, (i) => (status.guards[i]?.verdict === 'Failed' ? 'failed' : ''))}`,
    );
  }
  if (status.measurements.length) {
    const rows = status.measurements.map((m) => [
      m.guard,
      m.step,
      formatValue(m.value),
      m.threshold,
      m.verdict,
      m.detail,
      when(model, m.at),
    ]);
    out.push(
      `<h2>Decisive measurements</h2>${table(['Guard', 'Step', 'Value', 'Threshold', 'Verdict', 'Detail', 'At'], rows, (i) => (status.measurements[i]?.verdict === 'Failed' ? 'failed' : ''))}`,
    );
  }
  if (status.windows.length) {
    const rows = status.windows.map((w) => [
      w.step,
      when(model, w.startedAt),
      when(model, w.endedAt),
      w.checks,
      w.outcome,
      w.reason,
    ]);
    out.push(
      `<h2>Observation windows</h2>${table(['Step', 'Started', 'Ended', 'Checks', 'Outcome', 'Reason'], rows, (i) => (status.windows[i]?.outcome === 'failed' ? 'failed' : ''))}`,
    );
  }
  return out.length ? `<section id="guards">${out.join('')}</section>` : '';
}

function eventsSection(model: ReportModel, status: ReportStatus): string {
  const out: string[] = [];
  if (status.approvals.length) {
    const rows = status.approvals.map((a) => [a.step, a.actor, a.comment ?? '—', when(model, a.at)]);
    out.push(`<h2>Approvals</h2>${table(['Step', 'By', 'Comment', 'At'], rows)}`);
  }
  if (status.pauseReasons.length) {
    const rows = status.pauseReasons.map((p) => [p.kind, p.reason, p.actor ?? '—', when(model, p.at)]);
    out.push(`<h2>Paused now because</h2>${table(['Kind', 'Reason', 'By', 'Since'], rows)}`);
  }
  const rows = status.timeline.map((t) => [
    when(model, t.at),
    t.phase,
    t.step,
    `${t.exposure}%`,
    t.cause,
    t.actor ?? '—',
  ]);
  out.push(
    `<h2>Phase changes</h2>${table(['At', 'Phase', 'Step', 'Exposure', 'Cause', 'By'], rows, (i) => (status.timeline[i]?.phase === 'RollingBack' ? 'failed' : ''))}`,
  );
  return `<section id="events">${out.join('')}</section>`;
}

/**
 * A self-contained HTML report of one rollout: the timeline picture as inline SVG (exposure, phases, pauses,
 * approvals, rollback, one panel per guard), then the steps, rollback, guards and phase changes as tables. No
 * script, no external asset; a Content-Security-Policy forbids both. Every text from the status is escaped.
 */
export function renderReportHtml(status: ReportStatus, options: ReportOptions): string {
  const model = buildReportModel(status, options);
  const svg = renderTimelineSvg(model, { standalone: false });
  const caption =
    'Exposure is drawn as recorded at each phase change. Guard panels show only what the rollout keeps: the ' +
    'measurements that changed a decision (dots) and each guard’s last value (◇); routine checks are counted, not stored. ' +
    'Hover marks for details.';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(`Rollout report: ${model.name} (${model.id}) — ${model.phase}`)}</title>`,
    `<style>${CSS}</style></head><body><main>`,
    header(model, status),
    `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`,
    stepsSection(model),
    rollbackSection(model, status),
    guardSections(model, status),
    eventsSection(model, status),
    '</main></body></html>',
    '',
  ].join('\n');
}

/** The same timeline as a standalone SVG document (heading and step list included); no script, text escaped. */
export function renderReportSvg(status: ReportStatus, options: ReportOptions): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderTimelineSvg(buildReportModel(status, options), { standalone: true })}\n`;
}

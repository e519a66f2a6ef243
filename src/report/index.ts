/** The rollout report: a timeline picture of one rollout, as self-contained HTML or SVG. */
export { renderReportHtml, renderReportSvg } from './render.js';
export { buildReportModel, thresholdBounds, type ReportModel, type ReportOptions, type ReportStatus } from './model.js';

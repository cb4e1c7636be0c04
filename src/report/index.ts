/** Public surface of the report stage: the `tcpmortem/1` contract and its renderers. */
export { SCHEMA } from './model.ts';
export type { AnalysisReport, CaptureFacts, InterfaceFacts, WarningFacts } from './model.ts';
export { prepareRenderer, renderHtml } from './render-html.ts';
export type { RenderHtmlOptions } from './render-html.ts';
export { renderSummary } from './render-summary.ts';
export type { SummaryOptions } from './render-summary.ts';
export { anonymizeReport } from './anonymize.ts';
export { sanitizeJson } from './sanitize-json.ts';
export { buildReportView, DEFAULT_VIEW_OPTIONS } from './view-model.ts';
export type { ReportView, ReportViewOptions } from './view-model.ts';
export { batchChunks, indentLines, JSON_CHUNK_CHARS, reportJsonChunks, reportJsonDocument, writeReportJson } from './json-writer.ts';
export { MappedFlowList } from './flow-list.ts';
export { PagedJsonFlowList, readResult, ResultFormatError } from './read-result.ts';

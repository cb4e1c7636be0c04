/**
 * The `tcpmortem/1-audit` JSON document that `analyze --json` prints for several captures:
 * `{ schema, tool, results: [AuditEntry...], totals }`, written to stdout entry by entry as the
 * captures are analysed, each entry's report streamed one flow at a time with backpressure.
 * Byte for byte what `JSON.stringify(document, null, 2)` would give.
 */
import type { AnalysisReport } from '../report/model.ts';
import { batchChunks, indentLines, reportJsonChunks } from '../report/index.ts';
import { auditTotals } from './format.ts';
import type { AuditRow } from './format.ts';
import { writeToStdout } from './output.ts';
import { VERSION } from '../version.ts';

/** Schema id of the JSON document `analyze --json` prints for several captures. */
export const AUDIT_SCHEMA = 'tcpmortem/1-audit';

/** One capture's entry in the `tcpmortem/1-audit` document. */
export type AuditEntry =
  | { readonly file: string; readonly status: 'ok'; readonly report: AnalysisReport }
  | { readonly file: string; readonly status: 'unusable' | 'not_read'; readonly error: string };

/** `JSON.stringify(value, null, 2)` indented by `depth` more spaces, to nest it in a streamed document. */
function nestedJson(value: unknown, depth: number): string {
  const pad = ' '.repeat(depth);
  return pad + indentLines(JSON.stringify(value, null, 2), pad);
}

/**
 * The pieces of `nestedJson(entry, depth)`, with an ok entry's report streamed one flow at a time
 * by `reportJsonChunks` instead of stringified whole (same text, byte for byte).
 */
function* auditEntryPieces(entry: AuditEntry, depth: number): Generator<string, void, undefined> {
  if (entry.status !== 'ok') {
    yield nestedJson(entry, depth);
    return;
  }
  const pad = ' '.repeat(depth);
  let first = true;
  for (const [key, value] of Object.entries(entry)) {
    yield `${first ? `${pad}{` : ','}\n${pad}  ${JSON.stringify(key)}: `;
    first = false;
    if (key === 'report') yield* reportJsonChunks(value as AnalysisReport, depth + 2);
    else yield indentLines(JSON.stringify(value, null, 2), `${pad}  `);
  }
  yield `\n${pad}}`;
}

/**
 * Writes the `tcpmortem/1-audit` JSON document to stdout as results arrive: one document,
 * `{ schema, tool, results: [AuditEntry...], totals }`, so memory holds one report at a time, and
 * each report is streamed with backpressure (see `writeToStdout`).
 */
export class AuditJsonWriter {
  private count = 0;

  constructor() {
    process.stdout.write(`{\n  "schema": ${JSON.stringify(AUDIT_SCHEMA)},\n  "tool": ${JSON.stringify({ name: 'tcpmortem', version: VERSION })},\n  "results": [`);
  }

  async entry(entry: AuditEntry): Promise<void> {
    const separator = this.count++ === 0 ? '\n' : ',\n';
    await writeToStdout(batchChunks(withFirst(separator, auditEntryPieces(entry, 4))));
  }

  end(rows: readonly AuditRow[]): void {
    process.stdout.write(`${this.count > 0 ? '\n  ' : ''}],\n  "totals": ${indentLines(JSON.stringify(auditTotals(rows), null, 2), '  ')}\n}\n`);
  }
}

function* withFirst(first: string, rest: Iterable<string>): Generator<string, void, undefined> {
  yield first;
  yield* rest;
}

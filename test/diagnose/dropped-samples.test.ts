/**
 * The store drops the segment samples of routine flows past the first few
 * (`keepRoutineSamplesOfFirstFlows`, see isRoutine in src/tcp/flow-store.ts), so on a busy capture
 * most flows reach the detectors without samples. Findings must not depend on that: the same
 * findings when every routine flow keeps its samples and when none does. Two detectors did depend
 * on it: `tuple-reuse` read an accepted reuse as "no-answer" (and warned), and `half-close` missed
 * a half-close that was otherwise routine.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../src/diagnose/index.ts';
import { analyzeFile, CAPTURES_DIR, CORPUS_DIR, corpusPresent } from '../support/analyze-file.ts';

function capturesIn(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...capturesIn(p));
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** What a finding says, without its evidence frames (a flow without samples names fewer). */
function said(findings: readonly Finding[]): unknown[] {
  return findings.map((f) => ({ id: f.id, severity: f.severity, endpoint: f.endpoint, summary: f.summary, count: f.count, flows: f.flows, firstTs: f.firstTs, lastTs: f.lastTs }));
}

async function compare(file: string): Promise<void> {
  let kept;
  try {
    kept = await analyzeFile(file, { flow: { keepRoutineSamplesOfFirstFlows: 1_000_000 } });
  } catch {
    return; // not a capture (the corpus has a few on purpose)
  }
  const dropped = await analyzeFile(file, { flow: { keepRoutineSamplesOfFirstFlows: 0 } });
  assert.deepEqual(said(dropped.findings), said(kept.findings), file);
}

describe('findings do not depend on which routine flows kept their segment samples', () => {
  for (const file of capturesIn(CAPTURES_DIR)) it(file.slice(CAPTURES_DIR.length + 1), () => compare(file));

  it('shared corpus', { skip: corpusPresent ? false : `no corpus at ${CORPUS_DIR}` }, async () => {
    for (const file of capturesIn(CORPUS_DIR)) await compare(file);
  });
});

/**
 * `--jobs N` (src/parallel): flow tracking sharded over worker threads gives the same result as
 * one thread, byte for byte, on every committed capture, on a synthetic capture busy enough for
 * idle timeouts, lingering closes, incarnations and the "keep samples of the first flows" rule to
 * cross shards, and on the shared corpus; bad input ends the same way and leaves no thread behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { analyze } from '../../src/analyze.ts';
import type { AnalyzeOptions } from '../../src/analyze.ts';
import { CaptureFormatError } from '../../src/capture/index.ts';
import { sampledSegmentCount, scanFlows } from '../../src/tcp/index.ts';
import { CAPTURES_DIR, CORPUS_DIR, corpusPresent, REPO_ROOT } from '../support/analyze-file.ts';
import { conversationsPcap } from '../support/synthetic-capture.ts';

async function run(bytes: Uint8Array, jobs: number, extra: Partial<AnalyzeOptions> = {}): Promise<string> {
  const report = await analyze(Readable.from([bytes]), { file: 'x', jobs, ...extra });
  return JSON.stringify(report);
}

/** A pcap of `conversations` generated connections (fixed seed), with tuple reuse and RSTs. */
function syntheticCapture(conversations: number): Uint8Array {
  return conversationsPcap({
    seed: 99,
    conversations,
    concurrency: 64,
    snapLength: 96,
    rstRate: 0.1,
    retransmitRate: 0.05,
    synRetransmitRate: 0.05,
    exchanges: [1, 2],
    responseBytes: [100, 4000],
    // Gaps long enough that some conversations idle out or linger across sweeps.
    meanGapMicros: 200_000,
  });
}

describe('--jobs gives the result of one thread', () => {
  for (const file of readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.pcap')).sort()) {
    it(file, async () => {
      const bytes = readFileSync(join(CAPTURES_DIR, file));
      assert.equal(await run(bytes, 2), await run(bytes, 1));
    });
  }

  it('on 3 000 generated connections, with 2 and 3 shards and short timeouts', async () => {
    const bytes = syntheticCapture(3000);
    // Short idle and linger timeouts make every sweep matter; a keep limit of 5 crosses shards.
    const flow = { idleTimeoutSeconds: 0.2, lingerSeconds: 0.5, finalLingerSeconds: 0.1, keepRoutineSamplesOfFirstFlows: 5 };
    const one = await run(bytes, 1, { flow });
    const parsed = JSON.parse(one) as { flows: { closeReason: string; previous?: unknown }[] };
    assert.ok(parsed.flows.length >= 3000, `${parsed.flows.length} flows`);
    assert.ok(parsed.flows.some((f) => f.closeReason === 'idle_timeout'), 'some flows idle out');
    assert.equal(await run(bytes, 2, { flow }), one);
    assert.equal(await run(bytes, 3, { flow }), one);
  });

  // The diagnosis pre-pass trusts a summary's sample count instead of decoding the samples; a
  // merged list decides per global id which shard-kept samples it drops, so check it there too.
  it('merged summaries know how many samples they hold', async () => {
    const bytes = syntheticCapture(3000);
    for (const jobs of [1, 2, 3]) {
      const report = await analyze(Readable.from([bytes]), { file: 'x', jobs, skipDiagnosis: true, flow: { keepRoutineSamplesOfFirstFlows: 5 } });
      let sampled = 0;
      scanFlows(report.flows, (f) => {
        assert.equal(sampledSegmentCount(f), f.segments.length, `jobs ${jobs}, flow ${f.id}`);
        if (f.segments.length > 0) sampled++;
      });
      assert.ok(sampled > 5 && sampled < report.flows.length, `jobs ${jobs}: ${sampled} flows with samples`);
    }
  });

  it('a capture cut mid-record: the same partial result', async () => {
    const bytes = readFileSync(join(CAPTURES_DIR, 'churn.pcap'));
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
    const one = await run(cut, 1);
    assert.ok((JSON.parse(one) as { capture: { partial: boolean } }).capture.partial);
    assert.equal(await run(cut, 2), one);
  });

  it('not a capture: the same typed error, and the shards are stopped', async () => {
    const bytes = readFileSync(join(REPO_ROOT, 'fixtures', 'malformed', 'not-a-capture.pcap'));
    await assert.rejects(run(bytes, 2), CaptureFormatError);
  });

  it('the shared corpus', { skip: corpusPresent ? false : '../shared/corpus not found: corpus suite skipped' }, async () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(e)) files.push(p);
      }
    };
    walk(CORPUS_DIR);
    // The 25 largest captures (most connections): each run starts worker threads, so all 80 would
    // cost a minute of CI for little more coverage.
    const largest = files.sort((a, b) => statSync(b).size - statSync(a).size || a.localeCompare(b)).slice(0, 25);
    let compared = 0;
    for (const p of largest) {
      const bytes = readFileSync(p);
      let one: string;
      try {
        one = await run(bytes, 1);
      } catch (error) {
        await assert.rejects(run(bytes, 2), (e: unknown) => (e as Error).message === (error as Error).message);
        continue;
      }
      assert.equal(await run(bytes, 2), one, p);
      compared++;
    }
    assert.ok(compared >= 20, `${compared} captures compared`);
  });
});

/**
 * The same segment captured twice is a capture artefact, not a retransmission: copies are dropped
 * before flow tracking and counted; genuine retransmissions (later, new IP id / timestamp) are not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuplicateFilter } from '../../src/dedupe/duplicate-filter.ts';
import { createTcpSegment, TCP_SYN } from '../../src/decode/types.ts';
import { analyzeFile, CORPUS_DIR, corpusPresent } from '../support/analyze-file.ts';

function syn(ipId: number, tsVal: number) {
  const seg = createTcpSegment();
  seg.ipVersion = 4;
  seg.src2 = 0xffff;
  seg.src3 = 0x0a000001;
  seg.dst2 = 0xffff;
  seg.dst3 = 0x0a000002;
  seg.srcPort = 40000;
  seg.dstPort = 80;
  seg.seq = 1000;
  seg.flags = TCP_SYN;
  seg.window = 64240;
  seg.ipId = ipId;
  seg.hasTimestamps = true;
  seg.tsVal = tsVal;
  return seg;
}

describe('duplicate frames', () => {
  it('a copy within the window is a duplicate; the original is not', () => {
    const f = new DuplicateFilter();
    assert.equal(f.isDuplicate(syn(7, 100), 1000, 0), false);
    assert.equal(f.isDuplicate(syn(7, 100), 1000, 5000), true);
    assert.equal(f.duplicates, 1);
  });

  it('a retransmission (new IP id and timestamp, or a second later) is not a duplicate', () => {
    const f = new DuplicateFilter();
    assert.equal(f.isDuplicate(syn(7, 100), 1000, 0), false);
    assert.equal(f.isDuplicate(syn(8, 1100), 1001, 0), false);
    assert.equal(f.isDuplicate(syn(8, 1100), 1002, 500_000_000), false, 'identical but 1.5 s later: a retransmission');
    assert.equal(f.duplicates, 0);
  });

  it('a copy stamped slightly before the original (two interfaces, two clocks) is still a copy', () => {
    const f = new DuplicateFilter();
    assert.equal(f.isDuplicate(syn(7, 100), 1000, 500_000), false);
    assert.equal(f.isDuplicate(syn(7, 100), 1000, 495_000), true);
  });

  it('the window spans a second boundary exactly', () => {
    const f = new DuplicateFilter();
    assert.equal(f.isDuplicate(syn(7, 100), 1000, 999_999_000), false);
    assert.equal(f.isDuplicate(syn(7, 100), 1001, 1_000), true);
  });

  it('a capture with every packet captured twice shows no retransmission', { skip: corpusPresent ? false : '../shared/corpus not found' }, async () => {
    // ctu-64702-888: every frame twice (README); tshark counts each copy as a retransmission.
    const r = await analyzeFile(join(CORPUS_DIR, 'zeek/tcp/ctu-64702-888.pcap'));
    assert.equal(r.capture.anomalies['duplicate_frame'], 8);
    const flow = r.flows.at(0);
    assert.ok(flow);
    assert.equal(flow.counts.synAckRetransmissions, 0);
    assert.ok(!r.findings.some((f) => f.id === 'synack-retransmit'));
  });
});

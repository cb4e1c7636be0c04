/** The flow table and key: one entry per conversation, both directions, IPv4/IPv6/VLAN apart. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTcpSegment } from '../../src/decode/types.ts';
import type { TcpSegment } from '../../src/decode/types.ts';
import { FlowTable, flowHash, seqAdd, seqDiff, seqGt, seqLt, relativeSeq } from '../../src/flow/index.ts';
import type { FlowTableEntry } from '../../src/flow/index.ts';

class Entry implements FlowTableEntry<Entry> {
  c0 = 0; c1 = 0; c2 = 0; c3 = 0; cPort = 0;
  s0 = 0; s1 = 0; s2 = 0; s3 = 0; sPort = 0;
  vlan = -1;
  hash = 0;
  chainNext: Entry | null = null;
  constructor(seg: TcpSegment) {
    this.c0 = seg.src0; this.c1 = seg.src1; this.c2 = seg.src2; this.c3 = seg.src3; this.cPort = seg.srcPort;
    this.s0 = seg.dst0; this.s1 = seg.dst1; this.s2 = seg.dst2; this.s3 = seg.dst3; this.sPort = seg.dstPort;
    this.vlan = seg.vlanKey;
    this.hash = flowHash(seg);
  }
}

function seg4(src: number, sport: number, dst: number, dport: number, vlan = -1): TcpSegment {
  const s = createTcpSegment();
  s.src2 = 0xffff; s.src3 = src; s.srcPort = sport;
  s.dst2 = 0xffff; s.dst3 = dst; s.dstPort = dport;
  s.vlanKey = vlan;
  return s;
}

function reverse(s: TcpSegment): TcpSegment {
  const r = createTcpSegment();
  r.src0 = s.dst0; r.src1 = s.dst1; r.src2 = s.dst2; r.src3 = s.dst3; r.srcPort = s.dstPort;
  r.dst0 = s.src0; r.dst1 = s.src1; r.dst2 = s.src2; r.dst3 = s.src3; r.dstPort = s.srcPort;
  r.vlanKey = s.vlanKey;
  return r;
}

describe('flow key and table', () => {
  it('finds the same entry from both directions', () => {
    const table = new FlowTable<Entry>();
    const a = seg4(0x0a000001, 40000, 0x0a000002, 80);
    const e = new Entry(a);
    table.insert(e);
    assert.equal(flowHash(a), flowHash(reverse(a)));
    assert.equal(table.lookup(a, flowHash(a)), e);
    assert.equal(table.lookup(reverse(a), flowHash(reverse(a))), e);
  });

  it('keeps other ports, VLANs and IPv6 addresses apart', () => {
    const table = new FlowTable<Entry>();
    const a = seg4(0x0a000001, 40000, 0x0a000002, 80);
    table.insert(new Entry(a));
    const otherPort = seg4(0x0a000001, 40001, 0x0a000002, 80);
    const otherVlan = seg4(0x0a000001, 40000, 0x0a000002, 80, 7);
    const v6 = createTcpSegment();
    v6.src0 = 0x20010db8; v6.src3 = 1; v6.srcPort = 40000;
    v6.dst0 = 0x20010db8; v6.dst3 = 2; v6.dstPort = 80;
    for (const s of [otherPort, otherVlan, v6]) assert.equal(table.lookup(s, flowHash(s)), undefined);
    // Mirrored ports between the same hosts are a different conversation.
    const mirrored = seg4(0x0a000001, 80, 0x0a000002, 40000);
    assert.equal(table.lookup(mirrored, flowHash(mirrored)), undefined);
  });

  it('survives forced hash collisions (chains compared field by field) and removes cleanly', () => {
    const table = new FlowTable<Entry>();
    const entries: Entry[] = [];
    for (let i = 0; i < 50; i++) {
      const e = new Entry(seg4(0x0a000001, 1000 + i, 0x0a000002, 80));
      e.hash = 42; // every entry in one bucket
      entries.push(e);
      table.insert(e);
    }
    assert.equal(table.size, 50);
    const probe = seg4(0x0a000002, 80, 0x0a000001, 1025);
    assert.equal(table.lookup(probe, 42), entries[25]);
    assert.equal(table.remove(entries[25]!), true);
    assert.equal(table.remove(entries[25]!), false);
    assert.equal(table.lookup(probe, 42), undefined);
    assert.equal(table.remove(entries[49]!), true); // the chain head
    assert.equal(table.size, 48);
    assert.equal(table.values().length, 48);
  });
});

describe('sequence arithmetic', () => {
  it('compares and subtracts across 2^32', () => {
    assert.equal(seqDiff(5, 0xfffffffb), 10);
    assert.equal(seqDiff(0xfffffffb, 5), -10);
    assert.ok(seqLt(0xfffffff0, 0x10));
    assert.ok(seqGt(0x10, 0xfffffff0));
    assert.equal(seqAdd(0xffffffff, 2), 1);
    assert.equal(relativeSeq(0x10, 0xfffffff0), 0x20);
  });
});

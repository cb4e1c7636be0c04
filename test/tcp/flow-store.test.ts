/**
 * The compact flow store (src/tcp/flow-store.ts): what it gives back equals what the tracker's
 * record path gives, for every kind of value a record holds (numbers past 2^32, IPv6, VLANs,
 * clocks going backwards, samples, previous incarnations); it is slot-addressed and in id order;
 * a pooled FlowState is indistinguishable from a new one; and it stays compact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlowState } from '../../src/tcp/flow-state.ts';
import { addressKeyText, clientAddressKey, FlowStore, FlowTracker, sampledSegmentCount, scanFlows, serverAddressKey } from '../../src/tcp/index.ts';
import type { FlowList, FlowRecord, FlowSummary } from '../../src/tcp/index.ts';
import { createTcpSegment, DecodeStatus } from '../../src/decode/types.ts';
import { decodePacket } from '../../src/decode/index.ts';
import { readCapture } from '../../src/capture/index.ts';
import { CAPTURES_DIR } from '../support/analyze-file.ts';
import { fillSegment, Harness } from './helpers.ts';

/** Feeds a capture to two trackers: one emitting records, one filling a store. */
async function bothPaths(path: string, pageBytes?: number): Promise<{ records: FlowRecord[]; store: FlowStore }> {
  const records: FlowRecord[] = [];
  const store = new FlowStore({ tsPrecisionDigits: 6, keepRoutineSamplesOfFirstFlows: 64, ...(pageBytes === undefined ? {} : { pageBytes }) });
  const a = new FlowTracker({ tsPrecisionDigits: 6 }, (f) => records.push(f));
  const b = new FlowTracker({ tsPrecisionDigits: 6 }, store);
  const seg = createTcpSegment();
  await readCapture(createReadStream(path), {
    record(rec) {
      if (decodePacket(rec.linkType, rec.data, seg, rec.originalLength) !== DecodeStatus.TCP) return;
      a.add(seg, rec.frameNumber, rec.tsSec, rec.tsNanos);
      b.add(seg, rec.frameNumber, rec.tsSec, rec.tsNanos);
    },
  });
  a.finish();
  b.finish();
  records.sort((x, y) => x.id - y.id);
  return { records, store };
}

/** Fields a summary leaves out (ISO texts, Zeek continuations) or gives without `ts` (transitions). */
const NOT_IN_SUMMARY = new Set(['start', 'end', 'transitions', 'zeekContinuations']);

/**
 * Every summary `scan` hands out says what the record at its position says: each field but the
 * ISO texts, transitions without `ts`, address keys naming the record's addresses. Records are
 * built during the visits (as the diagnosis does), which must leave the summary intact.
 */
function assertSummariesMatch(list: FlowList): void {
  let visits = 0;
  // The summary's values of the record's fields, as plain data (its endpoints are objects with an `ip` getter).
  const plain = (summary: FlowSummary, record: FlowRecord): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      if (NOT_IN_SUMMARY.has(key)) continue;
      const value = (summary as unknown as Record<string, unknown>)[key];
      out[key] = key === 'client' || key === 'server' ? { ip: summary[key].ip, port: summary[key].port } : value;
    }
    return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
  };
  scanFlows(list, (summary: FlowSummary, position) => {
    visits++;
    const first = list.at(position);
    assert.ok(first !== undefined, `a record at ${position}`);
    const before = plain(summary, first);
    const record = list.at(position)!;
    assert.deepEqual(plain(summary, record), before, 'building a record leaves the summary alone');
    const expected: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) if (!NOT_IN_SUMMARY.has(key)) expected[key] = value;
    assert.deepEqual(before, JSON.parse(JSON.stringify(expected)), `flow ${record.id}`);
    assert.deepEqual(
      summary.transitions.map((t) => ({ frame: t.frame, tSeconds: t.tSeconds, side: t.side, from: t.from, to: t.to, inferred: t.inferred })),
      record.transitions.map(({ ts: _ts, ...t }) => t),
      `flow ${record.id}: transitions`,
    );
    assert.equal(addressKeyText(clientAddressKey(summary)), record.client.ip);
    assert.equal(addressKeyText(serverAddressKey(summary)), record.server.ip);
    assert.equal(sampledSegmentCount(summary), record.segments.length, `flow ${record.id}: sampled segments`);
  });
  assert.equal(visits, list.length, 'one visit per flow');
}

describe('flow store', () => {
  for (const file of readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.pcap')).sort()) {
    it(`gives back the tracker's records, in id order: ${file}`, async () => {
      const { records, store } = await bothPaths(join(CAPTURES_DIR, file));
      assert.equal(store.length, records.length);
      assert.equal(store.size, records.length, 'every slot filled');
      assert.deepEqual([...store], records);
      assert.deepEqual(JSON.parse(JSON.stringify(store)), JSON.parse(JSON.stringify(records)));
      for (let i = 0; i < store.length; i++) assert.equal(store.at(i)?.id, i + 1);
      assert.equal(store.at(-1), undefined);
      assert.equal(store.at(store.length), undefined);
      assert.notEqual(store.at(0), store.at(0), 'a fresh record on every access');
      assertSummariesMatch(store);
    });
  }

  it('gives back every record when records cross page ends (written in place, moved when they outgrow a page)', async () => {
    // 200-byte pages: most records start near a page end and move as they are written; records
    // longer than a page (samples, many transitions) get a page of their own.
    // half-close.pcap's one record (413 bytes) is longer than a page.
    for (const file of ['churn.pcap', 'syn-flood.pcap', 'accept-overflow-drop.pcap', 'half-close.pcap']) {
      const { records, store } = await bothPaths(join(CAPTURES_DIR, file), 200);
      assert.ok(store.encodedBytes > 2 * 200, `${file}: records span pages`);
      assert.deepEqual([...store], records, file);
      assertSummariesMatch(store);
    }
  });

  it('names every host right when hosts outnumber the address cache (200,000 clients, 65,536 slots)', () => {
    // Each slot keeps the first address that took it; a host hashed to a taken slot is formatted
    // every time. Either way its text must be its own.
    const store = new FlowStore({ tsPrecisionDigits: 6, keepRoutineSamplesOfFirstFlows: 0 });
    const tracker = new FlowTracker({ tsPrecisionDigits: 6 }, store);
    const seg = createTcpSegment();
    const clients = 200_000;
    const server = { ip: 0xc0000250, port: 80 };
    for (let i = 0; i < clients; i++) {
      // SYN and SYN-ACK: answered, so no SYN-flood folding.
      const client = { ip: 0x0a000000 + i, port: 40_000 };
      fillSegment(seg, { from: 'c', flags: 'S', seq: i }, client, server);
      tracker.add(seg, 2 * i + 1, 1_700_000_000, i * 1000);
      fillSegment(seg, { from: 's', flags: 'SA', seq: 7, ack: i + 1 }, client, server);
      tracker.add(seg, 2 * i + 2, 1_700_000_000, i * 1000 + 1);
    }
    tracker.finish();
    assert.equal(store.length, clients);
    const text = (ip: number): string => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
    // Twice over, so the second pass meets the slots the first one filled.
    for (let pass = 0; pass < 2; pass++) {
      let i = 0;
      for (const flow of store) {
        assert.equal(flow.client.ip, text(0x0a000000 + i), `flow ${flow.id}`);
        assert.equal(flow.server.ip, '192.0.2.80');
        i++;
      }
    }
  });

  it('keeps numbers past 2^32, IPv6, VLAN keys, backwards clocks and previous incarnations exactly', () => {
    const store = new FlowStore({ tsPrecisionDigits: 9, keepRoutineSamplesOfFirstFlows: 0 });
    const viaRecords: FlowRecord[] = [];
    const t1 = new FlowTracker({ tsPrecisionDigits: 9 }, (f) => viaRecords.push(f));
    const t2 = new FlowTracker({ tsPrecisionDigits: 9 }, store);
    const seg = createTcpSegment();
    const feed = (frame: number, sec: number, nanos: number, fill: () => void): void => {
      fill();
      t1.add(seg, frame, sec, nanos);
      t2.add(seg, frame, sec, nanos);
    };
    const v6 = (fromServer = false): void => {
      seg.ipVersion = 6;
      seg.src0 = 0x20010db8; seg.src1 = 0; seg.src2 = 0; seg.src3 = fromServer ? 2 : 1;
      seg.dst0 = 0x20010db8; seg.dst1 = 0; seg.dst2 = 0; seg.dst3 = fromServer ? 1 : 2;
      seg.vlanKey = 4095;
    };
    const big = 2 ** 40; // frame numbers past 2^32
    feed(big, 1_700_000_000, 999_999_999, () => { fillSegment(seg, { from: 'c', flags: 'S', seq: 0xfffffff0 }); v6(); });
    feed(big + 1, 1_700_000_001, 5, () => { fillSegment(seg, { from: 's', flags: 'SA', seq: 7, ack: 0xfffffff1 }); v6(true); });
    // The clock steps back by two seconds; the record keeps the raw times.
    feed(big + 2, 1_699_999_999, 1, () => { fillSegment(seg, { from: 'c', flags: 'A', seq: 0xfffffff1, ack: 8 }); v6(); });
    // 65 000-byte segments (TSO-sized, from origlen) until the client has sent more than 2^32 bytes.
    let seq = 0xfffffff1;
    for (let i = 0; i < 70_000; i++) {
      feed(big + 3 + i, 1_700_000_002, i, () => { fillSegment(seg, { from: 'c', flags: 'PA', seq, ack: 8, len: 65_000 }); v6(); });
      seq = (seq + 65_000) >>> 0;
    }
    feed(big + 80_000, 1_700_000_003, 0, () => { fillSegment(seg, { from: 'c', flags: 'R', seq }); v6(); });
    // A second incarnation on the same tuple: `previous` is set.
    feed(big + 80_001, 1_700_000_004, 0, () => { fillSegment(seg, { from: 'c', flags: 'S', seq: 1234 }); v6(); });
    t1.finish();
    t2.finish();
    viaRecords.sort((a, b) => a.id - b.id);
    const stored = [...store];
    assert.deepEqual(stored, viaRecords);
    const first = stored[0]!;
    assert.equal(first.firstFrame, big);
    assert.equal(first.client.ip, '2001:db8::1');
    assert.equal(first.vlan, 4095);
    assert.ok(first.counts.dataBytesClient > 2 ** 32, `dataBytesClient ${first.counts.dataBytesClient}`);
    assert.equal(first.counts.dataBytesClient, 70_000 * 65_000);
    assert.ok(first.transitions.some((t) => t.ts < first.start), 'a transition stamped before the start (clock stepped back)');
    // Both paths decode the same bytes: the exact time of the step back is checked against its
    // value (a delta of -2 s in ns, past 2^31 once zigzagged, takes the reader's non-int32 path).
    const stepped = first.transitions.find((t) => t.frame === big + 2);
    assert.equal(stepped?.ts, '2023-11-14T22:13:19.000000001Z');
    assert.equal(first.server.ip, '2001:db8::2');
    assert.equal(stored.length, 2, JSON.stringify(stored.map((f) => [f.id, f.closeReason, f.incarnation])));
    assert.equal(stored[1]?.previous?.flowId, 1);
    assertSummariesMatch(store);
  });

  it('keeps times exactly when a flow spans more than 2^20 seconds (the raw time encoding)', () => {
    const h = new Harness({ idleTimeoutSeconds: 1e9, tsPrecisionDigits: 9 });
    const store = new FlowStore({ tsPrecisionDigits: 9, keepRoutineSamplesOfFirstFlows: 64 });
    const t2 = new FlowTracker({ idleTimeoutSeconds: 1e9, tsPrecisionDigits: 9 }, store);
    const send = (spec: Parameters<Harness['send']>[0], advanceMs: number): void => {
      fillSegment(h.seg, spec);
      t2.add(h.seg, h.frame + 1, h.tSec, h.tNanos);
      h.send(spec, advanceMs);
    };
    send({ from: 'c', flags: 'S', seq: 1 }, 1.5e-6); // 1.5 µs: not whole microseconds
    send({ from: 's', flags: 'SA', seq: 9, ack: 2 }, 40 * 86400 * 1000); // 40 days later
    send({ from: 'c', flags: 'A', seq: 2, ack: 10 }, 10);
    t2.finish();
    assert.deepEqual([...store], h.finish());
  });

  it('a reset FlowState equals a new one (pooled states carry nothing over)', () => {
    const h = new Harness();
    // Drive one flow through retransmissions, samples past the head, a FIN exchange and a RST.
    h.send({ from: 'c', flags: 'S', seq: 100 });
    h.send({ from: 'c', flags: 'S', seq: 100 });
    h.send({ from: 's', flags: 'SA', seq: 500, ack: 101 });
    h.send({ from: 'c', flags: 'A', seq: 101, ack: 501 });
    for (let i = 0; i < 80; i++) h.send({ from: 'c', flags: 'PA', seq: 101 + i * 10, ack: 501, len: 10 });
    h.send({ from: 'c', flags: 'FA', seq: 901, ack: 501 });
    h.send({ from: 's', flags: 'R', seq: 501 }, 60_000);
    // A minute later the clock sweeps the closed flow out of the table (finish would empty the
    // pool). Reach into the pool through the tracker's internals.
    h.tracker.tick(h.tSec, h.tNanos);
    const pool = (h.tracker as unknown as { pool: FlowState[] }).pool;
    assert.equal(pool.length, 1);
    const used = pool[0]!;
    const fresh = new FlowState();
    const plain = (s: FlowState): unknown => {
      const { transitions, samples, ...rest } = s;
      return { ...JSON.parse(JSON.stringify(rest)), transitionsCapacityOk: transitions.length > 0, samplesCapacityOk: samples.length > 0 };
    };
    assert.deepEqual(plain(used), plain(fresh));
    h.finish();
    assert.equal(pool.length, 0, 'finish lets the pooled states go');
  });

  it('stays compact: under 300 encoded bytes per flow on the kernel churn capture', async () => {
    const { store } = await bothPaths(join(CAPTURES_DIR, 'churn.pcap'));
    const perFlow = store.encodedBytes / store.length;
    assert.ok(perFlow < 300, `${perFlow.toFixed(0)} bytes per flow`);
  });
});

/** Per-direction sequence tracking: counters a user reads in `counts`, RTT and unacked bytes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './helpers.ts';
import type { SegSpec } from './helpers.ts';

function handshake(h: Harness, cIsn = 1000, sIsn = 5000): void {
  h.send({ from: 'c', flags: 'S', seq: cIsn, ttl: 64 }, 30);
  h.send({ from: 's', flags: 'SA', seq: sIsn, ack: cIsn + 1, ttl: 57 }, 2);
  h.send({ from: 'c', flags: 'A', seq: cIsn + 1, ack: sIsn + 1 });
}

describe('sequence tracking', () => {
  it('handshake RTT split, TTL of the first packet per side', () => {
    const h = new Harness();
    handshake(h);
    const f = h.live();
    assert.deepEqual(f.rttMs, { serverSide: 30, clientSide: 2, total: 32 });
    assert.deepEqual(f.ttl, { client: 64, server: 57 });
  });

  it('keep-alive probes (0 or 1 byte at SND.NXT-1) are counted, not called retransmissions', () => {
    const h = new Harness();
    handshake(h);
    h.send({ from: 'c', flags: 'A', seq: 1000, ack: 5001 });
    h.send({ from: 's', flags: 'A', seq: 5001, ack: 1001 });
    h.send({ from: 'c', flags: 'A', seq: 1000, ack: 5001, len: 1 });
    const f = h.live();
    assert.equal(f.counts.keepaliveProbes, 2);
    assert.equal(f.counts.dataRetransmissionsClient, 0);
    assert.equal(f.counts.dataBytesClient, 0);
    assert.equal(f.segments[3]?.retransmission, 'keepalive');
  });

  it('data retransmission: starts below the highest byte sent; distinct bytes counted once', () => {
    const h = new Harness();
    handshake(h);
    h.send({ from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 100 });
    h.send({ from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 100 });
    h.send({ from: 'c', flags: 'PA', seq: 1051, ack: 5001, len: 100 }); // overlaps 50 new bytes
    const f = h.live();
    assert.equal(f.counts.dataRetransmissionsClient, 2);
    assert.equal(f.counts.dataBytesClient, 150);
    assert.equal(f.history, 'ShADT');
  });

  it('payload bytes come from payloadLength, so a 96-byte snaplen does not shrink them', () => {
    const h = new Harness();
    handshake(h);
    h.seg.capturedPayloadLength = 0;
    h.send({ from: 's', flags: 'PA', seq: 5001, ack: 1001, len: 1448 });
    assert.equal(h.live().counts.dataBytesServer, 1448);
  });

  it("duplicate ACKs (Wireshark's definition)", () => {
    const h = new Harness();
    handshake(h);
    h.send({ from: 's', flags: 'PA', seq: 5001, ack: 1001, len: 100 });
    h.send({ from: 'c', flags: 'A', seq: 1001, ack: 5101 });
    h.send({ from: 's', flags: 'PA', seq: 5201, ack: 1001, len: 100 }); // 5101..5200 lost
    h.send({ from: 'c', flags: 'A', seq: 1001, ack: 5101 });
    h.send({ from: 's', flags: 'PA', seq: 5301, ack: 1001, len: 100 });
    h.send({ from: 'c', flags: 'A', seq: 1001, ack: 5101 });
    // A window update is not a duplicate ACK.
    h.send({ from: 'c', flags: 'A', seq: 1001, ack: 5101, window: 40000 });
    assert.equal(h.live().counts.duplicateAcks, 2);
  });

  it('zero windows are counted and shown as W in the history', () => {
    const h = new Harness();
    handshake(h);
    h.send({ from: 'c', flags: 'A', seq: 1001, ack: 5001, window: 0 });
    const f = h.live();
    assert.equal(f.counts.zeroWindows, 1);
    assert.equal(f.history, 'ShAW');
  });

  it('wraparound across 2^32: bytes, relative sequence numbers and the close stay right', () => {
    const h = new Harness();
    const cIsn = 0xffffff00;
    handshake(h, cIsn, 0xfffffff0);
    let seq = (cIsn + 1) >>> 0;
    for (let i = 0; i < 4; i++) {
      h.send({ from: 'c', flags: 'PA', seq, ack: 0xfffffff1, len: 100 });
      seq = (seq + 100) >>> 0;
    }
    h.send({ from: 's', flags: 'PA', seq: 0xfffffff1, ack: seq, len: 64 }); // server wraps too
    h.send({ from: 'c', flags: 'FA', seq, ack: 0x31 });
    h.send({ from: 's', flags: 'FA', seq: 0x31, ack: (seq + 1) >>> 0 });
    h.send({ from: 'c', flags: 'A', seq: (seq + 1) >>> 0, ack: 0x32 });
    const [f] = h.finish();
    assert.ok(f);
    assert.equal(f.counts.dataBytesClient, 400);
    assert.equal(f.counts.dataBytesServer, 64);
    assert.equal(f.counts.dataRetransmissionsClient, 0);
    assert.equal(f.finalState.client, 'TIME_WAIT');
    assert.equal(f.finalState.server, 'CLOSED');
    assert.equal(f.connState, 'SF');
    assert.deepEqual(
      f.segments.filter((s) => s.from === 'client' && s.len > 0).map((s) => s.seq),
      [1, 101, 201, 301],
    );
    assert.equal(f.segments[f.segments.length - 1]?.ack, 66);
  });

  it('unacked bytes at the end: data the peer never acknowledged', () => {
    const h = new Harness();
    handshake(h);
    h.send({ from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 300 });
    h.send({ from: 's', flags: 'A', seq: 5001, ack: 1101 });
    const [f] = h.finish();
    assert.deepEqual(f?.unackedBytesAtEnd, { client: 200, server: 0 });
  });

  it('segment samples keep the first and last ones and count the rest', () => {
    const h = new Harness({ maxHeadSamples: 4, maxTailSamples: 3 });
    handshake(h);
    const specs: SegSpec[] = [];
    for (let i = 0; i < 10; i++) specs.push({ from: 'c', flags: 'PA', seq: 1001 + i * 10, ack: 5001, len: 10 });
    for (const s of specs) h.send(s);
    const [f] = h.finish();
    assert.ok(f);
    assert.deepEqual(
      f.segments.map((s) => s.frame),
      [1, 2, 3, 4, 11, 12, 13],
    );
    assert.equal(f.segmentsOmitted, 6);
    assert.equal(f.segments[0]?.flags, 'S');
    assert.equal(f.segments[1]?.flags, 'SA');
    assert.equal(f.segments[1]?.ack, 1);
  });

  it('ISO timestamps use the configured precision', () => {
    const h = new Harness({ tsPrecisionDigits: 9 }, 1704164645);
    h.tNanos = 123456789;
    h.send({ from: 'c', flags: 'S', seq: 1 });
    const [f] = h.finish();
    assert.equal(f?.start, '2024-01-02T03:04:05.123456789Z');
    const h6 = new Harness({}, 1704164645);
    h6.tNanos = 123456789;
    h6.send({ from: 'c', flags: 'S', seq: 1 });
    assert.equal(h6.finish()[0]?.transitions[0]?.ts, '2024-01-02T03:04:05.123456Z');
  });
});

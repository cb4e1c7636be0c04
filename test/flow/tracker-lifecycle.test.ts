/** Flow lifecycle in the tracker: numbering, linger, idle eviction, bounded memory. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../tcp/helpers.ts';
import type { Host } from '../tcp/helpers.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS } from '../../src/tcp/index.ts';

const SERVER: Host = { ip: 0x0a000002, port: 443 };

describe('flow lifecycle', () => {
  it('numbers flows 1.. in order of first packet, whatever order they end in', () => {
    const h = new Harness();
    const a: Host = { ip: 0x0a000001, port: 50001 };
    const b: Host = { ip: 0x0a000003, port: 50002 };
    h.send({ from: 'c', flags: 'S', seq: 1 }, 10, a, SERVER);
    h.send({ from: 'c', flags: 'S', seq: 2 }, 10, b, SERVER);
    h.send({ from: 's', flags: 'RA', seq: 0, ack: 3 }, 10, b, SERVER);
    h.advance(20_000);
    h.send({ from: 'c', flags: 'S', seq: 1 }, 10, a, SERVER);
    const flows = h.finish();
    assert.deepEqual(flows.map((f) => [f.id, f.client.port, f.closeReason]), [
      [1, 50001, 'end_of_capture'],
      [2, 50002, 'reset'],
    ]);
    assert.equal(h.flows[0]?.id, 2, 'the reset flow left first, after its linger');
  });

  it('late packets within the linger attach to the closed flow (retransmitted FIN)', () => {
    const h = new Harness();
    h.send({ from: 'c', flags: 'S', seq: 100 });
    h.send({ from: 's', flags: 'SA', seq: 900, ack: 101 });
    h.send({ from: 'c', flags: 'A', seq: 101, ack: 901 });
    h.send({ from: 'c', flags: 'FA', seq: 101, ack: 901 });
    h.send({ from: 's', flags: 'FA', seq: 901, ack: 102 });
    h.send({ from: 'c', flags: 'A', seq: 102, ack: 902 }, 1500);
    h.send({ from: 's', flags: 'FA', seq: 901, ack: 102 }); // last ACK lost: FIN again after an RTO
    const flows = h.finish();
    assert.equal(flows.length, 1);
    assert.equal(flows[0]?.counts.finRetransmissions, 1);
    assert.equal(flows[0]?.closeReason, 'closed');
  });

  it('a flow with both sides final leaves after finalLingerSeconds, one with a side still open after lingerSeconds', () => {
    const h = new Harness({ finalLingerSeconds: 2, lingerSeconds: 10 });
    const a: Host = { ip: 0x0a000001, port: 50001 };
    const b: Host = { ip: 0x0a000003, port: 50002 };
    // a: clean close, client TIME_WAIT and server CLOSED.
    h.send({ from: 'c', flags: 'S', seq: 100 }, 10, a, SERVER);
    h.send({ from: 's', flags: 'SA', seq: 900, ack: 101 }, 10, a, SERVER);
    h.send({ from: 'c', flags: 'A', seq: 101, ack: 901 }, 10, a, SERVER);
    h.send({ from: 'c', flags: 'FA', seq: 101, ack: 901 }, 10, a, SERVER);
    h.send({ from: 's', flags: 'FA', seq: 901, ack: 102 }, 10, a, SERVER);
    h.send({ from: 'c', flags: 'A', seq: 102, ack: 902 }, 10, a, SERVER);
    // b: an out-of-window RST closes only its sender.
    h.send({ from: 'c', flags: 'S', seq: 100 }, 10, b, SERVER);
    h.send({ from: 's', flags: 'SA', seq: 900, ack: 101, window: 100 }, 10, b, SERVER);
    h.send({ from: 'c', flags: 'A', seq: 101, ack: 901 }, 10, b, SERVER);
    h.send({ from: 'c', flags: 'R', seq: 100_000 }, 3000, b, SERVER);
    h.send({ from: 'c', flags: 'S', seq: 7 }, 10, { ip: 0x0a000009, port: 40000 }, SERVER);
    assert.deepEqual(h.flows.map((f) => f.client.port), [50001]);
    h.advance(8000);
    h.send({ from: 'c', flags: 'S', seq: 8 }, 10, { ip: 0x0a00000a, port: 40000 }, SERVER);
    assert.deepEqual(h.flows.map((f) => f.client.port), [50001, 50002]);
  });

  it('idle flows leave after idleTimeoutSeconds of packet time, counted as evicted', () => {
    const h = new Harness({ idleTimeoutSeconds: 300 });
    h.send({ from: 'c', flags: 'S', seq: 1 });
    h.advance(299_000);
    h.send({ from: 'c', flags: 'S', seq: 5 }, 10, { ip: 0x0a000009, port: 40000 }, SERVER);
    assert.equal(h.tracker.liveFlows, 2);
    h.advance(2_000);
    h.send({ from: 'c', flags: 'S', seq: 6 }, 10, { ip: 0x0a00000a, port: 40000 }, SERVER);
    assert.equal(h.flows.length, 1);
    assert.equal(h.flows[0]?.closeReason, 'idle_timeout');
    assert.equal(h.tracker.flowsEvicted, 1);
    assert.equal(h.tracker.liveFlows, 2);
  });

  it('100k SYNs from distinct tuples keep the live table bounded', () => {
    let emitted = 0;
    const h = new Harness({ idleTimeoutSeconds: 30 });
    const start = h.flows.length;
    for (let i = 0; i < 100_000; i++) {
      h.send({ from: 'c', flags: 'S', seq: i }, 1, { ip: 0x0b000000 + (i >>> 16), port: 1024 + (i & 0xffff) % 60000 }, SERVER);
      if (h.flows.length > start + 10_000) {
        emitted += h.flows.length;
        h.flows.length = 0;
      }
    }
    // 1 ms apart: at most ~30 s worth (30k) of flows are live at any moment.
    assert.ok(h.tracker.liveFlows <= 31_001, `live ${h.tracker.liveFlows}`);
    assert.equal(h.tracker.flowsCreated, 100_000);
    h.tracker.finish();
    emitted += h.flows.length;
    // Never answered: past synFloodOutstanding SYNs the listener is under a flood, and its
    // unanswered SYN-only flows are counted instead of emitted.
    const kept = DEFAULT_FLOW_TRACKER_OPTIONS.synFloodOutstanding;
    assert.equal(emitted, kept);
    assert.equal(h.tracker.folds.connections, 100_000 - kept);
  });

  it('the live-flow cap evicts the least recently active flow first', () => {
    const h = new Harness({ maxLiveFlows: 1000 });
    for (let i = 0; i < 5000; i++) {
      h.send({ from: 'c', flags: 'S', seq: i }, 1, { ip: 0x0c000000 + i, port: 40000 }, SERVER);
      assert.ok(h.tracker.liveFlows <= 1000);
    }
    assert.equal(h.tracker.flowsEvictedForCapacity, 4000);
    assert.equal(h.flows[0]?.id, 1);
  });

  it('documents its defaults in one constant', () => {
    assert.equal(DEFAULT_FLOW_TRACKER_OPTIONS.idleTimeoutSeconds, 300);
    assert.equal(DEFAULT_FLOW_TRACKER_OPTIONS.maxHeadSamples, 48);
    assert.equal(DEFAULT_FLOW_TRACKER_OPTIONS.maxTailSamples, 16);
  });

  it('superseded: a new-ISN SYN from an endpoint already past the handshake', () => {
    const h = new Harness();
    h.send({ from: 'c', flags: 'S', seq: 100 });
    h.send({ from: 's', flags: 'SA', seq: 900, ack: 101 });
    h.send({ from: 'c', flags: 'PA', seq: 101, ack: 901, len: 10 });
    h.send({ from: 'c', flags: 'S', seq: 777_777 });
    const flows = h.finish();
    assert.equal(flows.length, 2);
    assert.equal(flows[0]?.closeReason, 'superseded');
    assert.equal(flows[1]?.incarnation, 2);
    assert.equal(flows[1]?.previous?.finalState.client, 'ESTABLISHED');
  });
});

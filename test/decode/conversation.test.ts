import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DecodeStatus, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, createTcpSegment, decodePacket } from '../../src/decode/index.ts';
import { generateConversations } from '../../src/synth/conversation.ts';
import type { ConversationOptions } from '../../src/synth/conversation.ts';

function digest(options: Partial<ConversationOptions>): string {
  const hash = createHash('sha256');
  generateConversations(options, (tsSec, tsNanos, frame, originalLength) => {
    hash.update(`${tsSec}.${tsNanos}/${originalLength}:`);
    hash.update(frame);
  });
  return hash.digest('hex');
}

interface Side {
  next: number;
  fin: boolean;
}

describe('generateConversations', () => {
  it('is deterministic from the seed', () => {
    const options = { seed: 7, conversations: 50 };
    assert.equal(digest(options), digest(options));
    assert.notEqual(digest(options), digest({ ...options, seed: 8 }));
  });

  it('emits consistent TCP conversations, interleaved in timestamp order', () => {
    const seg = createTcpSegment();
    const flows = new Map<string, { client: Side; server: Side; clientKey: string; closedBy: string }>();
    let lastTime = -1;
    let maxOpen = 0;
    let open = 0;
    let retransmissions = 0;
    const summary = generateConversations(
      { seed: 3, conversations: 300, concurrency: 16, snapLength: 128, retransmitRate: 0.05, rstRate: 0.2, ipv6Fraction: 0.3 },
      (tsSec, tsNanos, frame, originalLength) => {
        assert.ok(tsNanos >= 0 && tsNanos < 1e9 && Number.isInteger(tsNanos));
        const time = tsSec * 1e9 + tsNanos;
        assert.ok(time >= lastTime, 'timestamps never go back');
        lastTime = time;
        assert.ok(frame.length <= 128 && frame.length <= originalLength);
        assert.equal(decodePacket(1, frame, seg, originalLength), DecodeStatus.TCP);
        assert.equal(seg.anomaly, '');
        const a = `${seg.src3}:${seg.srcPort}`;
        const b = `${seg.dst3}:${seg.dstPort}`;
        const key = a < b ? `${a}-${b}` : `${b}-${a}`;
        let flow = flows.get(key);
        if (flow === undefined) {
          assert.equal(seg.flags, TCP_SYN, 'a conversation starts with a SYN');
          assert.ok(seg.mss > 0 && seg.sackPermitted && seg.windowScale >= 0 && seg.hasTimestamps);
          flow = { client: { next: seg.seq, fin: false }, server: { next: -1, fin: false }, clientKey: a, closedBy: '' };
          flows.set(key, flow);
          open++;
          maxOpen = Math.max(maxOpen, open);
        }
        assert.equal(flow.closedBy, '', 'nothing after the close');
        const fromClient = a === flow.clientKey;
        const sender = fromClient ? flow.client : flow.server;
        const receiver = fromClient ? flow.server : flow.client;
        if (seg.flags === (TCP_SYN | TCP_ACK)) sender.next = seg.seq;
        const length = seg.payloadLength + ((seg.flags & (TCP_SYN | TCP_FIN)) !== 0 ? 1 : 0);
        if (seg.seq === sender.next) {
          sender.next = (sender.next + length) >>> 0;
        } else {
          assert.equal((seg.seq + length) >>> 0, sender.next, 'only the last segment is ever sent again');
          retransmissions++;
        }
        if ((seg.flags & TCP_ACK) !== 0) assert.equal(seg.ack, receiver.next, 'acks everything the peer sent');
        if ((seg.flags & TCP_FIN) !== 0) sender.fin = true;
        if ((seg.flags & TCP_RST) !== 0) flow.closedBy = 'rst';
        else if (flow.client.fin && flow.server.fin && seg.flags === TCP_ACK) flow.closedBy = 'fin';
        if (flow.closedBy !== '') open--;
      },
    );
    assert.equal(flows.size, 300);
    assert.equal(summary.conversations, 300);
    const closes = [...flows.values()].map((f) => f.closedBy);
    assert.ok(closes.every((c) => c === 'fin' || c === 'rst'), 'every conversation closes');
    assert.ok(closes.filter((c) => c === 'rst').length > 20);
    assert.ok(retransmissions > 0);
    assert.ok(maxOpen > 4, `conversations interleave (max open ${maxOpen})`);
  });

  it('stops at maxPackets and honours the link type', () => {
    const seg = createTcpSegment();
    let packets = 0;
    const summary = generateConversations({ seed: 1, conversations: 1000, maxPackets: 500, linkType: 113 }, (_s, _n, frame) => {
      packets++;
      assert.equal(decodePacket(113, frame, seg), DecodeStatus.TCP);
    });
    assert.equal(packets, 500);
    assert.equal(summary.packets, 500);
  });
});

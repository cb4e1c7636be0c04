import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANOMALY,
  DecodeStatus,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_NS,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  createTcpSegment,
  decodePacket,
  formatAddress,
} from '../../src/decode/index.ts';
import type { TcpSegment } from '../../src/decode/index.ts';
import { decode, hex } from './helpers.ts';

const src = (s: TcpSegment): string => formatAddress(s.src0, s.src1, s.src2, s.src3);
const dst = (s: TcpSegment): string => formatAddress(s.dst0, s.dst1, s.dst2, s.dst3);

describe('decodePacket: one packet per link type (hex checked with tcpdump)', () => {
  it('Ethernet / IPv4 SYN with MSS, SACK-permitted, timestamps, window scale', () => {
    // IP (ttl 64, id 0, flags [DF], proto TCP (6), length 60)
    // 192.0.2.1.40000 > 198.51.100.2.80: Flags [S], cksum 0xb9eb (correct), seq 1000, win 64240,
    //   options [mss 1460,sackOK,TS val 123 ecr 0,wscale 7,eol], length 0
    const frame = hex(
      '02000000000202000000000108004500003c0000400040064e85c0000201c63364029c400050000003e8' +
        '00000000a002faf0b9eb0000020405b40402080a0000007b0000000003030700',
    );
    const { status, seg } = decode(1, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.ipVersion, 4);
    assert.equal(src(seg), '192.0.2.1');
    assert.equal(dst(seg), '198.51.100.2');
    assert.equal(seg.srcPort, 40000);
    assert.equal(seg.dstPort, 80);
    assert.equal(seg.seq, 1000);
    assert.equal(seg.ack, 0);
    assert.equal(seg.flags, TCP_SYN);
    assert.equal(seg.window, 64240);
    assert.equal(seg.ttl, 64);
    assert.equal(seg.ipId, 0);
    assert.equal(seg.headerLength, 40);
    assert.equal(seg.payloadLength, 0);
    assert.equal(seg.mss, 1460);
    assert.equal(seg.sackPermitted, true);
    assert.equal(seg.hasTimestamps, true);
    assert.equal(seg.tsVal, 123);
    assert.equal(seg.tsEcr, 0);
    assert.equal(seg.windowScale, 7);
    assert.equal(seg.sackBlocks, 0);
    assert.equal(seg.vlanKey, -1);
    assert.equal(seg.truncated, false);
    assert.equal(seg.anomaly, '');
  });

  it('Ethernet / IPv6 PSH-ACK with payload; seq 2^32-1 stays unsigned', () => {
    // IP6 (hlim 64, next-header TCP (6) payload length: 25) 2001:db8::1.443 > 2001:db8::2.50000:
    //   Flags [P.], cksum 0x4b6e (correct), seq 4294967295:4, ack 7, win 65535, length 5
    const frame = hex(
      '02000000000202000000000186dd600000000019064020010db800000000000000000000000120010db8' +
        '00000000000000000000000201bbc350ffffffff000000075018ffff4b6e000068656c6c6f',
    );
    const { status, seg } = decode(1, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.ipVersion, 6);
    assert.equal(src(seg), '2001:db8::1');
    assert.equal(dst(seg), '2001:db8::2');
    assert.equal(seg.seq, 4294967295);
    assert.equal(seg.ack, 7);
    assert.equal(seg.flags, TCP_PSH | TCP_ACK);
    assert.equal(seg.payloadLength, 5);
    assert.equal(seg.capturedPayloadLength, 5);
    assert.equal(Buffer.from(frame.subarray(seg.payloadOffset, seg.payloadOffset + 5)).toString(), 'hello');
    assert.equal(seg.ipId, -1);
    assert.equal(seg.ttl, 64);
  });

  it('Ethernet 802.1ad + 802.1Q (QinQ) gives vlanKey (outer << 12) | inner', () => {
    // ethertype 802.1Q-QinQ (0x88a8), length 62: vlan 10, p 0, ethertype 802.1Q (0x8100), vlan 20,
    //   p 0, ethertype IPv4, 10.0.0.1.1 > 10.0.0.2.2: Flags [F.], seq 0, ack 0, win 65535, length 0
    const frame = hex(
      '02000000000202000000000188a8000a8100001408004500002800004000400626ce0a0000010a000002' +
        '0001000200000000000000005011ffff9bce0000',
    );
    const { status, seg } = decode(1, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.vlanKey, (10 << 12) | 20);
    assert.equal(seg.flags, TCP_FIN | TCP_ACK);
    assert.equal(src(seg), '10.0.0.1');
  });

  it('one 802.1Q tag gives its VLAN id; 0x9100 outer tags are walked too', () => {
    // ethertype 802.1Q (0x8100), length 58: vlan 100, p 0, ethertype IPv4 (0x0800),
    //   192.0.2.1.40000 > 198.51.100.2.80: Flags [.], ack 1, win 65535, length 0
    const frame = hex(
      '020000000002020000000001810000640800450000280000400040064e99c0000201c63364029c400050' +
        '00000001000000015010ffff270b0000',
    );
    assert.equal(decode(1, frame).seg.vlanKey, 100);
    // Same frame with a 0x9100 tag (vlan 7) pushed in front: old-style QinQ.
    const qinq = new Uint8Array(frame.length + 4);
    qinq.set(frame.subarray(0, 12), 0);
    qinq.set([0x91, 0x00, 0x00, 0x07], 12);
    qinq.set(frame.subarray(12), 16);
    const { status, seg } = decode(1, qinq);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.vlanKey, (7 << 12) | 100);
  });

  it('Linux cooked SLL (113)', () => {
    // In 02:00:00:00:00:01 ethertype IPv4 (0x0800), length 56: 192.0.2.1.40000 > 198.51.100.2.80:
    //   Flags [.], ack 6, win 501, length 0
    const frame = hex(
      '00000001000602000000000100000800450000280000400040064e99c0000201c63364029c4000500000' +
        '000500000006501001f5250d0000',
    );
    const { status, seg } = decode(113, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.seq, 5);
    assert.equal(seg.ack, 6);
    assert.equal(seg.window, 501);
    assert.equal(seg.flags, TCP_ACK);
  });

  it('Linux cooked SLL2 (276) carrying IPv6', () => {
    // ifb0 In ifindex 2 02:00:00:00:00:01 ethertype IPv6 (0x86dd), length 80: 2001:db8::1.443 >
    //   2001:db8::2.50000: Flags [F.], seq 7, ack 8, win 100, length 0
    const frame = hex(
      '86dd000000000002000100060200000000010000600000000014064020010db800000000000000000000' +
        '000120010db800000000000000000000000201bbc3500000000700000008501100648ee00000',
    );
    const { status, seg } = decode(276, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.ipVersion, 6);
    assert.equal(seg.srcPort, 443);
    assert.equal(seg.flags, TCP_FIN | TCP_ACK);
    assert.equal(seg.window, 100);
  });

  it('BSD NULL (0) with a little-endian AF_INET', () => {
    // AF IPv4 (2), length 44: 192.0.2.1.40000 > 198.51.100.2.80: Flags [R], seq 1, win 65535, length 0
    const frame = hex('02000000450000280000400040064e99c0000201c63364029c40005000000001000000005004ffff27180000');
    const { status, seg } = decode(0, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.flags, TCP_RST);
  });

  it('BSD NULL (0) with a big-endian AF_INET6 = 24, and 28 and 30 in either order', () => {
    // AF IPv6 (24), length 64: 2001:db8::1.443 > 2001:db8::2.50000: Flags [R.], seq 1, ack 2, win 65535, length 0
    const frame = hex(
      '00000018600000000014064020010db800000000000000000000000120010db80000000000000000000000' +
        '0201bbc35000000001000000025014ffff8f4d0000',
    );
    assert.equal(decode(0, frame).status, DecodeStatus.TCP);
    assert.equal(decode(0, frame).seg.flags, TCP_RST | TCP_ACK);
    for (const family of [24, 28, 30]) {
      const le = frame.slice();
      le.set([family, 0, 0, 0], 0);
      const be = frame.slice();
      be.set([0, 0, 0, family], 0);
      assert.equal(decode(0, le).status, DecodeStatus.TCP, `LE ${family}`);
      assert.equal(decode(108, be).status, DecodeStatus.TCP, `BE ${family}`);
    }
    const unknown = frame.slice();
    unknown.set([0, 0, 0, 7], 0);
    const { status, seg } = decode(0, unknown);
    assert.equal(status, DecodeStatus.NOT_IP);
    assert.equal(seg.anomaly, ANOMALY.UNKNOWN_LINK_PAYLOAD);
  });

  it('BSD LOOP (108) with a big-endian AF_INET and a 3-byte payload', () => {
    // AF IPv4 (2), length 47: 192.0.2.1.40000 > 198.51.100.2.80: Flags [P.], seq 9:12, ack 10, win 65535, length 3
    const frame = hex('000000024500002b0000400040064e96c0000201c63364029c400050000000090000000a5018ffff26ef0000000000');
    const { status, seg } = decode(108, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.payloadLength, 3);
    assert.equal(seg.seq, 9);
  });

  it('raw IP under 101, 228, 12 and 14; 229 follows the version nibble too', () => {
    // ip: 192.0.2.1.40000 > 198.51.100.2.80: Flags [R.], seq 3, ack 4, win 0, length 0
    const frame = hex('450000280000400040064e99c0000201c63364029c40005000000003000000045014000027020000');
    for (const linkType of [101, 228, 229, 12, 14]) {
      const { status, seg } = decode(linkType, frame);
      assert.equal(status, DecodeStatus.TCP, `link type ${linkType}`);
      assert.equal(seg.flags, TCP_RST | TCP_ACK);
      assert.equal(seg.window, 0);
    }
  });

  it('IPv4 options are skipped by the IHL', () => {
    // IP (ttl 64, id 4660, flags [DF], proto TCP (6), length 46, options (RA))
    //   192.0.2.1.40000 > 198.51.100.2.80: Flags [P.], cksum 0xba90 (correct), seq 11:13, ack 22, win 1000, length 2
    const frame = hex('4600002e123440004006a75ac0000201c6336402940400009c4000500000000b00000016501803e8ba9000006869');
    const { status, seg } = decode(101, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.ipId, 0x1234);
    assert.equal(seg.seq, 11);
    assert.equal(seg.ack, 22);
    assert.equal(seg.payloadLength, 2);
    assert.equal(seg.payloadOffset, 44);
  });

  it('all nine flags, including ECE, CWR and NS', () => {
    // 192.0.2.1.40000 > 198.51.100.2.80: Flags [SEW], seq 100, win 65535, options [mss 1400], length 0
    // (tcpdump does not print NS; the data-offset byte is 0x61)
    const frame = hex(
      '02000000000202000000000108004500002c0000400040064e95c0000201c63364029c40005000000064' +
        '0000000061c2ffff0d77000002040578',
    );
    const { status, seg } = decode(1, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.flags, TCP_SYN | TCP_ECE | TCP_CWR | TCP_NS);
    assert.equal(seg.mss, 1400);
    assert.equal(seg.headerLength, 24);
    const all = frame.slice();
    all[46] = 0x61;
    all[47] = 0xff;
    assert.equal(decode(1, all).seg.flags, 0x1ff);
  });
});

describe('decodePacket: what is passed over', () => {
  it('an 802.3 length-field frame (STP over LLC) is NOT_IP', () => {
    // 02:00:00:00:00:01 > 01:80:c2:00:00:00, 802.3, length 38: LLC, dsap STP (0x42) Individual,
    //   ssap STP (0x42) Command, ctrl 0x03: STP 802.1d, Config, Flags [none], bridge-id 8000.02:00:00:00:00:01.8001
    const frame = hex('0180c20000000200000000010026424203000000000080000200000000010000000080000200000000018001000014000200000000000000000000');
    assert.equal(decode(1, frame).status, DecodeStatus.NOT_IP);
  });

  it('ARP is NOT_IP, UDP is NOT_TCP with addresses filled, an unknown link type is UNSUPPORTED_LINK', () => {
    // 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.2 tell 192.0.2.1, length 28
    const arp = hex('ffffffffffff020000000001080600010800060400010200000000 01c0000201000000000000c0000202');
    assert.equal(decode(1, arp).status, DecodeStatus.NOT_IP);
    // ip: 192.0.2.1.53000 > 198.51.100.2.53: domain [length 0 < 12] (invalid)
    const udp = hex('4500001c0000400040114e92c0000201c6336402cf08003500080000');
    const { status, seg } = decode(101, udp);
    assert.equal(status, DecodeStatus.NOT_TCP);
    assert.equal(src(seg), '192.0.2.1');
    assert.equal(decode(147, udp).status, DecodeStatus.UNSUPPORTED_LINK);
  });

  it('a non-first IPv4 fragment is FRAGMENT; a first fragment with MF and a full TCP header is TCP', () => {
    const frame = hex('450000280000400040064e99c0000201c63364029c40005000000003000000045014000027020000');
    const later = frame.slice();
    later[6] = 0x00;
    later[7] = 0xb9; // offset 185 × 8
    const later1 = decode(101, later);
    assert.equal(later1.status, DecodeStatus.FRAGMENT);
    assert.equal(dst(later1.seg), '198.51.100.2');
    const first = frame.slice();
    first[6] = 0x20; // MF, offset 0
    assert.equal(decode(101, first).status, DecodeStatus.TCP);
    // A first fragment holding only 8 bytes of TCP header: total length 28.
    const tiny = first.slice(0, 28);
    tiny[3] = 28;
    assert.equal(decode(101, tiny).status, DecodeStatus.FRAGMENT);
  });
});

describe('decodePacket: the scratch segment is reused without leaks', () => {
  it('options, VLAN key and anomaly of one packet do not survive into the next', () => {
    const seg = createTcpSegment();
    // vlan 100, 192.0.2.1.40000 > 198.51.100.2.80: Flags [S], seq 1, win 65535,
    //   options [mss 1460,nop,wscale 7,sackOK,eol], length 0 (checksums zeroed)
    const syn = hex(
      '020000000002020000000001810000640800' +
        '450000340000400040064e8dc0000201c6336402' +
        '9c400050000000010000000080' + '02ffff00000000' + '020405b4010303070402' + '0000',
    );
    assert.equal(decodePacket(1, syn, seg), DecodeStatus.TCP);
    assert.equal(seg.vlanKey, 100);
    assert.equal(seg.mss, 1460);
    assert.equal(seg.windowScale, 7);
    assert.equal(seg.sackPermitted, true);
    // Then a plain raw-IPv4 RST without options.
    const rst = hex('450000280000400040064e99c0000201c63364029c40005000000003000000045014000027020000');
    assert.equal(decodePacket(101, rst, seg), DecodeStatus.TCP);
    assert.equal(seg.vlanKey, -1);
    assert.equal(seg.mss, -1);
    assert.equal(seg.windowScale, -1);
    assert.equal(seg.sackPermitted, false);
    assert.equal(seg.hasTimestamps, false);
    // Then an IPv6 packet and an ARP frame: no IPv4 words, no ports survive.
    const v6 = hex(
      '00000018600000000014064020010db800000000000000000000000120010db80000000000000000000000' +
        '0201bbc35000000001000000025014ffff8f4d0000',
    );
    assert.equal(decodePacket(0, v6, seg), DecodeStatus.TCP);
    assert.equal(seg.src2, 0);
    assert.equal(seg.vlanKey, -1);
    assert.equal(seg.ipId, -1);
    const arp = hex('ffffffffffff020000000001080600010800060400010200000000 01c0000201000000000000c0000202');
    assert.equal(decodePacket(1, arp, seg), DecodeStatus.NOT_IP);
    assert.deepEqual(seg, createTcpSegment());
  });
});

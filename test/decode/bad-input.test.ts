import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANOMALY, DecodeStatus } from '../../src/decode/index.ts';
import { buildTcpFrame } from '../../src/synth/packet-builder.ts';
import type { TcpFrameSpec } from '../../src/synth/packet-builder.ts';
import { decode, hex, patch16 } from './helpers.ts';

const endpoints = { src: '192.0.2.1', dst: '198.51.100.2', srcPort: 40000, dstPort: 443 } as const;
const endpoints6 = { src: '2001:db8::1', dst: '2001:db8::2', srcPort: 40000, dstPort: 443 } as const;
const allOptions = { mss: 1460, sackPermitted: true, windowScale: 7, timestamps: { tsVal: 1, tsEcr: 2 } };

/** Offset of the IP header for each link type the builder writes. */
const LINKS: readonly { name: string; spec: Partial<TcpFrameSpec>; linkType: number; ipOffset: number }[] = [
  { name: 'Ethernet', spec: { linkType: 1 }, linkType: 1, ipOffset: 14 },
  { name: 'Ethernet+QinQ', spec: { linkType: 1, vlanIds: [5, 6] }, linkType: 1, ipOffset: 22 },
  { name: 'SLL', spec: { linkType: 113 }, linkType: 113, ipOffset: 16 },
  { name: 'SLL2', spec: { linkType: 276 }, linkType: 276, ipOffset: 20 },
  { name: 'NULL', spec: { linkType: 0 }, linkType: 0, ipOffset: 4 },
  { name: 'raw', spec: { linkType: 101 }, linkType: 101, ipOffset: 0 },
];

describe('truncation by the snap length', () => {
  for (const link of LINKS) {
    for (const ipVersion of [4, 6] as const) {
      it(`${link.name}/IPv${ipVersion}: every cut inside the fixed headers is TRUNCATED with the layer's name, a cut in the options is still TCP, never a throw`, () => {
        const frame = buildTcpFrame({
          ...(ipVersion === 4 ? endpoints : endpoints6),
          ...link.spec,
          flags: 0x02,
          options: allOptions,
          payloadLength: 100,
        });
        const tcpOffset = link.ipOffset + (ipVersion === 4 ? 20 : 40);
        const headersEnd = tcpOffset + 40;
        for (let cut = 0; cut < frame.length; cut++) {
          const { status, seg } = decode(link.linkType, frame.subarray(0, cut));
          if (cut >= tcpOffset + 20 && cut < headersEnd) {
            // Only the options were cut: still a TCP segment (the fixed header holds what the
            // state machine needs), marked truncated, options read as far as captured, no anomaly.
            assert.equal(status, DecodeStatus.TCP, `cut at ${cut}`);
            assert.equal(seg.truncated, true);
            assert.equal(seg.flags, 0x02);
            assert.equal(seg.payloadLength, 100);
            assert.equal(seg.capturedPayloadLength, 0);
            assert.equal(seg.anomaly, '', `cut at ${cut}`);
          } else if (cut < headersEnd) {
            assert.equal(status, DecodeStatus.TRUNCATED, `cut at ${cut}`);
            assert.equal(seg.truncated, true);
            const expected =
              cut < link.ipOffset
                ? ANOMALY.TRUNCATED_LINK_HEADER
                : cut < tcpOffset
                  ? ANOMALY.TRUNCATED_IP_HEADER
                  : ANOMALY.TRUNCATED_TCP_HEADER;
            assert.equal(seg.anomaly, expected, `cut at ${cut}`);
          } else {
            // Headers complete: a TCP segment whose payload is partly captured.
            assert.equal(status, DecodeStatus.TCP, `cut at ${cut}`);
            assert.equal(seg.truncated, true);
            assert.equal(seg.payloadLength, 100);
            assert.equal(seg.capturedPayloadLength, cut - headersEnd);
            assert.equal(seg.mss, 1460);
            assert.equal(seg.anomaly, '');
          }
        }
        assert.equal(decode(link.linkType, frame).seg.truncated, false);
      });
    }
  }

  it('payload length comes from the IP length with a 96-byte snap length', () => {
    const frame = buildTcpFrame({ ...endpoints, flags: 0x18, payloadLength: 1448, options: { timestamps: { tsVal: 9, tsEcr: 8 } } });
    const { status, seg } = decode(1, frame.subarray(0, 96), frame.length);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.payloadLength, 1448);
    assert.equal(seg.capturedPayloadLength, 96 - 14 - 20 - 32);
    assert.equal(seg.truncated, true);
    assert.equal(seg.tsVal, 9);
    const v6 = buildTcpFrame({ ...endpoints6, flags: 0x18, payloadLength: 1000 });
    assert.equal(decode(1, v6.subarray(0, 96)).seg.payloadLength, 1000);
  });

  it('Ethernet padding after a short packet is not payload', () => {
    const frame = buildTcpFrame({ ...endpoints, flags: 0x10, payloadLength: 2, ethernetPadding: true });
    assert.equal(frame.length, 60);
    const { status, seg } = decode(1, frame, 60);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.payloadLength, 2);
    assert.equal(seg.capturedPayloadLength, 2);
    assert.equal(seg.truncated, false);
  });

  it('IP length 0 (TSO) falls back to the frame, or to the original length when the snap length cut it', () => {
    for (const ip of [endpoints, endpoints6]) {
      const frame = buildTcpFrame({ ...ip, flags: 0x18, payloadLength: 3000, ipLengthZero: true });
      const full = decode(1, frame);
      assert.equal(full.status, DecodeStatus.TCP);
      assert.equal(full.seg.payloadLength, 3000);
      assert.equal(full.seg.anomaly, '');
      const cut = decode(1, frame.subarray(0, 128), frame.length);
      assert.equal(cut.status, DecodeStatus.TCP);
      assert.equal(cut.seg.payloadLength, 3000);
      assert.equal(cut.seg.truncated, true);
    }
  });
});

describe('lying headers are MALFORMED with a name', () => {
  const frame = buildTcpFrame({ ...endpoints, flags: 0x18, payloadLength: 10, options: { timestamps: { tsVal: 1, tsEcr: 2 } } });
  // Offsets in this Ethernet/IPv4 frame: IP at 14, TCP at 34, data offset byte at 46.

  it('IHL below 5', () => {
    for (const ihl of [0, 1, 4]) {
      const bad = frame.slice();
      bad[14] = 0x40 | ihl;
      const { status, seg } = decode(1, bad);
      assert.equal(status, DecodeStatus.MALFORMED);
      assert.equal(seg.anomaly, ANOMALY.BAD_IPV4_HEADER_LENGTH);
    }
  });

  it('IHL larger than the total length', () => {
    const bad = patch16(frame, 16, 40); // total length 40 < IHL 60
    bad[14] = 0x4f;
    const { status, seg } = decode(1, bad);
    assert.equal(status, DecodeStatus.MALFORMED);
    assert.equal(seg.anomaly, ANOMALY.BAD_IP_TOTAL_LENGTH);
  });

  it('total length below the IP header, or too short for a TCP header', () => {
    for (const totalLength of [1, 19, 20, 39]) {
      const { status, seg } = decode(1, patch16(frame, 16, totalLength));
      assert.equal(status, DecodeStatus.MALFORMED, `total length ${totalLength}`);
      assert.equal(seg.anomaly, ANOMALY.BAD_IP_TOTAL_LENGTH);
    }
  });

  it('total length past the original length is a lie; past the captured length alone is truncation', () => {
    const long = patch16(frame, 16, 1500);
    const lie = decode(1, long, long.length);
    assert.equal(lie.status, DecodeStatus.MALFORMED);
    assert.equal(lie.seg.anomaly, ANOMALY.BAD_IP_TOTAL_LENGTH);
    const cut = decode(1, long);
    assert.equal(cut.status, DecodeStatus.TCP);
    assert.equal(cut.seg.truncated, true);
    assert.equal(cut.seg.payloadLength, 1500 - 20 - 32);
  });

  it('data offset below 5 or past the segment', () => {
    for (const dataOffset of [0, 4, 15]) {
      const bad = frame.slice();
      bad[46] = (dataOffset << 4) | (bad[46]! & 0x0f);
      const { status, seg } = decode(1, bad);
      assert.equal(status, DecodeStatus.MALFORMED, `data offset ${dataOffset}`);
      assert.equal(seg.anomaly, ANOMALY.BAD_TCP_HEADER_LENGTH);
      assert.equal(seg.srcPort, 40000, 'the ports stay, so the weird can name its flow');
    }
  });

  it('IPv6 payload length past the original length', () => {
    const v6 = buildTcpFrame({ ...endpoints6, flags: 0x10 });
    const bad = patch16(v6, 18, 500);
    const { status, seg } = decode(1, bad, bad.length);
    assert.equal(status, DecodeStatus.MALFORMED);
    assert.equal(seg.anomaly, ANOMALY.BAD_IP_TOTAL_LENGTH);
  });

  it('IP version nibble that disagrees with the EtherType or is neither 4 nor 6', () => {
    const bad = frame.slice();
    bad[14] = 0x65;
    assert.equal(decode(1, bad).seg.anomaly, ANOMALY.BAD_IP_VERSION);
    assert.equal(decode(1, bad).status, DecodeStatus.MALFORMED);
    const raw = frame.slice(14);
    raw[0] = 0x25;
    assert.equal(decode(101, raw).status, DecodeStatus.MALFORMED);
    assert.equal(decode(101, raw).seg.anomaly, ANOMALY.BAD_IP_VERSION);
  });
});

describe('TCP options', () => {
  // Ethernet/IPv4, TCP header of 32 bytes: options at 54..65.
  const base = buildTcpFrame({ ...endpoints, flags: 0x10, options: { timestamps: { tsVal: 1, tsEcr: 2 } } });
  const withOptions = (bytes: number[]): Uint8Array => {
    const frame = base.slice();
    frame.fill(0, 54, 66);
    frame.set(bytes, 54);
    return frame;
  };

  it('SACK blocks are counted', () => {
    const frame = buildTcpFrame({
      ...endpoints,
      flags: 0x10,
      options: { timestamps: { tsVal: 1, tsEcr: 2 }, sackBlocks: [[10, 20], [30, 40], [50, 60]] },
    });
    const { status, seg } = decode(1, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.sackBlocks, 3);
    assert.equal(seg.tsEcr, 2);
  });

  it('a bad option length stops option parsing, names the anomaly and still returns TCP', () => {
    const cases: [string, number[]][] = [
      ['length 0', [2, 4, 5, 0xb4, 8, 0]],
      ['length 1', [1, 3, 1]],
      ['past the header', [1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 10]],
      ['kind with no length byte', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]],
      ['MSS of length 3', [2, 3, 5, 1]],
      ['timestamps of length 8', [8, 8, 0, 0, 0, 1, 0, 0]],
      ['SACK of length 9', [5, 9, 0, 0, 0, 0, 0, 0, 0]],
    ];
    for (const [name, bytes] of cases) {
      const { status, seg } = decode(1, withOptions(bytes));
      assert.equal(status, DecodeStatus.TCP, name);
      assert.equal(seg.anomaly, ANOMALY.BAD_TCP_OPTION_LENGTH, name);
    }
    // What was read before the bad option stays.
    assert.equal(decode(1, withOptions([2, 4, 5, 0xb4, 8, 0])).seg.mss, 1460);
  });

  it('unknown options are skipped by length and EOL ends the list', () => {
    const { seg } = decode(1, withOptions([30, 4, 0, 0, 3, 3, 9, 0, 2, 4, 1, 1]));
    assert.equal(seg.anomaly, '');
    assert.equal(seg.windowScale, 9);
    assert.equal(seg.mss, -1, 'nothing after EOL is read');
  });

  it('port 0 is TCP with the tcp_port_zero anomaly', () => {
    const frame = buildTcpFrame({ ...endpoints, srcPort: 0, flags: 0x02 });
    const { status, seg } = decode(1, frame);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.anomaly, ANOMALY.TCP_PORT_ZERO);
  });
});

describe('IPv6 extension header chains', () => {
  // IP6 (hlim 64, next-header Options (0) payload length: 68) 2001:db8::1 > 2001:db8::2: HBH (padn)
  //   DSTOPT (padn) frag (0xdeadbeef:0|44) AH(length=4(24-bytes),spi=0x00000000,seq=0x0,icv=...):
  //   443 > 50000: Flags [.], ack 2, win 512, length 0
  const chain = hex(
    '600000000044004020010db800000000000000000000000120010db80000000000000000000000023c00010400000000' +
      '2c0001040000000033000001deadbeef060400000000000000000000000000000000000000000000' +
      '01bbc3500000000100000002501002008d510000',
  );

  it('walks hop-by-hop, destination options, a first fragment and AH to TCP', () => {
    const { status, seg } = decode(229, chain);
    assert.equal(status, DecodeStatus.TCP);
    assert.equal(seg.srcPort, 443);
    assert.equal(seg.dstPort, 50000);
    assert.equal(seg.ack, 2);
    assert.equal(seg.window, 512);
    assert.equal(seg.payloadOffset, 40 + 8 + 8 + 8 + 24 + 20);
  });

  it('every cut inside the chain is TRUNCATED truncated_ipv6_extension', () => {
    for (let cut = 41; cut < 88; cut++) {
      const { status, seg } = decode(229, chain.subarray(0, cut));
      assert.equal(status, DecodeStatus.TRUNCATED, `cut at ${cut}`);
      assert.equal(seg.anomaly, ANOMALY.TRUNCATED_IPV6_EXTENSION, `cut at ${cut}`);
    }
  });

  it('a non-first fragment is FRAGMENT; ESP and no-next-header are NOT_TCP', () => {
    const later = chain.slice();
    later[58] = 0x05; // fragment offset 5 × 8 bytes (56 = first byte of the fragment header)
    assert.equal(decode(229, later).status, DecodeStatus.FRAGMENT);
    for (const next of [50, 59, 17]) {
      const other = chain.slice();
      other[48] = next; // next header of the destination options header
      assert.equal(decode(229, other).status, DecodeStatus.NOT_TCP, `next header ${next}`);
    }
  });

  it('a chain longer than the bound is MALFORMED ipv6_extension_header_loop', () => {
    const headers = 40;
    const packet = new Uint8Array(40 + headers * 8 + 20);
    packet.set(chain.subarray(0, 40));
    packet[4] = (headers * 8 + 20) >> 8;
    packet[5] = (headers * 8 + 20) & 0xff;
    packet[6] = 60;
    for (let i = 0; i < headers; i++) packet[40 + i * 8] = i === headers - 1 ? 6 : 60;
    const { status, seg } = decode(229, packet);
    assert.equal(status, DecodeStatus.MALFORMED);
    assert.equal(seg.anomaly, ANOMALY.IPV6_EXTENSION_LOOP);
  });

  it('an extension header that runs past the payload length is MALFORMED', () => {
    const bad = chain.slice();
    bad[41] = 200; // hop-by-hop claims 201 × 8 bytes
    const { status, seg } = decode(229, bad);
    assert.equal(status, DecodeStatus.MALFORMED);
    assert.equal(seg.anomaly, ANOMALY.BAD_IP_TOTAL_LENGTH);
  });
});

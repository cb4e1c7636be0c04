/**
 * Every format variant written with our writer and read back field for field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapWriter, PcapngWriter } from '../../src/capture/index.ts';
import { hex, packetBytes, readBytes } from './helpers.ts';

const packets = [
  { tsSec: 1_700_000_000, tsNanos: 123_456_789, data: packetBytes(60, 1) },
  { tsSec: 1_700_000_001, tsNanos: 999_999_999, data: packetBytes(54, 2), originalLength: 1514 },
  { tsSec: 4_102_444_800, tsNanos: 1, data: packetBytes(1, 3) },
];

for (const variant of [
  { bigEndian: false, nanosecond: false },
  { bigEndian: true, nanosecond: false },
  { bigEndian: false, nanosecond: true },
  { bigEndian: true, nanosecond: true },
]) {
  test(`pcap ${variant.bigEndian ? 'big' : 'little'}-endian ${variant.nanosecond ? 'ns' : 'µs'}: header and records read back`, () => {
    const writer = new PcapWriter({ linkType: 113, snapLength: 65535, ...variant });
    for (const p of packets) writer.writePacket(p);
    const { records, summary } = readBytes(writer.toBytes());
    assert.equal(summary.format, 'pcap');
    assert.deepEqual(summary.byteOrders, [variant.bigEndian ? 'big-endian' : 'little-endian']);
    assert.equal(summary.version, '2.4');
    assert.equal(summary.sections, 1);
    assert.equal(summary.stoppedEarly, false);
    assert.deepEqual(summary.warnings, []);
    assert.deepEqual(summary.interfaces, [
      {
        interfaceId: 0,
        section: 0,
        linkType: 113,
        snapLength: 65535,
        tsUnitsPerSecond: variant.nanosecond ? 1e9 : 1e6,
        tsPrecisionDigits: variant.nanosecond ? 9 : 6,
        tsOffsetSeconds: 0,
      },
    ]);
    let offset = 24;
    assert.deepEqual(
      records,
      packets.map((p, i) => {
        const r = {
          frameNumber: i + 1,
          interfaceId: 0,
          linkType: 113,
          tsSec: p.tsSec,
          tsNanos: variant.nanosecond ? p.tsNanos : Math.floor(p.tsNanos / 1000) * 1000,
          capturedLength: p.data.length,
          originalLength: p.originalLength ?? p.data.length,
          byteOffset: offset,
          hex: hex(p.data),
        };
        offset += 16 + p.data.length;
        return r;
      }),
    );
    assert.equal(summary.records, 3);
    assert.equal(summary.bytesRead, offset);
  });
}

test('pcap: FCS bits of the link-type field are masked off', () => {
  const bytes = new PcapWriter({ linkType: 1 }).toBytes();
  // FCS length 4 (bits 28-31) and the P bit (26), as libpcap writes them for Ethernet with FCS.
  new DataView(bytes.buffer).setUint32(20, 0x44000001, true);
  const { summary } = readBytes(bytes);
  assert.equal(summary.interfaces[0]?.linkType, 1);
});

test('pcapng: three sections BE/LE/BE, several interfaces with their own resolution, every packet block type', () => {
  const w = new PcapngWriter({ bigEndian: true, comment: 'section one' });
  const ns = w.addInterface({ linkType: 1, snapLength: 96, tsResolution: { base: 10, exponent: 9 }, name: 'eth0' });
  const ms = w.addInterface({ linkType: 0, tsResolution: { base: 10, exponent: 3 }, description: 'loopback' });
  w.writeEnhancedPacket(ns, { tsSec: 1_700_000_000, tsNanos: 123_456_789, data: packetBytes(60, 10), comment: 'first packet' });
  w.writeEnhancedPacket(ms, { tsSec: 1_700_000_002, tsNanos: 987_654_321, data: packetBytes(33, 11), originalLength: 70 });
  w.writeBlock(0x00000bad, packetBytes(13, 99)); // a custom block: skipped by length
  w.writeInterfaceStatistics(ns, { tsSec: 1_700_000_003, tsNanos: 0, received: 10, interfaceDrops: 2, osDrops: 5 });

  w.section({ bigEndian: false });
  const sll = w.addInterface({ linkType: 113, snapLength: 40 });
  w.writeSimplePacket(packetBytes(40, 12), 100);
  w.writeObsoletePacket(sll, { tsSec: 1_700_000_004, tsNanos: 500_000_000, data: packetBytes(20, 13), drops: 3 });

  w.section({ bigEndian: true, comment: 'section three' });
  w.addInterface({ linkType: 101 });
  const binary = w.addInterface({ linkType: 101, tsResolution: { base: 2, exponent: 20 }, tsOffsetSeconds: 1_600_000_000 });
  w.writeEnhancedPacket(binary, { tsSec: 1_700_000_005, tsNanos: 250_000_000, data: packetBytes(4, 14) });
  w.writeEnhancedPacket(0, { tsSec: 1_700_000_006, tsNanos: 7_000, data: packetBytes(5, 15) });
  w.writeInterfaceStatistics(binary, { tsSec: 1_700_000_007, tsNanos: 0, osDrops: 2 ** 40 + 3, filterAccepted: 9, deliveredToUser: 8 });

  const { records, summary, events } = readBytes(w.toBytes());
  assert.equal(summary.format, 'pcapng');
  assert.equal(summary.version, '1.0');
  assert.equal(summary.sections, 3);
  assert.deepEqual(summary.byteOrders, ['big-endian', 'little-endian', 'big-endian']);
  assert.deepEqual(summary.warnings, []);
  assert.deepEqual(
    summary.interfaces.map((i) => [i.interfaceId, i.section, i.linkType, i.snapLength, i.tsUnitsPerSecond, i.tsPrecisionDigits, i.tsOffsetSeconds, i.name, i.description]),
    [
      [0, 0, 1, 96, 1e9, 9, 0, 'eth0', undefined],
      [1, 0, 0, 0, 1e3, 3, 0, undefined, 'loopback'],
      [2, 1, 113, 40, 1e6, 6, 0, undefined, undefined],
      [3, 2, 101, 0, 1e6, 6, 0, undefined, undefined],
      [4, 2, 101, 0, 2 ** 20, 7, 1_600_000_000, undefined, undefined],
    ],
  );
  const brief = records.map((r) => [r.frameNumber, r.interfaceId, r.linkType, r.tsSec, r.tsNanos, r.capturedLength, r.originalLength, r.hex]);
  assert.deepEqual(brief, [
    [1, 0, 1, 1_700_000_000, 123_456_789, 60, 60, hex(packetBytes(60, 10))],
    [2, 1, 0, 1_700_000_002, 987_000_000, 33, 70, hex(packetBytes(33, 11))],
    // SPB: interface 0 of its section, captured = min(original 100, snaplen 40); keeps the previous timestamp.
    [3, 2, 113, 1_700_000_002, 987_000_000, 40, 100, hex(packetBytes(40, 12))],
    [4, 2, 113, 1_700_000_004, 500_000_000, 20, 20, hex(packetBytes(20, 13))],
    // 2^-20 s units relative to if_tsoffset: 0.25 s is exactly 262144 units.
    [5, 4, 101, 1_700_000_005, 250_000_000, 4, 4, hex(packetBytes(4, 14))],
    [6, 3, 101, 1_700_000_006, 7_000, 5, 5, hex(packetBytes(5, 15))],
  ]);
  assert.deepEqual(summary.statistics, [
    { interfaceId: 0, received: 10, interfaceDrops: 2, osDrops: 5 },
    { interfaceId: 4, osDrops: 2 ** 40 + 3, filterAccepted: 9, deliveredToUser: 8 },
  ]);
  assert.deepEqual(
    events.filter((e) => e.startsWith('comment')),
    ['comment - section one', 'comment 1 first packet', 'comment - section three'],
  );
  // Callbacks come in file order: the comment of packet 1 right after its record.
  assert.equal(events.indexOf('comment 1 first packet'), events.indexOf('record 1') + 1);
});

test('pcapng: a later section opens a fresh interface table (EPB ids are section-local)', () => {
  const w = new PcapngWriter();
  w.addInterface({ linkType: 1 });
  w.section();
  w.addInterface({ linkType: 228 });
  w.writeEnhancedPacket(0, { tsSec: 1, tsNanos: 0, data: packetBytes(20, 0) });
  const { records } = readBytes(w.toBytes());
  assert.deepEqual(records.map((r) => [r.interfaceId, r.linkType]), [[1, 228]]);
});

test('pcapng: negative if_tsoffset and an SPB before any timestamped packet', () => {
  const w = new PcapngWriter();
  w.addInterface({ snapLength: 0, tsOffsetSeconds: -100 });
  w.writeSimplePacket(packetBytes(8, 0));
  w.writeEnhancedPacket(0, { tsSec: 50, tsNanos: 42_000, data: packetBytes(8, 1) });
  const { records } = readBytes(w.toBytes());
  assert.deepEqual(records.map((r) => [r.tsSec, r.tsNanos, r.capturedLength]), [
    [0, 0, 8],
    [50, 42_000, 8],
  ]);
});

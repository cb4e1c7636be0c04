/**
 * Throughput of FlowTracker.add on a realistic mix: 10-segment connections (handshake, request,
 * response, ACK, 4-way close), 256 of them interleaved at a time, 1 µs of packet time apart.
 * Run: node --import tsx test/tcp/bench-tracker.ts [connections]
 */
import { createTcpSegment } from '../../src/decode/types.ts';
import { FlowTracker } from '../../src/tcp/index.ts';
import { fillSegment } from './helpers.ts';
import type { Host, SegSpec } from './helpers.ts';

const connections = Math.ceil(Number(process.argv[2] ?? 400_000) / 256) * 256;
const CONCURRENT = 256;
const STEP_NANOS = Number(process.argv[3] ?? 1000);

function script(c: number, s: number): SegSpec[] {
  return [
    { from: 'c', flags: 'S', seq: c },
    { from: 's', flags: 'SA', seq: s, ack: c + 1 },
    { from: 'c', flags: 'A', seq: c + 1, ack: s + 1 },
    { from: 'c', flags: 'PA', seq: c + 1, ack: s + 1, len: 120 },
    { from: 's', flags: 'PA', seq: s + 1, ack: c + 121, len: 1400 },
    { from: 'c', flags: 'A', seq: c + 121, ack: s + 1401 },
    { from: 'c', flags: 'FA', seq: c + 121, ack: s + 1401 },
    { from: 's', flags: 'FA', seq: s + 1401, ack: c + 122 },
    { from: 'c', flags: 'A', seq: c + 122, ack: s + 1402 },
    { from: 's', flags: 'A', seq: s + 1402, ack: c + 122 },
  ];
}

// One group of CONCURRENT interleaved connections is built once; each further group only gets a
// new client address (one field per segment), like a decoder refilling its scratch struct.
const total = connections * 10;
const server: Host = { ip: 0x0a000002, port: 443 };
const groupSegs = Array.from({ length: CONCURRENT * 10 }, () => createTcpSegment());
const fromClient: boolean[] = [];
{
  const scripts = Array.from({ length: CONCURRENT }, (_, i) => script(1000 + i * 7, 90000 + i * 13));
  let k = 0;
  for (let step = 0; step < 10; step++) {
    for (let i = 0; i < CONCURRENT; i++) {
      const spec = scripts[i]![step]!;
      fillSegment(groupSegs[k]!, spec, { ip: 0x0b000000, port: 1024 + i }, server);
      fromClient.push(spec.from === 'c');
      k++;
    }
  }
}
let flows = 0;
const tracker = new FlowTracker({}, () => {
  flows++;
});
const t0 = process.hrtime.bigint();
let sec = 1_700_000_000;
let nanos = 0;
let frame = 0;
for (let base = 0; base < connections; base += CONCURRENT) {
  const clientIp = 0x0b000000 + base / CONCURRENT;
  for (let k = 0; k < groupSegs.length; k++) {
    const seg = groupSegs[k]!;
    if (fromClient[k]) seg.src3 = clientIp;
    else seg.dst3 = clientIp;
    nanos += STEP_NANOS;
    if (nanos >= 1e9) {
      nanos -= 1e9;
      sec++;
    }
    tracker.add(seg, ++frame, sec, nanos);
  }
}
tracker.finish();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const heapMb = process.memoryUsage().heapUsed / 1e6;
console.log(
  `${total} segments, ${flows} flows in ${seconds.toFixed(3)} s: ` +
    `${(total / seconds / 1e6).toFixed(2)} M segments/s; heap ${heapMb.toFixed(0)} MB`,
);

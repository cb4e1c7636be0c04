// One benchmark stage in its own process (so peak RSS is the stage's own), run by bench.ts on the
// compiled code in dist/ (what users run): `node bench/run-stage.mjs STAGE FILE`.
// Prints one JSON line {stage, seconds, packets}. Stages: read-decode | analyze (flows and states,
// no detectors) | diagnose (+ detectors) | report (+ HTML, written to FILE.html).
import { createReadStream, writeFileSync } from 'node:fs';
import { readCapture } from '../dist/capture/index.js';
import { decodePacket } from '../dist/decode/index.js';
import { createTcpSegment, DecodeStatus } from '../dist/decode/types.js';
import { analyze } from '../dist/analyze.js';
import { renderHtml } from '../dist/report/index.js';

const [stage, file] = process.argv.slice(2);
if (stage === undefined || file === undefined) throw new Error('usage: run-stage.mjs STAGE FILE');
const source = () => createReadStream(file, { highWaterMark: 1 << 20 });
const t0 = performance.now();
let packets = 0;
if (stage === 'read-decode') {
  const seg = createTcpSegment();
  let tcp = 0;
  await readCapture(source(), {
    record(rec) {
      packets++;
      if (decodePacket(rec.linkType, rec.data, seg, rec.originalLength) === DecodeStatus.TCP) tcp++;
    },
  });
  if (tcp === 0) throw new Error('no TCP packets decoded');
} else {
  const report = await analyze(source(), { file, skipDiagnosis: stage === 'analyze' });
  packets = report.capture.packets;
  if (stage === 'report') writeFileSync(`${file}.html`, renderHtml(report));
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ stage, seconds, packets }));

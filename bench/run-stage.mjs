// One benchmark stage in its own process (so peak RSS is the stage's own), run by bench.ts on the
// compiled code in dist/ (what users run): `node bench/run-stage.mjs STAGE FILE`.
// Prints one JSON line {stage, seconds, packets}. Stages: read-decode | analyze (flows and states,
// no detectors) | analyze-jobs2 (the same with flow tracking on two worker threads) | diagnose
// (+ detectors) | report (+ HTML, written to FILE.html) | report-jobs2 (what `tcpmortem report`
// does with 2 jobs: flows on two threads, then the detectors in a worker thread beside the
// report's pass over the flows, then the HTML; written to FILE.jobs2.html).
import { writeFileSync } from 'node:fs';
import { readFileChunks } from '../dist/cli/file-source.js';
import { readCapture } from '../dist/capture/index.js';
import { decodeFrame } from '../dist/decode/index.js';
import { createTcpSegment, DecodeStatus } from '../dist/decode/types.js';
import { analyze, diagnoseForReport } from '../dist/analyze.js';
import { DiagnosisThread } from '../dist/parallel/diagnose-thread.js';
import { prepareRenderer, renderHtml } from '../dist/report/index.js';
import { runDetectors } from '../dist/diagnose/index.js';

const [stage, file] = process.argv.slice(2);
if (stage === undefined || file === undefined) throw new Error('usage: run-stage.mjs STAGE FILE');
// The CLI's file reader (two reused 1 MiB buffers), so each stage reads as `tcpmortem` does.
const source = () => readFileChunks(file);
const t0 = performance.now();
let packets = 0;
const split = {};
if (stage === 'read-decode') {
  const seg = createTcpSegment();
  let tcp = 0;
  await readCapture(source(), {
    record(rec) {
      packets++;
      if (decodeFrame(rec.linkType, rec.bytes, rec.offset, rec.offset + rec.capturedLength, seg, rec.originalLength) === DecodeStatus.TCP) tcp++;
    },
  });
  if (tcp === 0) throw new Error('no TCP packets decoded');
} else if (stage === 'report-jobs2') {
  // Started before the analysis, as the CLI does (loading it overlaps the analysis).
  const thread = new DiagnosisThread();
  const bare = await analyze(source(), { file, skipDiagnosis: true, jobs: 2, sharedMemory: true });
  packets = bare.capture.packets;
  split.analyzeSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const { report, viewPass } = await diagnoseForReport(bare, { jobs: 2, whileWaiting: prepareRenderer, thread });
  split.diagnoseAndPassSeconds = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const html = renderHtml(report, {}, viewPass);
  split.renderSeconds = (performance.now() - t2) / 1000;
  writeFileSync(`${file}.jobs2.html`, html);
} else {
  // Stages are timed inside one process too, so the shares of diagnosis and rendering do not
  // depend on run-to-run noise of the analysis (mostly garbage collection).
  const report = await analyze(source(), { file, skipDiagnosis: true, jobs: stage === 'analyze-jobs2' ? 2 : 1 });
  packets = report.capture.packets;
  split.analyzeSeconds = (performance.now() - t0) / 1000;
  if (stage !== 'analyze' && stage !== 'analyze-jobs2') {
    const t1 = performance.now();
    const diagnosis = runDetectors({ flows: report.flows, capture: report.capture });
    split.diagnoseSeconds = (performance.now() - t1) / 1000;
    if (stage === 'report') {
      const t2 = performance.now();
      const html = renderHtml({ ...report, findings: diagnosis.findings, detectors: diagnosis.detectors, quality: diagnosis.quality });
      split.renderSeconds = (performance.now() - t2) / 1000;
      writeFileSync(`${file}.html`, html);
    }
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ stage, seconds, packets, ...split }));

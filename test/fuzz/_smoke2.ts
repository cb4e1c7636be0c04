import fc from 'fast-check';
import { buildSeeds, caseArb, checkCaptureCase } from './harness.ts';
const seeds = buildSeeds();
const t = performance.now();
const r = fc.check(fc.property(caseArb(seeds.length), fc.constantFrom(64, 100, 200, 600, 1000, 5000), (c, m) => checkCaptureCase(seeds, c, m)), { seed: 2, numRuns: 10000 });
console.log((performance.now() - t).toFixed(0), r.failed ? fc.defaultReportMessage(r) + String((r.errorInstance as Error)?.stack).slice(0, 1500) : 'ok');

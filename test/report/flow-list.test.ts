/**
 * The report stage and the queries under the FlowList contract: given the flows as a
 * {@link FreshFlowList} (a deep copy on every access, like the compact flow store), every output
 * is identical to the one built from the plain array, and the number of records built stays a
 * small multiple of the flow count. Identity comparisons, records used as Map keys or mutations
 * show up here as differences; a deep-frozen report catches mutations of the plain array.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReportView } from '../../src/report/view-model.ts';
import type { ReportViewOptions } from '../../src/report/view-model.ts';
import { renderHtml } from '../../src/report/render-html.ts';
import { renderSummary } from '../../src/report/render-summary.ts';
import { anonymizeReport } from '../../src/report/anonymize.ts';
import { reportJsonDocument } from '../../src/report/json-writer.ts';
import { filterFlows, matchingFlows, netstatAt } from '../../src/query/index.ts';
import type { FlowFilter } from '../../src/query/index.ts';
import type { AnalysisReport } from '../../src/report/model.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';
import { FreshFlowList } from '../support/fresh-flow-list.ts';
import { buildSyntheticReport } from './sample-report.ts';
import { reportsUnderTest } from './reports.ts';

/** The report's flows as a plain array (the fixtures' reports hold arrays today). */
function flowArray(report: AnalysisReport): FlowRecord[] {
  return [...report.flows];
}

/** The same report with its flows behind a FreshFlowList, and that list (to read `built`). */
function withFreshFlows(report: AnalysisReport): { report: AnalysisReport; flows: FreshFlowList } {
  const flows = new FreshFlowList(flowArray(report));
  return { report: { ...report, flows }, flows };
}

/** How many flow references the findings make: records a consumer may fetch on top of its passes. */
function findingFlowRefs(report: AnalysisReport): number {
  return report.findings.reduce((sum, f) => sum + f.flows.length, 0);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function jsonText(report: AnalysisReport): string {
  return [...reportJsonDocument(report)].join('');
}

/** A few instants across the capture (before, inside, at and after the end). */
function instantsOf(report: AnalysisReport): number[] {
  const flows = flowArray(report);
  if (flows.length === 0) return [0];
  const start = Math.min(...flows.map((f) => f.startSeconds));
  const end = Math.max(...flows.map((f) => f.endSeconds));
  return [start - 1, start, (start + end) / 2, end, end + 30, end + 120];
}

/** Caps small enough that the kernel fixtures hit every one of them (density timeline, table cap, ladder caps). */
const TIGHT: Partial<ReportViewOptions> = { maxTableRows: 5, maxSwimlaneRows: 2, laddersPerFinding: 1, maxLadders: 3, maxServices: 1, maxHosts: 1 };

const FILTERS: readonly FlowFilter[] = [{}, { state: 'TIME_WAIT' }, { state: 'CLOSE_WAIT' }, { port: 8080 }, { connState: 'SF' }, { host: '10.0.0.1', state: 'ESTABLISHED' }];

const scenarios = await reportsUnderTest();
const synthetic = buildSyntheticReport(3000);

for (const [name, report] of [...scenarios, ['synthetic-3000', synthetic] as const]) {
  describe(`FlowList consumers (${name})`, () => {
    const length = report.flows.length;
    const bound = 3 * length + findingFlowRefs(report);

    it('view model: identical from a FreshFlowList, one scan, records built only for the flows it shows', () => {
      for (const options of [{}, TIGHT]) {
        const { report: fresh, flows } = withFreshFlows(report);
        assert.deepEqual(buildReportView(fresh, options), buildReportView(report, options));
        // One scan: bins from the capture's span and hosts counted as it goes (see
        // buildReportView); a second look at a tenth of the flows at most, for candidate hosts
        // it did not track.
        assert.equal(flows.scanned, length, 'one scan');
        assert.ok(flows.looked * 10 <= length, `${flows.looked} flows looked at again, of ${length}`);
        // Kept: the first and the failed table rows, and the flows named by findings; each once.
        const maxTableRows = options.maxTableRows ?? 2000;
        const keptBound = Math.min(length, 2 * maxTableRows + findingFlowRefs(report));
        assert.ok(flows.built <= keptBound, `${flows.built} records built for ${length} flows, bound ${keptBound}`);
      }
    });

    it('HTML and summary: identical from a FreshFlowList, records built within 3 × flows + findings’ flows', () => {
      for (const options of [{}, TIGHT]) {
        const { report: fresh, flows } = withFreshFlows(report);
        assert.equal(renderHtml(fresh, options), renderHtml(report, options));
        assert.ok(flows.built <= bound, `${flows.built} records built, bound ${bound}`);
      }
      const { report: fresh, flows } = withFreshFlows(report);
      assert.equal(renderSummary(fresh, { color: false, reportPath: 'r.html' }), renderSummary(report, { color: false, reportPath: 'r.html' }));
      assert.equal(flows.built, 0, 'the summary reads no flow');
    });

    it('never mutates a record: the same outputs from a deep-frozen report', () => {
      const frozen = deepFreeze(structuredClone({ ...report, flows: flowArray(report) }));
      assert.equal(renderHtml(frozen), renderHtml(report));
      assert.equal(renderHtml(frozen, TIGHT), renderHtml(report, TIGHT));
      assert.equal(jsonText(anonymizeReport(frozen, 'k')), jsonText(anonymizeReport(report, 'k')));
      for (const t of instantsOf(report)) assert.deepEqual(netstatAt(frozen.flows, t), netstatAt(report.flows, t));
    });

    it('anonymize: lazy (nothing built until read), then the same JSON, view and HTML as from the array', () => {
      const { report: fresh, flows } = withFreshFlows(report);
      const anonymized = anonymizeReport(fresh, 'k1');
      assert.equal(flows.built, 0, 'anonymizing reads no flow');
      assert.equal(anonymized.flows.length, length);
      const expected = anonymizeReport(report, 'k1');
      assert.equal(jsonText(anonymized), jsonText(expected));
      assert.equal(flows.built, length, 'writing the JSON reads each flow once');
      assert.deepEqual(buildReportView(anonymized), buildReportView(expected));
      // The anonymized list maps records (it has no scan): passes over records, plus the kept ones.
      assert.ok(flows.built <= 4 * length, `${flows.built - length} records built for the view of ${length} flows`);
      const before = flows.built;
      assert.equal(renderHtml(anonymized), renderHtml(expected));
      assert.ok(flows.built - before <= bound, `${flows.built - before} records built for the HTML, bound ${bound}`);
      if (length > 0) {
        assert.deepEqual(anonymized.flows.at(length - 1), expected.flows.at(length - 1));
        assert.equal(anonymized.flows.at(length), undefined);
      }
    });

    it('netstatAt: the same snapshot from a FreshFlowList at every instant, one scan each, no record built', () => {
      for (const t of instantsOf(report)) {
        const { flows } = withFreshFlows(report);
        assert.deepEqual(netstatAt(flows, t), netstatAt(report.flows, t), `at ${t}`);
        assert.equal(flows.scanned, length);
        assert.equal(flows.built, 0);
      }
    });

    it('filterFlows and matchingFlows: the same matches in the same order, one scan per iteration, records built for the matches only', () => {
      for (const filter of FILTERS) {
        const expected = flowArray(report).filter((f) => (filter.state === undefined || f.finalState.client === filter.state || f.finalState.server === filter.state) && (filter.port === undefined || f.client.port === filter.port || f.server.port === filter.port) && (filter.host === undefined || f.client.ip === filter.host || f.server.ip === filter.host) && (filter.connState === undefined || f.connState === filter.connState));
        const { flows } = withFreshFlows(report);
        assert.deepEqual(filterFlows(flows, filter), expected, JSON.stringify(filter));
        assert.equal(flows.scanned, length);
        assert.equal(flows.built, expected.length);
        const lazy = matchingFlows(flows, filter);
        assert.equal(flows.scanned, length, 'matchingFlows reads nothing until iterated');
        assert.deepEqual([...lazy], expected);
        assert.deepEqual([...lazy], expected, 'iterable twice');
        assert.equal(flows.scanned, 3 * length);
        assert.equal(flows.built, 3 * expected.length);
      }
    });
  });
}

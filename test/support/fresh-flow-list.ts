/**
 * A {@link FlowList} test double that behaves like the compact flow store: every access builds a
 * fresh deep copy of the record, so a consumer that compares records by identity, keys a Map by
 * them, or mutates them shows up as a test failure. Its `scan` hands out ONE object, refilled
 * for every flow like the store's summary, so a consumer that keeps a summary past its visit sees
 * another flow's values and its output differs from the array's.
 */
import type { FlowList, FlowRecord, FlowSummary } from '../../src/tcp/types.ts';

export class FreshFlowList implements FlowList {
  /** How many records were built (`at`, iteration), for tests that bound materialisations. */
  built = 0;
  /** How many summaries `scan` handed out. */
  scanned = 0;
  constructor(private readonly flows: readonly FlowRecord[]) {}

  get length(): number {
    return this.flows.length;
  }

  at(index: number): FlowRecord | undefined {
    const f = this.flows[index];
    if (f === undefined) return undefined;
    this.built++;
    return structuredClone(f);
  }

  *[Symbol.iterator](): IterableIterator<FlowRecord> {
    for (let i = 0; i < this.flows.length; i++) yield this.at(i)!;
  }

  /** How many summaries `summaryAt` handed out. */
  looked = 0;
  private readonly lookScratch: Record<string, unknown> = {};

  /** The summary at `position`, in one reused object (its fields cleared first), like the store's. */
  summaryAt(position: number): FlowSummary | undefined {
    const f = this.flows[position];
    if (f === undefined) return undefined;
    for (const key of Object.keys(this.lookScratch)) delete this.lookScratch[key];
    Object.assign(this.lookScratch, structuredClone(f));
    this.looked++;
    return this.lookScratch as unknown as FlowSummary;
  }

  scan(visit: (flow: FlowSummary, position: number) => void): void {
    const scratch: Record<string, unknown> = {};
    for (let i = 0; i < this.flows.length; i++) {
      for (const key of Object.keys(scratch)) delete scratch[key];
      Object.assign(scratch, structuredClone(this.flows[i]));
      this.scanned++;
      visit(scratch as unknown as FlowSummary, i);
    }
    for (const key of Object.keys(scratch)) delete scratch[key];
  }
}

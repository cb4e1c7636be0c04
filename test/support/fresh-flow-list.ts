/**
 * A {@link FlowList} test double that behaves like the compact flow store: every access builds a
 * fresh deep copy of the record, so a consumer that compares records by identity, keys a Map by
 * them, or mutates them shows up as a test failure.
 */
import type { FlowList, FlowRecord } from '../../src/tcp/types.ts';

export class FreshFlowList implements FlowList {
  /** How many records were built, for tests that bound materialisations. */
  built = 0;
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
}

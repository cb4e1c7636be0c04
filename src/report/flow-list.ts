/**
 * {@link FlowList} helpers for the stages after the flow table: lazy views over a list that keep
 * nothing per flow, so a transformation of every flow (anonymisation) costs no memory.
 */
import type { FlowList, FlowRecord } from '../tcp/types.ts';

/**
 * A {@link FlowList} whose records are `map(record)` of the records of `source`, computed on each
 * access and never kept: `length` is the source's, `at(i)` maps `source.at(i)`, iteration maps
 * the source's iteration (one access to the source per record read).
 *
 * `map` must be pure and return a new object (it receives a record it must not mutate); as with
 * any FlowList, every access returns a fresh record, so compare them by `id`.
 */
export class MappedFlowList implements FlowList {
  readonly #source: FlowList;
  readonly #map: (flow: FlowRecord) => FlowRecord;

  constructor(source: FlowList, map: (flow: FlowRecord) => FlowRecord) {
    this.#source = source;
    this.#map = map;
  }

  get length(): number {
    return this.#source.length;
  }

  at(index: number): FlowRecord | undefined {
    const flow = this.#source.at(index);
    return flow === undefined ? undefined : this.#map(flow);
  }

  *[Symbol.iterator](): IterableIterator<FlowRecord> {
    for (const flow of this.#source) yield this.#map(flow);
  }

  /** Calls `callback` with each record and its position, in order: one pass, like `Array#forEach`. */
  forEach(callback: (flow: FlowRecord, index: number) => void): void {
    let index = 0;
    for (const flow of this) callback(flow, index++);
  }

  /**
   * The records as an array, so that `JSON.stringify` of a report holding this list writes its
   * flows rather than `{}`. That builds and holds every record at once: fine for a small report,
   * not for a large one. `writeReportJson` (`json-writer.ts`) iterates instead and never calls it.
   */
  toJSON(): FlowRecord[] {
    return [...this];
  }
}

/**
 * A flow list handed to another thread without copying its flows: the stores' pages and slot
 * tables are shared memory (see FlowStore.shareParts), so the receiver reads the same bytes. Used
 * to run the diagnosis on a second core while the report's pass over the flows runs on the first
 * (see diagnoseInThread).
 *
 * @module
 */
import { FlowStore } from '../tcp/flow-store.ts';
import type { FlowStoreOptions, FlowStoreParts } from '../tcp/flow-store.ts';
import type { FlowList } from '../tcp/types.ts';
import { MergedFlowList } from './sharded-tracker.ts';

/** What {@link shareFlowList} gives and {@link flowListFromParts} takes (structured-clonable). */
export interface FlowListParts {
  readonly options: FlowStoreOptions;
  readonly stores: readonly FlowStoreParts[];
  /** A {@link MergedFlowList} over the stores (numbered again by first frame), else the one store. */
  readonly merged: boolean;
}

/**
 * The parts of an analysis's flow list (a FlowStore or a MergedFlowList), or undefined for any
 * other list (an array of records, read from a JSON result): those are not shared.
 */
export function shareFlowList(flows: FlowList): FlowListParts | undefined {
  if (flows instanceof FlowStore) return { options: flows.options, stores: [flows.shareParts()], merged: false };
  if (flows instanceof MergedFlowList) {
    const stores = flows.storeList();
    const options = stores[0]?.options;
    if (options === undefined) return undefined;
    return { options, stores: stores.map((s) => s.shareParts()), merged: true };
  }
  return undefined;
}

/** The flow list of {@link shareFlowList}'s parts, in this thread: the same flows, in the same order. */
export function flowListFromParts(parts: FlowListParts): FlowList {
  const stores = parts.stores.map((p) => FlowStore.fromParts(parts.options, p));
  if (parts.merged) return new MergedFlowList(stores);
  const store = stores[0];
  if (store === undefined) throw new Error('flow list parts without a store');
  return store;
}

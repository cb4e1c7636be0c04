/**
 * A flow list handed to another thread without copying its flows: the stores' pages and slot
 * tables are shared memory (see FlowStore.shareParts), so the receiver reads the same bytes. Used
 * to run the diagnosis on a second core while the report's pass over the flows runs on the first
 * (see DiagnosisThread).
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
 * The parts of an analysis's flow list (a FlowStore or a MergedFlowList) in shared memory (see
 * FlowStoreOptions.sharedMemory), or undefined for any other list (an array of records, read from
 * a JSON result; a store not made in shared memory): those are not shared.
 */
export function shareFlowList(flows: FlowList): FlowListParts | undefined {
  const stores = flows instanceof FlowStore ? [flows] : flows instanceof MergedFlowList ? flows.storeList() : [];
  const options = stores[0]?.options;
  if (options === undefined) return undefined;
  const parts: FlowStoreParts[] = [];
  for (const store of stores) {
    const p = store.shareParts();
    if (p === undefined) return undefined;
    parts.push(p);
  }
  return { options, stores: parts, merged: flows instanceof MergedFlowList };
}

/** The flow list of {@link shareFlowList}'s parts, in this thread: the same flows, in the same order. */
export function flowListFromParts(parts: FlowListParts): FlowList {
  const stores = parts.stores.map((p) => FlowStore.fromParts(parts.options, p));
  if (parts.merged) return new MergedFlowList(stores);
  const store = stores[0];
  if (store === undefined) throw new Error('flow list parts without a store');
  return store;
}

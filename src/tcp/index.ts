/**
 * TCP state stage: both endpoints' RFC 9293 state machines, Zeek-compatible verdicts, and the
 * flow tracker that turns {@link TcpSegment}s into {@link FlowRecord}s.
 */
export { FlowTracker } from './tracker.ts';
export { DEFAULT_FLOW_TRACKER_OPTIONS } from './options.ts';
export type { FlowTrackerOptions } from './options.ts';
export { nextState, isFinalState } from './transitions.ts';
export type { EndpointEvent } from './transitions.ts';
export { zeekConnState } from './verdict.ts';
export type { ZeekVerdictInput } from './verdict.ts';
export { ZeekSession } from './history.ts';
export { handshakeOutcome, FlowStore } from './flow-store.ts';
export { addressKeyText, clientAddressKey, sampledSegmentCount, scanFlows, serverAddressKey } from './flow-summary.ts';
export type { FlowStoreOptions, FlowStoreParts } from './flow-store.ts';
export type * from './types.ts';

/**
 * Flow stage: the symmetric flow key, the live flow table and sequence-number arithmetic.
 * The TCP state stage (src/tcp) builds on these; nothing here knows about TCP states.
 */
export { seqAdd, seqDiff, seqGt, seqGte, seqLt, seqLte, seqMax, relativeSeq } from './seq.ts';
export { flowHash, matchesEndpoints, sentByClient, sentByServer } from './flow-key.ts';
export type { FlowKeyFields } from './flow-key.ts';
export { FlowTable } from './flow-table.ts';
export type { FlowTableEntry } from './flow-table.ts';

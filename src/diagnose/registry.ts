/**
 * The one explicit list of detectors, in the order they run. Adding a detector means adding a
 * file and a line here; nothing is discovered by scanning directories.
 */
import { acceptOverflowDrop } from './accept-overflow-drop.ts';
import { acceptOverflowRst } from './accept-overflow-rst.ts';
import { closeWaitLeak } from './close-wait-leak.ts';
import { connectionRefused } from './connection-refused.ts';
import { dataUnacked } from './data-unacked.ts';
import { finRetransmit } from './fin-retransmit.ts';
import { halfClose } from './half-close.ts';
import { keepaliveTimeout } from './keepalive-timeout.ts';
import { portScan } from './port-scan.ts';
import { reset } from './reset.ts';
import { synAckRetransmit } from './synack-retransmit.ts';
import { synDropped } from './syn-dropped.ts';
import { synFlood } from './syn-flood.ts';
import { synRetransmit } from './syn-retransmit.ts';
import { timeWaitChurn } from './time-wait-churn.ts';
import { tupleReuse } from './tuple-reuse.ts';
import type { Detector } from './types.ts';

/** Any detector, whatever its options type (method parameters are bivariant, so each fits). */
export type AnyDetector = Detector<object>;

export const DETECTORS: readonly AnyDetector[] = Object.freeze([
  synRetransmit,
  synAckRetransmit,
  acceptOverflowRst,
  acceptOverflowDrop,
  synDropped,
  connectionRefused,
  closeWaitLeak,
  finRetransmit,
  timeWaitChurn,
  tupleReuse,
  synFlood,
  reset,
  halfClose,
  keepaliveTimeout,
  dataUnacked,
  portScan,
]);

/**
 * Zeek-compatible `conn_state` (base/protocols/conn/main.zeek), derived from the two Zeek endpoint
 * states that {@link ZeekSession} tracks. Zeek's endpoint states are coarser than RFC 9293's
 * (seven codes, no FIN_WAIT/CLOSE_WAIT/TIME_WAIT), so conn_state is computed from Zeek's own view
 * of the connection, not from our per-endpoint RFC states: that is what makes the verdict agree
 * with a Zeek conn.log for the same capture.
 *
 * @module
 */

import type { ConnState } from './types.ts';

/** Zeek TCP endpoint state codes (the numbers Zeek prints in `endpoint$state`). */
export const ZEEK_INACTIVE = 0;
export const ZEEK_SYN_SENT = 1;
export const ZEEK_SYN_ACK_SENT = 2;
export const ZEEK_PARTIAL = 3;
export const ZEEK_ESTABLISHED = 4;
export const ZEEK_CLOSED = 5;
export const ZEEK_RESET = 6;

/** The facts Zeek's `conn_state()` looks at, in Zeek's originator/responder orientation. */
export interface ZeekVerdictInput {
  /** Originator's Zeek endpoint state (ZEEK_* code). */
  readonly origState: number;
  readonly respState: number;
  /** Payload sizes as Zeek computes them from sequence numbers (only "zero or not" matters). */
  readonly origSize: number;
  readonly respSize: number;
  /** The Zeek history string (upper case = originator). */
  readonly history: string;
}

/** Zeek's RSTOS0 pattern: `^?S[^HAFGIQ]*R.*` (a SYN, then a RST before any answer). */
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R/;

/**
 * Zeek's conn_state for a TCP connection, same decision order as Zeek's `conn_state()`:
 * responder reset (REJ, RSTRH, RSTR), originator reset (RSTOS0, OTH, RSTO), both closed (SF),
 * one side closed (SH/S2, SHR/S3), attempt (S0), established (S1), else OTH.
 */
export function zeekConnState(input: ZeekVerdictInput): ConnState {
  const os = input.origState;
  const rs = input.respState;
  const oInactive = os === ZEEK_INACTIVE || os === ZEEK_PARTIAL;
  const rInactive = rs === ZEEK_INACTIVE || rs === ZEEK_PARTIAL;
  if (rs === ZEEK_RESET) {
    if (
      os === ZEEK_SYN_SENT ||
      os === ZEEK_SYN_ACK_SENT ||
      (os === ZEEK_RESET && input.origSize === 0 && input.respSize === 0)
    ) {
      return 'REJ';
    }
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === ZEEK_RESET) {
    if (rInactive) return RSTOS0_HISTORY.test(input.history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === ZEEK_CLOSED && os === ZEEK_CLOSED) return 'SF';
  if (os === ZEEK_CLOSED) return rInactive ? 'SH' : 'S2';
  if (rs === ZEEK_CLOSED) return oInactive ? 'SHR' : 'S3';
  if (os === ZEEK_SYN_SENT && rs === ZEEK_INACTIVE) return 'S0';
  if (os === ZEEK_ESTABLISHED && rs === ZEEK_ESTABLISHED) return 'S1';
  return 'OTH';
}

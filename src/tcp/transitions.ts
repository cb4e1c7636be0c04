/**
 * Per-endpoint RFC 9293 state machine as a passive observer can drive it: small pure functions
 * from (state, event) to the next state. No out-parameters, no side effects; the tracker records a
 * {@link Transition} whenever the returned state differs.
 *
 * Vantage rule: an endpoint's state changes when it SENDS a segment (SYN, SYN-ACK, FIN, RST), and
 * when a segment it RECEIVED is acknowledged BY it (its ACK proves reception). A FIN therefore
 * counts as received only once the receiver ACKs it; this is what makes crossing FINs come out as
 * CLOSING on both sides whichever side the capture was taken on. The ACK of an endpoint's own
 * SYN or FIN is the other kind of event: it moves the endpoint that is being acknowledged.
 *
 * @module
 */

import type { TcpState } from './types.ts';

/**
 * What happened to one endpoint:
 * - `send_syn` / `send_synack` / `send_fin` / `send_rst`: it sent that segment (first copy).
 * - `ack_peer_syn` / `ack_peer_fin`: it acknowledged the peer's SYN / FIN (so it received it).
 * - `own_syn_acked` / `own_fin_acked`: the peer acknowledged its SYN / FIN.
 * - `rst_received`: the peer sent an in-window RST.
 * - `established_evidence`: a side seen only mid-stream sent data or acknowledged the peer's data.
 */
export type EndpointEvent =
  | 'send_syn'
  | 'send_synack'
  | 'send_fin'
  | 'send_rst'
  | 'ack_peer_syn'
  | 'ack_peer_fin'
  | 'own_syn_acked'
  | 'own_fin_acked'
  | 'rst_received'
  | 'established_evidence';

/**
 * The endpoint's next state after `event` (RFC 9293 §3.3.2 figure 5, §3.10.7), or `state` itself
 * when the event does not move it (retransmissions, events impossible in that state).
 *
 * Deviations from the RFC diagram, all forced by watching from outside:
 * - LISTEN is never entered: a listener is a property of the service, not of this connection, so a
 *   server that never answered stays CLOSED and one that answers goes CLOSED → SYN_RECEIVED.
 * - UNKNOWN (a side seen only mid-stream) behaves like ESTABLISHED for FIN and ACK events.
 * - A FIN sent from SYN_SENT (data queued with the close before the handshake finished, as in
 *   Zeek's fin_retransmission trace) is shown as FIN_WAIT_1, the state the stack will be in once
 *   the SYN-ACK arrives.
 * - A RST received in TIME_WAIT closes it (Linux default `tcp_rfc1337 = 0`: TIME-WAIT assassination).
 */
export function nextState(state: TcpState, event: EndpointEvent): TcpState {
  switch (event) {
    case 'send_syn':
      return state === 'CLOSED' || state === 'LISTEN' || state === 'UNKNOWN' ? 'SYN_SENT' : state;
    case 'send_synack':
      // SYN_SENT → SYN_RECEIVED is the simultaneous open of RFC 9293 §3.5 figure 8.
      return state === 'CLOSED' || state === 'LISTEN' || state === 'UNKNOWN' || state === 'SYN_SENT'
        ? 'SYN_RECEIVED'
        : state;
    case 'send_fin':
      switch (state) {
        case 'ESTABLISHED':
        case 'SYN_RECEIVED':
        case 'SYN_SENT':
        case 'UNKNOWN':
          return 'FIN_WAIT_1';
        case 'CLOSE_WAIT':
          return 'LAST_ACK';
        default:
          return state;
      }
    case 'send_rst':
      return 'CLOSED';
    case 'rst_received':
      return state === 'CLOSED' ? state : 'CLOSED';
    case 'ack_peer_syn':
      return state === 'SYN_SENT' || state === 'UNKNOWN' ? 'ESTABLISHED' : state;
    case 'own_syn_acked':
      return state === 'SYN_RECEIVED' ? 'ESTABLISHED' : state;
    case 'ack_peer_fin':
      switch (state) {
        case 'ESTABLISHED':
        case 'SYN_RECEIVED':
        case 'SYN_SENT':
        case 'UNKNOWN':
          return 'CLOSE_WAIT';
        case 'FIN_WAIT_1':
          return 'CLOSING';
        case 'FIN_WAIT_2':
          return 'TIME_WAIT';
        default:
          return state;
      }
    case 'own_fin_acked':
      switch (state) {
        case 'FIN_WAIT_1':
          return 'FIN_WAIT_2';
        case 'CLOSING':
          return 'TIME_WAIT';
        case 'LAST_ACK':
          return 'CLOSED';
        default:
          return state;
      }
    case 'established_evidence':
      return state === 'UNKNOWN' ? 'ESTABLISHED' : state;
  }
}

/** Whether an endpoint in `state` is done with the connection (nothing more will move it but a new SYN). */
export function isFinalState(state: TcpState): boolean {
  return state === 'CLOSED' || state === 'TIME_WAIT';
}

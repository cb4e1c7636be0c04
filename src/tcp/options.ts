/**
 * Options of the flow tracker, with every default in one constant.
 *
 * @module
 */

/** Options of {@link FlowTracker}. All times are packet time (capture timestamps), never wall clock. */
export interface FlowTrackerOptions {
  /**
   * Seconds without a packet after which a live (not closed) flow leaves the table with
   * closeReason `idle_timeout`. Default 300, Zeek's `tcp_inactivity_timeout`: long enough that an
   * idle but healthy keep-alive connection (Linux probes after 7200 s, many apps every 30-120 s)
   * is usually split at most rarely, short enough that scans and abandoned attempts do not pile up.
   */
  readonly idleTimeoutSeconds: number;
  /**
   * Seconds a closed flow (a RST, or a FIN exchange) with a side not in a final state stays in
   * the table after its last packet (both sides final: `finalLingerSeconds`), so late packets
   * still attach to it instead of starting a bogus new flow: retransmissions of the side still
   * open (RTO backoff 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s on Linux), a last ACK or RST in flight. Default 10 (Zeek uses 5 s for
   * `tcp_close_delay`/`tcp_reset_delay`; we allow one more RTO doubling). A new SYN with a new ISN
   * during the linger still starts a new incarnation at once.
   */
  readonly lingerSeconds: number;
  /**
   * Seconds a closed flow whose two sides both reached a final state (CLOSED or TIME_WAIT) stays
   * in the table after its last packet. Default 2: both ends are done, so what can still arrive is
   * a last ACK or FIN retransmitted once (an RTO of 0.2-1 s) or a packet already in flight; a
   * longer stay only holds memory (on a busy capture most flows end this way). A new SYN opens a
   * new incarnation either way, and the closed tuple is remembered (`rememberClosedSeconds`)
   * for `previous`. Flows closed with a side not final (an ignored RST) keep `lingerSeconds`.
   */
  readonly finalLingerSeconds: number;
  /**
   * How long (packet seconds) the last closed incarnation of a 4-tuple is remembered after its
   * last packet, to fill `previous` of the next one. Default 60: Linux's TIME_WAIT length
   * (2MSL with MSL = 30 s); reuse later than that is ordinary and not worth linking.
   */
  readonly rememberClosedSeconds: number;
  /**
   * At most this many closed incarnations are remembered at once (each for
   * `rememberClosedSeconds`; when full, the oldest is forgotten early). Default 1 048 576: a
   * million closes a minute before it matters, ~100 bytes each while remembered.
   */
  readonly maxRememberedClosed: number;
  /**
   * Hard cap on live flows. When a new flow would exceed it, the least recently active flow
   * leaves early (closeReason `idle_timeout`, counted in `flowsEvicted`). Default 262 144: bounds
   * memory on a SYN flood of distinct tuples whatever the idle timeout.
   */
  readonly maxLiveFlows: number;
  /**
   * A listener is under a SYN flood while the SYNs (without ACK) sent to it exceed the SYN-ACKs it
   * sent by at least this many, counted over the capture in capture order (retransmissions
   * included). A connection whose first SYN comes during a flood is a "flood flow": while its
   * client has sent only SYNs and its server nothing, it waits on a list of its own, capped by
   * `maxLiveFloodFlows`, and if it leaves the table that way it is counted, not kept
   * (`capture.unansweredSynsFolded`, per listener; the `syn-flood` finding counts it in). This
   * is what keeps a flood of millions of spoofed SYNs in bounded memory. Default 8 192: a
   * listener that answers its SYNs never gets there (the benchmark capture's busiest listener, with
   * SYN retries on 5% of 436,648 connections, peaks at 94). Decided by the reader thread for `--jobs`,
   * so the same connections are flood flows for any number of jobs.
   */
  readonly synFloodOutstanding: number;
  /**
   * At most this many flood flows (see `synFloodOutstanding`) are live at once; when full, the
   * least recently active leaves (closeReason `idle_timeout`, counted in `flowsEvicted`). Default
   * 8 192. Like `maxLiveFlows`, a cap is per shard with `--jobs`: a flood SYN retried after its
   * flow left may be counted as a new connection with one number of jobs and not another.
   */
  readonly maxLiveFloodFlows: number;
  /** Transitions kept per flow (both sides together); the rest are counted. Default 64. */
  readonly maxTransitionsPerFlow: number;
  /** Segment samples kept from the start of a flow. Default 48. */
  readonly maxHeadSamples: number;
  /** Segment samples kept from the end of a flow (a ring). Default 16. */
  readonly maxTailSamples: number;
  /**
   * Flows with an id up to this keep their segment samples even when routine (complete
   * handshake, closed by FINs or still open, no retransmission, RST, zero window, keep-alive,
   * duplicate ACK, inferred transition or weird); later routine flows are emitted with
   * `segments: []`. Default 64: enough examples for a report's ladder diagrams, while the samples
   * of the other routine flows, most of a large capture's memory, are dropped.
   */
  readonly keepRoutineSamplesOfFirstFlows: number;
  /** Fractional digits of ISO timestamps: 6 for a µs capture, 9 for ns. Default 6. */
  readonly tsPrecisionDigits: number;
  /**
   * Called for each packet-level anomaly the tracker notices (`rst_out_of_window`,
   * `syn_seq_jump`, `data_after_reset`, ...), with the id of the flow. Counts are also kept in
   * `tracker.weirds`. Default: none.
   */
  readonly onWeird: ((name: string, flowId: number) => void) | undefined;
}

/** Documented defaults of {@link FlowTrackerOptions}. */
export const DEFAULT_FLOW_TRACKER_OPTIONS: Readonly<FlowTrackerOptions> = Object.freeze({
  idleTimeoutSeconds: 300,
  lingerSeconds: 10,
  finalLingerSeconds: 2,
  rememberClosedSeconds: 60,
  maxRememberedClosed: 1 << 20,
  maxLiveFlows: 262144,
  synFloodOutstanding: 8192,
  maxLiveFloodFlows: 8192,
  maxTransitionsPerFlow: 64,
  maxHeadSamples: 48,
  maxTailSamples: 16,
  keepRoutineSamplesOfFirstFlows: 64,
  tsPrecisionDigits: 6,
  onWeird: undefined,
});

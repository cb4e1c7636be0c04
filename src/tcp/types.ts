/**
 * Boundary types of the flow and TCP-state stages: {@link TcpSegment}s in, {@link FlowRecord}s out.
 *
 * A FlowRecord is one TCP connection (one incarnation of a 4-tuple) as both endpoints lived it.
 * It is also, field for field, the `flows[]` entry of the `tcpmortem/1` JSON contract, so every
 * field is JSON-serialisable without loss (numbers, strings, booleans, arrays, plain objects).
 */

/** RFC 9293 §3.3.2 connection states, with underscores, plus UNKNOWN for a side seen only mid-stream. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT'
  | 'UNKNOWN';

/** Which endpoint: the client sent the first SYN (or was inferred to). */
export type Side = 'client' | 'server';

/** One state change of one endpoint. */
export interface Transition {
  /** 1-based frame number of the segment that caused it (or that revealed it, when inferred). */
  readonly frame: number;
  /** ISO 8601 UTC timestamp with the capture's precision. */
  readonly ts: string;
  /** The same instant as seconds since the epoch (float; for arithmetic and charts, `ts` is exact). */
  readonly tSeconds: number;
  readonly side: Side;
  readonly from: TcpState;
  readonly to: TcpState;
  /** False: the causing segment is in the capture. True: deduced (e.g. the FIN was never seen but the peer ACKed it). */
  readonly inferred: boolean;
}

/** How the three-way handshake went, from what was captured. */
export type HandshakeOutcome =
  | 'complete' // SYN, SYN-ACK and the client's ACK of it all seen (or implied by later traffic)
  | 'no_synack' // SYN(s) seen, never answered
  | 'refused' // SYN answered by RST (nothing listening)
  | 'half_open' // SYN and SYN-ACK seen, the client's final ACK never
  | 'reset_after_ack' // handshake completed, then reset before any server data (e.g. accept-queue overflow)
  | 'not_seen'; // the capture started after the handshake

/** Zeek conn_state values (base/protocols/conn/main.zeek). */
export type ConnState =
  | 'S0'
  | 'S1'
  | 'SF'
  | 'REJ'
  | 'S2'
  | 'S3'
  | 'RSTO'
  | 'RSTR'
  | 'RSTOS0'
  | 'RSTRH'
  | 'SH'
  | 'SHR'
  | 'OTH';

/** An endpoint address as it appears in JSON: IPv4 dotted quad or RFC 5952 IPv6 text. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** Exact per-flow counters. */
export interface FlowCounts {
  syn: number;
  synAck: number;
  finClient: number;
  finServer: number;
  rstClient: number;
  rstServer: number;
  synRetransmissions: number;
  synAckRetransmissions: number;
  finRetransmissions: number;
  dataRetransmissionsClient: number;
  dataRetransmissionsServer: number;
  dataBytesClient: number;
  dataBytesServer: number;
  keepaliveProbes: number;
  duplicateAcks: number;
  zeroWindows: number;
}

/**
 * A sample of one segment kept for ladder diagrams and detectors. Per flow only a bounded number
 * are kept (the first ones, then the last ones); `segmentsOmitted` says how many were left out.
 */
export interface SegmentSample {
  readonly frame: number;
  /** Seconds since the flow's first packet. */
  readonly relSeconds: number;
  /** Sender of the segment. */
  readonly from: Side;
  /** Flags as text: S, SA, A, PA, FA, R, RA ... (see `flagsToText`). */
  readonly flags: string;
  /** Relative sequence number (0 = the sender's ISN when seen). */
  readonly seq: number;
  /** Relative acknowledgment number, or -1 when ACK is not set. */
  readonly ack: number;
  /** Payload bytes on the wire. */
  readonly len: number;
  /** Raw window field. */
  readonly window: number;
  /** Set when this segment repeats one already sent: 'syn', 'synack', 'fin', 'data', 'keepalive'. */
  readonly retransmission?: 'syn' | 'synack' | 'fin' | 'data' | 'keepalive';
}

/** One TCP connection (one incarnation of a 4-tuple): the `flows[]` entry of `tcpmortem/1`. */
export interface FlowRecord {
  /** 1-based, in order of first packet. */
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** VLAN key (see TcpSegment.vlanKey), -1 for untagged. */
  readonly vlan: number;
  /** True when the client/server roles were not fixed by a captured SYN (see `roleReason`). */
  readonly rolesInferred: boolean;
  /** How roles were decided: 'syn', 'synack', 'port', 'first_packet'. */
  readonly roleReason: 'syn' | 'synack' | 'port' | 'first_packet';
  /** 1 for the first connection on this 4-tuple in the capture, 2 for the next, ... */
  readonly incarnation: number;
  readonly firstFrame: number;
  readonly lastFrame: number;
  /** ISO 8601 UTC. */
  readonly start: string;
  readonly end: string;
  /** `start` and `end` as seconds since the epoch (float, for arithmetic). */
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly durationSeconds: number;
  readonly packets: { readonly client: number; readonly server: number };
  /** Wire bytes (IP length) per side. */
  readonly bytes: { readonly client: number; readonly server: number };
  readonly handshake: HandshakeOutcome;
  readonly finalState: { readonly client: TcpState; readonly server: TcpState };
  /**
   * Seconds from entering the final state to the end of the capture. For a flow that left the
   * live table before the end (closed and lingered out, idle, superseded) the flow tracker cannot
   * know the capture's end yet and measures to the packet time at which the flow left; use
   * `finalStateSinceSeconds` to re-measure against the capture's last packet time.
   */
  readonly secondsInFinalState: { readonly client: number; readonly server: number };
  /**
   * When each side entered its final state, as seconds since the epoch (packet time). Optional;
   * added by the flow tracker so consumers can measure time in the final state to any instant.
   */
  readonly finalStateSinceSeconds?: { readonly client: number; readonly server: number };
  /** Bounded; `transitionsOmitted` counts the ones left out. */
  readonly transitions: readonly Transition[];
  readonly transitionsOmitted: number;
  readonly counts: FlowCounts;
  readonly connState: ConnState;
  /** Zeek history letters (upper case client, lower case server). */
  readonly history: string;
  /**
   * Present only when Zeek would log this flow as several connections: its 5 s connection-attempt
   * timer (`tcp_attempt_delay`) removes a connection whose originator is still in SYN_SENT with a
   * silent responder, and later packets start a new Zeek connection. `connState`/`history` above
   * describe the first of them (the conn.log row that starts with our first packet); these are the
   * following rows for the same 4-tuple, in order. Added by the flow tracker; optional.
   */
  readonly zeekContinuations?: readonly {
    /** 1-based frame number of the Zeek connection's first packet. */
    readonly firstFrame: number;
    readonly connState: ConnState;
    readonly history: string;
  }[];
  /** Handshake RTT split, when measurable: client side (SYN-ACK → ACK) and server side (SYN → SYN-ACK). */
  readonly rttMs?: { readonly total: number; readonly clientSide: number; readonly serverSide: number };
  /** Why the flow left the live table: a FIN/RST close, idle timeout, or the end of the capture. */
  readonly closeReason: 'closed' | 'reset' | 'idle_timeout' | 'end_of_capture' | 'superseded';
  /** IPv4 TTL / IPv6 hop limit of the first packet each side sent (-1 when it sent none): hints the vantage point. */
  readonly ttl: { readonly client: number; readonly server: number };
  /** Bytes each side sent that the peer had not acknowledged when the flow ended (0 when all acked or unknown). */
  readonly unackedBytesAtEnd: { readonly client: number; readonly server: number };
  /**
   * Set on incarnation 2, 3 ... of a 4-tuple: the previous connection on the same 4-tuple, how long
   * after its last packet this one started, and each side's final state in it (TIME_WAIT there
   * means the 4-tuple was reused inside 2MSL). Raw material of `tuple-reuse` and `time-wait-churn`.
   */
  readonly previous?: {
    readonly flowId: number;
    readonly secondsSinceLastPacket: number;
    readonly finalState: { readonly client: TcpState; readonly server: TcpState };
    /** Whether the new SYN came from the previous connection's client (true) or its server. */
    readonly sameClient: boolean;
  };
  /**
   * Bounded sample of segments (first and last ones) for ladder diagrams and detectors.
   * Empty for a routine flow after the first 64 of the capture (tracker option
   * `keepRoutineSamplesOfFirstFlows`): complete handshake, closed by FINs or still open, and no
   * retransmission of any kind, RST, zero window, keep-alive, duplicate ACK, inferred transition
   * or weird. Then `segmentsOmitted` is the flow's number of segments. Such flows are most of a
   * busy capture and their samples would be most of the result's memory, while detectors and the
   * report only look at the samples of flows where something went wrong.
   */
  readonly segments: readonly SegmentSample[];
  readonly segmentsOmitted: number;
}

/**
 * The flows of one analysis, in id order: the boundary between the flow stage and everything
 * after it (diagnosis, report model, JSON writer, queries).
 *
 * Implemented by plain arrays (a result read back from JSON, tests) and by the compact
 * `FlowStore` the analysis fills (a few hundred bytes per flow in typed-array columns), which
 * builds a {@link FlowRecord} each time one is asked for. Contract for consumers:
 * - a record may be a fresh object on every access: compare records by `id`, never by identity,
 *   and never key a Map/Set/WeakMap by a record;
 * - keep references only to the records you need (a finding's evidence, a bounded sample), not
 *   to all of them: holding every record of a 500 000-connection capture costs gigabytes;
 * - iterate (`for … of`) rather than index where you can; `at(i)` is O(1) but builds a record.
 */
export interface FlowList extends Iterable<FlowRecord> {
  readonly length: number;
  /** The flow at 0-based position `index` (id order), or undefined when out of range. */
  at(index: number): FlowRecord | undefined;
  /**
   * Optional fast path of a pass over every flow: calls `visit` with each flow's
   * {@link FlowSummary} and position, in order. Implemented by lists that build records (the flow
   * store): a summary reuses one object for every flow and skips the costly parts of a record
   * (ISO text, one object per transition). Call it through `scanFlows` (flow-summary.ts), which
   * falls back to iterating the records.
   */
  scan?(visit: (flow: FlowSummary, position: number) => void): void;
  /**
   * Optional: the summary of the flow at `position` (same object reuse rule as `scan`: valid until
   * the list's next summary). For a second look at a few flows a pass found, with the same keys
   * its scan gave. Call it through `summaryAt` (flow-summary.ts), which falls back to `at`.
   */
  summaryAt?(position: number): FlowSummary | undefined;
}

/**
 * Unanswered SYN-only connections to one listener that were counted instead of kept as flows
 * (tracker option `synFloodOutstanding`): `capture.unansweredSynsFolded[]`.
 */
export interface UnansweredSynFold {
  readonly server: Endpoint;
  /** VLAN key of the connections, -1 when untagged. */
  readonly vlan: number;
  /** Connections folded (each a distinct 4-tuple incarnation whose client sent only SYNs). */
  readonly connections: number;
  /** Their SYN packets, retransmissions included. */
  readonly synPackets: number;
  /** First packet of the earliest and of the latest of them (ISO 8601 UTC, and epoch seconds). */
  readonly firstTs: string;
  readonly lastTs: string;
  readonly firstSeconds: number;
  readonly lastSeconds: number;
}

/** A {@link Transition} without its ISO text (`tSeconds` is the same instant). */
export type TransitionCore = Omit<Transition, 'ts'>;

/**
 * What a pass over every flow reads: a {@link FlowRecord} without its ISO texts (`start`, `end`,
 * each transition's `ts`) and Zeek continuations. Every FlowRecord is a FlowSummary. A list's
 * `scan` hands out ONE object, reused (nested objects, the transitions array and its entries
 * too) for every flow of the pass: read it during the visit, keep numbers or strings from it, and
 * fetch `list.at(position)` for a record to keep.
 *
 * `rttMs`, `previous` and `finalStateSinceSeconds`, and a segment sample's `retransmission`, may
 * be present and undefined (a reused object cannot drop a property without a slow shape change).
 */
export interface FlowSummary
  extends Omit<FlowRecord, 'start' | 'end' | 'transitions' | 'zeekContinuations' | 'rttMs' | 'previous' | 'finalStateSinceSeconds'> {
  readonly transitions: readonly TransitionCore[];
  readonly rttMs?: FlowRecord['rttMs'] | undefined;
  readonly previous?: FlowRecord['previous'] | undefined;
  readonly finalStateSinceSeconds?: FlowRecord['finalStateSinceSeconds'] | undefined;
  /**
   * The client address as an exact key, cheaper than its text: equal keys if and only if equal
   * addresses, within one list. A number for IPv4 (the 32-bit address as int32), a string otherwise
   * (`addressKeyOfWords`); `addressKeyText()` gives the text. Absent on records: read it with
   * `clientAddressKey()` (flow-summary.ts), which falls back to the text.
   */
  readonly clientAddressKey?: number | string;
  /** The server address as an exact key, as {@link clientAddressKey}. */
  readonly serverAddressKey?: number | string;
  /**
   * `segments.length`, known without decoding the samples (a store's summaries). Absent on
   * records: read it with `sampledSegmentCount()` (flow-summary.ts).
   */
  readonly sampledSegments?: number;
}

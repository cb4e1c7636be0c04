/**
 * Every diagnosis threshold, in one place, per detector id. Each detector's `defaultOptions` is
 * its entry here; callers override single values through `DiagnoseOptions.thresholds`.
 * Units are in the names and in the TSDoc.
 */

export interface SynRetransmitOptions {
  /** Relative tolerance when matching observed retry gaps to a backoff pattern (0.3 = ±30 %). */
  readonly backoffTolerance: number;
  /** Minimum SYN retransmissions on a connection to report it (segments). */
  readonly minRetransmissions: number;
}

export interface SynAckRetransmitOptions {
  readonly minRetransmissions: number;
}

export interface AcceptOverflowRstOptions {
  /**
   * Largest gap from the client's final ACK (or first data) to the server's RST, in ms, on top of
   * `rttMultiple` handshake RTTs (a capture near the client sees the RST one RTT later).
   */
  readonly maxRstDelayMs: number;
  /** Handshake RTTs added to `maxRstDelayMs` (dimensionless). */
  readonly rttMultiple: number;
  /** Resets further apart than this start a new saturation episode (seconds). */
  readonly episodeGapSeconds: number;
}

export interface AcceptOverflowDropOptions {
  readonly minSynAckResends: number;
}

export interface SynDroppedOptions {
  /** Minimum unanswered connections to a listener that answered others (connections). */
  readonly minConnections: number;
  /**
   * Minimum time from a connection's first SYN to the end of the capture (seconds): a SYN answered
   * after the capture stopped is not dropped. 1 s is the initial SYN RTO (RFC 6298).
   */
  readonly minSilenceSeconds: number;
}

export interface ConnectionRefusedOptions {
  readonly minConnections: number;
}

export interface CloseWaitLeakOptions {
  /** Minimum time a side stayed in CLOSE_WAIT, in seconds, to count as a leak. */
  readonly minAgeSeconds: number;
  /**
   * A socket that left CLOSE_WAIT by sending a RST itself did close (abortively); it counts as a
   * leak only after this long in CLOSE_WAIT (seconds).
   */
  readonly minAgeBeforeOwnResetSeconds: number;
  /** Above this many leaking connections on one service the finding is an error (connections). */
  readonly errorCount: number;
}

export interface FinRetransmitOptions {
  readonly minRetransmissions: number;
}

export interface TimeWaitChurnOptions {
  /** Minimum connections actively closed by one host towards one destination (connections). */
  readonly minConnections: number;
  /** Only connections shorter than this count as "short" (seconds). */
  readonly maxConnectionSeconds: number;
  /** 2MSL of a Linux host, the TIME_WAIT duration (seconds; TCP_TIMEWAIT_LEN). */
  readonly linuxTimeWaitSeconds: number;
  /** 2MSL of a Windows host (seconds; TcpTimedWaitDelay default). */
  readonly windowsTimeWaitSeconds: number;
  /** Ephemeral ports of the default Linux range 32768-60999 (ports). */
  readonly ephemeralPorts: number;
  /** Below this fraction of the ephemeral ports in projected TIME_WAIT the finding is only info (0..1). */
  readonly warnPortFraction: number;
  /** Points of the estimated TIME_WAIT population series in `details` (points). */
  readonly seriesPoints: number;
}

export interface TupleReuseOptions {
  /** A previous incarnation closed less than this long before counts as reuse inside 2MSL (seconds). */
  readonly timeWaitSeconds: number;
}

export interface SynFloodOptions {
  /** Minimum half-open connections to one listener (connections). */
  readonly minHalfOpen: number;
  /** Minimum distinct source address:port pairs among them (sources). */
  readonly minDistinctSources: number;
  /** Minimum share of the listener's connections that are half-open (0..1). */
  readonly minHalfOpenFraction: number;
}

export interface ResetOptions {
  /** Silence before a RST, in seconds, from which it is attributed to an idle timeout. */
  readonly idleGapSeconds: number;
}

export interface HalfCloseOptions {
  /** Minimum payload bytes the other side sent after the FIN (bytes). */
  readonly minBytesAfterFin: number;
}

export interface KeepaliveTimeoutOptions {
  /**
   * Minimum unanswered keepalive probes before the abort (probes). Values below 1 count as 1: an
   * abort with no probe before it is not a keepalive timeout (the `reset` detector names it).
   */
  readonly minUnansweredProbes: number;
}

export interface DataUnackedOptions {
  /** Minimum bytes left unacknowledged when the connection died (bytes). */
  readonly minUnackedBytes: number;
}

export interface PortScanOptions {
  /** Minimum distinct services (server ip:port) probed by one host (services). */
  readonly minTargets: number;
  /** Minimum share of the host's connections that are probes (no data either way) (0..1). */
  readonly minProbeFraction: number;
  /** The `minTargets` services must be probed within this long (seconds). */
  readonly windowSeconds: number;
}

/** All thresholds, keyed by detector id. */
export interface DiagnoseThresholds {
  readonly 'syn-retransmit': SynRetransmitOptions;
  readonly 'synack-retransmit': SynAckRetransmitOptions;
  readonly 'accept-overflow-rst': AcceptOverflowRstOptions;
  readonly 'accept-overflow-drop': AcceptOverflowDropOptions;
  readonly 'syn-dropped': SynDroppedOptions;
  readonly 'connection-refused': ConnectionRefusedOptions;
  readonly 'close-wait-leak': CloseWaitLeakOptions;
  readonly 'fin-retransmit': FinRetransmitOptions;
  readonly 'time-wait-churn': TimeWaitChurnOptions;
  readonly 'tuple-reuse': TupleReuseOptions;
  readonly 'syn-flood': SynFloodOptions;
  readonly reset: ResetOptions;
  readonly 'half-close': HalfCloseOptions;
  readonly 'keepalive-timeout': KeepaliveTimeoutOptions;
  readonly 'data-unacked': DataUnackedOptions;
  readonly 'port-scan': PortScanOptions;
}

/** The documented defaults. */
export const DEFAULT_DIAGNOSE_OPTIONS: DiagnoseThresholds = Object.freeze({
  'syn-retransmit': { backoffTolerance: 0.3, minRetransmissions: 1 },
  'synack-retransmit': { minRetransmissions: 1 },
  // A kernel answers from softirq context, well under a millisecond; 10 ms leaves room for a busy host.
  'accept-overflow-rst': { maxRstDelayMs: 10, rttMultiple: 2, episodeGapSeconds: 1 },
  'accept-overflow-drop': { minSynAckResends: 1 },
  'syn-dropped': { minConnections: 1, minSilenceSeconds: 1 },
  'connection-refused': { minConnections: 1 },
  // 0.25 s: an application that closes promptly does so within milliseconds of reading EOF; the
  // margin covers a delayed ACK (up to 200 ms on Linux) of the peer's FIN.
  // 60 s before an own RST: the peer's orphaned FIN_WAIT_2 expires after tcp_fin_timeout (60 s on
  // Linux); a socket that outlives it in CLOSE_WAIT before aborting was left open, not closed late.
  'close-wait-leak': { minAgeSeconds: 0.25, minAgeBeforeOwnResetSeconds: 60, errorCount: 10 },
  'fin-retransmit': { minRetransmissions: 1 },
  'time-wait-churn': {
    minConnections: 100,
    maxConnectionSeconds: 10,
    linuxTimeWaitSeconds: 60,
    windowsTimeWaitSeconds: 240,
    ephemeralPorts: 28232,
    warnPortFraction: 0.1,
    seriesPoints: 60,
  },
  'tuple-reuse': { timeWaitSeconds: 240 },
  // 50 half-open connections: far above what packet loss leaves behind on one listener, small
  // enough to name a flood before a default SYN backlog (128-1024) is exhausted.
  'syn-flood': { minHalfOpen: 50, minDistinctSources: 20, minHalfOpenFraction: 0.5 },
  // 30 s: shorter than common NAT/firewall idle timeouts (AWS NLB 350 s, conntrack 432000 s) would
  // misread ordinary pauses; a RST after this much silence is worth naming as a timeout.
  reset: { idleGapSeconds: 30 },
  'half-close': { minBytesAfterFin: 1 },
  'keepalive-timeout': { minUnansweredProbes: 2 },
  'data-unacked': { minUnackedBytes: 1 },
  // 8 services: a client application talks to a handful of services; probing 8 or more with empty
  // connections within a minute, most of its connections being such probes, is a sweep.
  'port-scan': { minTargets: 8, minProbeFraction: 0.8, windowSeconds: 60 },
});

/**
 * The `tcpmortem/1` JSON contract: what `tcpmortem analyze --json` prints and what the HTML
 * renderer reads. Versioned by `schema`; fields are only ever added within a major version.
 * Everything here is plain JSON (no bigint, no Map, no undefined inside arrays), except that
 * `flows` may be a {@link FlowList} that builds its records on demand: its JSON is an array.
 */
import type { FlowList, UnansweredSynFold } from '../tcp/types.ts';
import type { CaptureQuality, DetectorRun, Finding } from '../diagnose/types.ts';

export const SCHEMA = 'tcpmortem/1' as const;

/** One interface of the capture, as reported. */
export interface InterfaceFacts {
  readonly id: number;
  readonly linkType: number;
  /** Human name of the link type, e.g. `ETHERNET`, `LINUX_SLL2`. */
  readonly linkTypeName: string;
  readonly snapLength: number;
  /** Timestamp resolution, e.g. `1e-6` or `2^-10`, as text. */
  readonly tsResolution: string;
  readonly name?: string;
  readonly packets: number;
  /** Drops reported by the capture's statistics blocks for this interface, when present. */
  readonly drops?: { readonly interface?: number; readonly os?: number };
}

/** A record-level warning, as in JSON. */
export interface WarningFacts {
  readonly code: string;
  readonly message: string;
  readonly byteOffset: number;
  readonly frame?: number;
}

/** The `capture` section (shared by `info --json` and `analyze --json`). */
export interface CaptureFacts {
  /** File name as given on the command line (`-` for stdin); the core leaves it as the caller set it. */
  readonly file: string;
  readonly format: 'pcap' | 'pcapng';
  readonly compressed: boolean;
  readonly byteOrder: string;
  readonly version: string;
  readonly sections: number;
  readonly interfaces: readonly InterfaceFacts[];
  readonly linkTypes: readonly string[];
  /** Every packet record. */
  readonly packets: number;
  /** Records that decoded to a TCP segment. */
  readonly tcpPackets: number;
  /** Sum of original (wire) lengths. */
  readonly bytes: number;
  /** Sum of captured lengths. */
  readonly capturedBytes: number;
  /** ISO 8601 UTC with the file's precision; null for an empty capture. */
  readonly firstTs: string | null;
  readonly lastTs: string | null;
  readonly durationSeconds: number;
  /** Total drops the capture reports (isb_ifdrop + isb_osdrop), null when it says nothing. */
  readonly drops: number | null;
  /** Records with capturedLength < originalLength. */
  readonly truncatedPackets: number;
  /** Records whose timestamp is earlier than the previous record's. */
  readonly timestampsBackwards: number;
  /** Packet counts by skip reason: not_ip, not_tcp, fragment, unsupported_link. */
  readonly skipped: Readonly<Record<string, number>>;
  /** Packet-level anomalies ("weirds") by stable name, with counts. */
  readonly anomalies: Readonly<Record<string, number>>;
  readonly warnings: readonly WarningFacts[];
  /** True when reading stopped before the end (tier-b problem or interruption): results are partial. */
  readonly partial: boolean;
  readonly comments: readonly string[];
  /**
   * Present only when the flow tracker counted unanswered SYN-only connections instead of keeping
   * them (a listener under a SYN flood, see `synFloodOutstanding`): per listener, their totals. They are
   * not in `flows[]`; the `syn-flood` finding counts them in.
   */
  readonly unansweredSynsFolded?: readonly UnansweredSynFold[];
}

/** The whole analysis result. */
export interface AnalysisReport {
  readonly schema: typeof SCHEMA;
  readonly tool: { readonly name: 'tcpmortem'; readonly version: string };
  readonly capture: CaptureFacts;
  /**
   * Every connection, in id order. A plain array when the report was read back from JSON; the
   * compact flow store after an analysis, which builds a record on each access: consumers follow
   * the {@link FlowList} contract (compare by id, keep only the records they need, few passes).
   * `JSON.stringify` does not serialise a non-array list: write reports with `writeReportJson`
   * (`json-writer.ts`), which also streams the flows one at a time.
   */
  readonly flows: FlowList;
  readonly findings: readonly Finding[];
  readonly detectors: readonly DetectorRun[];
  /**
   * What the capture can and cannot show (mid-connection start, one direction missing, drops,
   * snaplen cuts, duplicated frames, timestamps going backwards), computed before the findings.
   * Optional: absent in results written before it existed.
   */
  readonly quality?: CaptureQuality;
}

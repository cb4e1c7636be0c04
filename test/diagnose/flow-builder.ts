/**
 * Test helper: builds complete {@link FlowRecord}s from a few parameters and a segment script.
 * Counters, frames, times, packets and the handshake outcome are derived from the segments;
 * anything else can be overridden.
 */
import type { FlowRecord, SegmentSample, Side, TcpState, Transition } from '../../src/tcp/types.ts';
import type { CaptureFacts } from '../../src/report/model.ts';
import type { DetectorInput } from '../../src/diagnose/types.ts';
import { isoFromSeconds } from '../../src/diagnose/util.ts';

/** Epoch seconds the test flows start from: 2024-01-01T00:00:00Z. */
export const T0 = 1704067200;

/** [relSeconds, from, flags, seq, ack, len, retransmission?] ; frames are numbered from `firstFrame`. */
export type Seg = readonly [number, Side, string, number, number, number, SegmentSample['retransmission']?];

export interface FlowSpec {
  id: number;
  /** Epoch seconds of the first segment (default T0). */
  startSeconds?: number;
  client?: { ip: string; port: number };
  server?: { ip: string; port: number };
  firstFrame?: number;
  segments: readonly Seg[];
  /** Explicit frame numbers, one per segment (default: consecutive from firstFrame). */
  frames?: readonly number[];
  overrides?: Partial<FlowRecord>;
  /** Per-side final states and transitions (default derived roughly: ESTABLISHED/ CLOSED). */
  finalState?: { client: TcpState; server: TcpState };
  transitions?: readonly Omit<Transition, 'ts' | 'tSeconds'>[];
  /** Relative seconds for each transition (same order); default the time of the frame's segment. */
  secondsInFinalState?: { client: number; server: number };
}

const has = (flags: string, l: string): boolean => flags.includes(l);

export function buildFlow(spec: FlowSpec): FlowRecord {
  const start = spec.startSeconds ?? T0;
  const client = spec.client ?? { ip: '10.0.0.1', port: 40000 + spec.id };
  const server = spec.server ?? { ip: '10.0.0.2', port: 8080 };
  const first = spec.firstFrame ?? spec.id * 100;
  const segments: SegmentSample[] = spec.segments.map((s, i) => ({
    frame: spec.frames?.[i] ?? first + i,
    relSeconds: s[0],
    from: s[1],
    flags: s[2],
    seq: s[3],
    ack: s[4],
    len: s[5],
    window: 64240,
    ...(s[6] !== undefined ? { retransmission: s[6] } : {}),
  }));
  const from = (side: Side) => segments.filter((s) => s.from === side);
  const count = (side: Side, pred: (s: SegmentSample) => boolean) => from(side).filter(pred).length;
  const syn = count('client', (s) => has(s.flags, 'S') && !has(s.flags, 'A'));
  const synAck = count('server', (s) => has(s.flags, 'S') && has(s.flags, 'A'));
  const rstServer = count('server', (s) => has(s.flags, 'R'));
  const rstClient = count('client', (s) => has(s.flags, 'R'));
  const clientAck = segments.some((s) => s.from === 'client' && has(s.flags, 'A') && !has(s.flags, 'S') && !has(s.flags, 'R'));
  let handshake: FlowRecord['handshake'];
  if (syn === 0) handshake = 'not_seen';
  else if (synAck === 0) handshake = rstServer > 0 ? 'refused' : 'no_synack';
  else if (!clientAck) handshake = 'half_open';
  else handshake = 'complete';
  const last = segments[segments.length - 1];
  const endSeconds = start + (last?.relSeconds ?? 0);
  const frameTime = new Map(segments.map((s) => [s.frame, start + s.relSeconds]));
  const transitions: Transition[] = (spec.transitions ?? []).map((t) => {
    const tSeconds = frameTime.get(t.frame) ?? start;
    return { ...t, tSeconds, ts: isoFromSeconds(tSeconds) };
  });
  const dataBytes = (side: Side) => from(side).filter((s) => s.retransmission === undefined).reduce((n, s) => n + s.len, 0);
  const flow: FlowRecord = {
    id: spec.id,
    client,
    server,
    vlan: -1,
    rolesInferred: syn === 0,
    roleReason: syn > 0 ? 'syn' : 'port',
    incarnation: 1,
    firstFrame: segments[0]?.frame ?? first,
    lastFrame: last?.frame ?? first,
    start: isoFromSeconds(start),
    end: isoFromSeconds(endSeconds),
    startSeconds: start,
    endSeconds,
    durationSeconds: endSeconds - start,
    packets: { client: from('client').length, server: from('server').length },
    bytes: { client: from('client').length * 40 + dataBytes('client'), server: from('server').length * 40 + dataBytes('server') },
    handshake,
    finalState: spec.finalState ?? { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    secondsInFinalState: spec.secondsInFinalState ?? { client: 0, server: 0 },
    transitions,
    transitionsOmitted: 0,
    counts: {
      syn,
      synAck,
      finClient: count('client', (s) => has(s.flags, 'F')),
      finServer: count('server', (s) => has(s.flags, 'F')),
      rstClient,
      rstServer,
      synRetransmissions: segments.filter((s) => s.retransmission === 'syn').length,
      synAckRetransmissions: segments.filter((s) => s.retransmission === 'synack').length,
      finRetransmissions: segments.filter((s) => s.retransmission === 'fin').length,
      dataRetransmissionsClient: count('client', (s) => s.retransmission === 'data'),
      dataRetransmissionsServer: count('server', (s) => s.retransmission === 'data'),
      dataBytesClient: dataBytes('client'),
      dataBytesServer: dataBytes('server'),
      keepaliveProbes: segments.filter((s) => s.retransmission === 'keepalive').length,
      duplicateAcks: 0,
      zeroWindows: 0,
    },
    connState: 'SF',
    history: '',
    rttMs: { total: 0.2, clientSide: 0.1, serverSide: 0.1 },
    closeReason: rstClient + rstServer > 0 ? 'reset' : 'closed',
    ttl: { client: 64, server: from('server').length > 0 ? 64 : -1 },
    unackedBytesAtEnd: { client: 0, server: 0 },
    segments,
    segmentsOmitted: 0,
  };
  return { ...flow, ...spec.overrides };
}

/** Capture facts for tests: a clean capture unless overridden. */
export function captureFacts(overrides: Partial<CaptureFacts> = {}): CaptureFacts {
  return {
    file: 'test.pcap',
    format: 'pcap',
    compressed: false,
    byteOrder: 'little-endian',
    version: '2.4',
    sections: 1,
    interfaces: [],
    linkTypes: ['ETHERNET'],
    packets: 0,
    tcpPackets: 0,
    bytes: 0,
    capturedBytes: 0,
    firstTs: isoFromSeconds(T0),
    lastTs: null,
    durationSeconds: 0,
    drops: null,
    truncatedPackets: 0,
    timestampsBackwards: 0,
    skipped: {},
    anomalies: {},
    warnings: [],
    partial: false,
    comments: [],
    ...overrides,
  };
}

/** A detector input over these flows. */
export function inputOf(flows: readonly FlowRecord[], capture: Partial<CaptureFacts> = {}): DetectorInput {
  return { flows, capture: captureFacts(capture) };
}

/** A clean connection: handshake, request, response, client closes first, both FINs ACKed. */
export function cleanFlow(id: number, startSeconds = T0, extra: Partial<FlowSpec> = {}): FlowRecord {
  const f = (extra.firstFrame ?? id * 100);
  return buildFlow({
    id,
    startSeconds,
    segments: [
      [0, 'client', 'S', 0, -1, 0],
      [0.0001, 'server', 'SA', 0, 1, 0],
      [0.0002, 'client', 'A', 1, 1, 0],
      [0.001, 'client', 'PA', 1, 1, 100],
      [0.002, 'server', 'PA', 1, 101, 500],
      [0.003, 'client', 'FA', 101, 501, 0],
      [0.004, 'server', 'FA', 501, 102, 0],
      [0.005, 'client', 'A', 102, 502, 0],
    ],
    finalState: { client: 'TIME_WAIT', server: 'CLOSED' },
    transitions: [
      { frame: f, side: 'client', from: 'CLOSED', to: 'SYN_SENT', inferred: false },
      { frame: f + 1, side: 'server', from: 'LISTEN', to: 'SYN_RECEIVED', inferred: false },
      { frame: f + 1, side: 'client', from: 'SYN_SENT', to: 'ESTABLISHED', inferred: false },
      { frame: f + 2, side: 'server', from: 'SYN_RECEIVED', to: 'ESTABLISHED', inferred: false },
      { frame: f + 5, side: 'client', from: 'ESTABLISHED', to: 'FIN_WAIT_1', inferred: false },
      { frame: f + 6, side: 'server', from: 'ESTABLISHED', to: 'CLOSE_WAIT', inferred: false },
      { frame: f + 6, side: 'server', from: 'CLOSE_WAIT', to: 'LAST_ACK', inferred: false },
      { frame: f + 6, side: 'client', from: 'FIN_WAIT_1', to: 'FIN_WAIT_2', inferred: false },
      { frame: f + 7, side: 'client', from: 'FIN_WAIT_2', to: 'TIME_WAIT', inferred: false },
      { frame: f + 7, side: 'server', from: 'LAST_ACK', to: 'CLOSED', inferred: false },
    ],
    ...extra,
  });
}

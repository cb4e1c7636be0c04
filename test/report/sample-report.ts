/**
 * Plausible `tcpmortem/1` reports for renderer tests, built by hand while the pipeline is being
 * written: a clean close, a CLOSE_WAIT leak, accept-queue overflow resets, SYN retransmissions
 * (answered and not), an IPv6 connection; findings with every field. `buildSyntheticReport(n)`
 * scales the same shapes to n flows for size tests. Tests take the report as a parameter, so
 * reports of real kernel captures can replace these.
 */
import type { AnalysisReport } from '../../src/report/model.ts';
import type { Finding } from '../../src/diagnose/types.ts';
import type { FlowCounts, FlowRecord, HandshakeOutcome, ConnState, SegmentSample, Side, TcpState, Transition } from '../../src/tcp/types.ts';

export const EPOCH = 1_700_000_000;

type Seg = [rel: number, from: Side, flags: string, len?: number, retx?: SegmentSample['retransmission']];
type Tr = [segIndex: number, side: Side, from: TcpState, to: TcpState, inferred?: boolean];

interface FlowSpec {
  id: number;
  client: [string, number];
  server: [string, number];
  start: number;
  firstFrame: number;
  segs: readonly Seg[];
  trs: readonly Tr[];
  final: [TcpState, TcpState];
  handshake: HandshakeOutcome;
  connState: ConnState;
  history: string;
  closeReason: FlowRecord['closeReason'];
  captureEnd: number;
  rttMs?: number;
  counts?: Partial<FlowCounts>;
  segmentsOmitted?: number;
}

function iso(epochSeconds: number): string {
  const ms = Math.floor(epochSeconds * 1000);
  const micros = Math.round((epochSeconds * 1e6) % 1000);
  return new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

function makeFlow(s: FlowSpec): FlowRecord {
  const seqs: Record<Side, number> = { client: 0, server: 0 };
  const segments: SegmentSample[] = s.segs.map(([rel, from, flags, len = 0, retx], i) => {
    const seq = retx === undefined ? seqs[from] : Math.max(0, seqs[from] - 1);
    if (retx === undefined) seqs[from] += len + (flags.includes('S') || flags.includes('F') ? 1 : 0);
    const other: Side = from === 'client' ? 'server' : 'client';
    const base = { frame: s.firstFrame + i, relSeconds: rel, from, flags, seq, ack: flags.includes('A') ? seqs[other] : -1, len, window: 64240 };
    return retx === undefined ? base : { ...base, retransmission: retx };
  });
  const start = EPOCH + s.start;
  const last = s.segs[s.segs.length - 1]?.[0] ?? 0;
  const transitions: Transition[] = s.trs.map(([i, side, from, to, inferred = false]) => {
    const seg = segments[Math.min(i, segments.length - 1)]!;
    const t = start + seg.relSeconds;
    return { frame: seg.frame, ts: iso(t), tSeconds: t, side, from, to, inferred };
  });
  const lastT = (side: Side): number => {
    const ts = transitions.filter((t) => t.side === side);
    return ts[ts.length - 1]?.tSeconds ?? start;
  };
  const count = (pred: (x: SegmentSample) => boolean): number => segments.filter(pred).length;
  const counts: FlowCounts = {
    syn: count((x) => x.flags === 'S'),
    synAck: count((x) => x.flags === 'SA'),
    finClient: count((x) => x.from === 'client' && x.flags.includes('F')),
    finServer: count((x) => x.from === 'server' && x.flags.includes('F')),
    rstClient: count((x) => x.from === 'client' && x.flags.includes('R')),
    rstServer: count((x) => x.from === 'server' && x.flags.includes('R')),
    synRetransmissions: count((x) => x.retransmission === 'syn'),
    synAckRetransmissions: count((x) => x.retransmission === 'synack'),
    finRetransmissions: count((x) => x.retransmission === 'fin'),
    dataRetransmissionsClient: 0,
    dataRetransmissionsServer: 0,
    dataBytesClient: segments.filter((x) => x.from === 'client').reduce((a, x) => a + x.len, 0),
    dataBytesServer: segments.filter((x) => x.from === 'server').reduce((a, x) => a + x.len, 0),
    keepaliveProbes: 0,
    duplicateAcks: 0,
    zeroWindows: 0,
    ...s.counts,
  };
  const pk = (side: Side): number => count((x) => x.from === side);
  const flow: FlowRecord = {
    id: s.id,
    client: { ip: s.client[0], port: s.client[1] },
    server: { ip: s.server[0], port: s.server[1] },
    vlan: -1,
    rolesInferred: false,
    roleReason: 'syn',
    incarnation: 1,
    firstFrame: s.firstFrame,
    lastFrame: s.firstFrame + segments.length - 1,
    start: iso(start),
    end: iso(start + last),
    startSeconds: start,
    endSeconds: start + last,
    durationSeconds: last,
    packets: { client: pk('client'), server: pk('server') },
    bytes: { client: pk('client') * 52 + counts.dataBytesClient, server: pk('server') * 52 + counts.dataBytesServer },
    handshake: s.handshake,
    finalState: { client: s.final[0], server: s.final[1] },
    secondsInFinalState: { client: s.captureEnd - lastT('client'), server: s.captureEnd - lastT('server') },
    transitions,
    transitionsOmitted: 0,
    counts,
    connState: s.connState,
    history: s.history,
    closeReason: s.closeReason,
    ttl: { client: 64, server: 64 },
    unackedBytesAtEnd: { client: 0, server: 0 },
    segments,
    segmentsOmitted: s.segmentsOmitted ?? 0,
  };
  return s.rttMs === undefined
    ? flow
    : { ...flow, rttMs: { total: s.rttMs, clientSide: s.rttMs * 0.3, serverSide: s.rttMs * 0.7 } };
}

/** Segment and transition shapes of the scenarios (relative times in seconds). */
export const SHAPES = {
  clean: {
    segs: [
      [0, 'client', 'S'], [0.0004, 'server', 'SA'], [0.0008, 'client', 'A'], [0.002, 'client', 'PA', 120],
      [0.0024, 'server', 'A'], [0.0152, 'server', 'PA', 840], [0.0156, 'client', 'A'], [0.02, 'client', 'FA'],
      [0.0204, 'server', 'A'], [0.021, 'server', 'FA'], [0.0213, 'client', 'A'],
    ] as Seg[],
    trs: [
      [0, 'client', 'CLOSED', 'SYN_SENT'], [1, 'server', 'CLOSED', 'SYN_RECEIVED'], [2, 'client', 'SYN_SENT', 'ESTABLISHED'],
      [2, 'server', 'SYN_RECEIVED', 'ESTABLISHED'], [7, 'client', 'ESTABLISHED', 'FIN_WAIT_1'], [8, 'server', 'ESTABLISHED', 'CLOSE_WAIT'],
      [8, 'client', 'FIN_WAIT_1', 'FIN_WAIT_2'], [9, 'server', 'CLOSE_WAIT', 'LAST_ACK'], [10, 'client', 'FIN_WAIT_2', 'TIME_WAIT'],
      [10, 'server', 'LAST_ACK', 'CLOSED'],
    ] as Tr[],
    final: ['TIME_WAIT', 'CLOSED'] as [TcpState, TcpState],
    handshake: 'complete' as HandshakeOutcome, connState: 'SF' as ConnState, history: 'ShADadFf', closeReason: 'closed' as const,
  },
  closeWait: {
    segs: [
      [0, 'client', 'S'], [0.0005, 'server', 'SA'], [0.001, 'client', 'A'], [0.003, 'client', 'PA', 64],
      [0.004, 'server', 'PA', 2048], [0.0045, 'client', 'A'], [5.0, 'client', 'FA'], [5.0004, 'server', 'A'],
    ] as Seg[],
    trs: [
      [0, 'client', 'CLOSED', 'SYN_SENT'], [1, 'server', 'CLOSED', 'SYN_RECEIVED'], [2, 'client', 'SYN_SENT', 'ESTABLISHED'],
      [2, 'server', 'SYN_RECEIVED', 'ESTABLISHED'], [6, 'client', 'ESTABLISHED', 'FIN_WAIT_1'], [7, 'server', 'ESTABLISHED', 'CLOSE_WAIT'],
      [7, 'client', 'FIN_WAIT_1', 'FIN_WAIT_2'],
    ] as Tr[],
    final: ['FIN_WAIT_2', 'CLOSE_WAIT'] as [TcpState, TcpState],
    handshake: 'complete' as HandshakeOutcome, connState: 'S3' as ConnState, history: 'ShADadF', closeReason: 'end_of_capture' as const,
  },
  acceptRst: {
    segs: [[0, 'client', 'S'], [0.0003, 'server', 'SA'], [0.0006, 'client', 'A'], [0.001, 'client', 'PA', 200], [0.0012, 'server', 'R']] as Seg[],
    trs: [
      [0, 'client', 'CLOSED', 'SYN_SENT'], [1, 'server', 'CLOSED', 'SYN_RECEIVED'], [2, 'client', 'SYN_SENT', 'ESTABLISHED'],
      [2, 'server', 'SYN_RECEIVED', 'ESTABLISHED'], [4, 'server', 'ESTABLISHED', 'CLOSED'], [4, 'client', 'ESTABLISHED', 'CLOSED'],
    ] as Tr[],
    final: ['CLOSED', 'CLOSED'] as [TcpState, TcpState],
    handshake: 'reset_after_ack' as HandshakeOutcome, connState: 'RSTR' as ConnState, history: 'ShADr', closeReason: 'reset' as const,
  },
  synRetx: {
    segs: [
      [0, 'client', 'S'], [1.02, 'client', 'S', 0, 'syn'], [3.06, 'client', 'S', 0, 'syn'], [3.0605, 'server', 'SA'],
      [3.061, 'client', 'A'], [3.062, 'client', 'PA', 90], [3.07, 'server', 'PA', 300], [3.1, 'client', 'FA'],
      [3.1004, 'server', 'FA'], [3.1008, 'client', 'A'],
    ] as Seg[],
    trs: [
      [0, 'client', 'CLOSED', 'SYN_SENT'], [3, 'server', 'CLOSED', 'SYN_RECEIVED'], [4, 'client', 'SYN_SENT', 'ESTABLISHED'],
      [4, 'server', 'SYN_RECEIVED', 'ESTABLISHED'], [7, 'client', 'ESTABLISHED', 'FIN_WAIT_1'], [8, 'server', 'ESTABLISHED', 'LAST_ACK'],
      [8, 'client', 'FIN_WAIT_1', 'TIME_WAIT'], [9, 'server', 'LAST_ACK', 'CLOSED'],
    ] as Tr[],
    final: ['TIME_WAIT', 'CLOSED'] as [TcpState, TcpState],
    handshake: 'complete' as HandshakeOutcome, connState: 'SF' as ConnState, history: 'SSShADdFfA', closeReason: 'closed' as const,
  },
  noSynAck: {
    segs: [[0, 'client', 'S'], [1.02, 'client', 'S', 0, 'syn'], [3.06, 'client', 'S', 0, 'syn'], [7.2, 'client', 'S', 0, 'syn']] as Seg[],
    trs: [[0, 'client', 'CLOSED', 'SYN_SENT']] as Tr[],
    final: ['SYN_SENT', 'CLOSED'] as [TcpState, TcpState],
    handshake: 'no_synack' as HandshakeOutcome, connState: 'S0' as ConnState, history: 'SSSS', closeReason: 'end_of_capture' as const,
  },
};
type Shape = (typeof SHAPES)[keyof typeof SHAPES];

const CAPTURE_SECONDS = 30;

function flowOf(id: number, shape: Shape, client: [string, number], server: [string, number], start: number, firstFrame: number, captureEnd: number, rttMs?: number): FlowRecord {
  const spec: FlowSpec = { id, client, server, start, firstFrame, ...shape, captureEnd };
  return makeFlow(rttMs === undefined ? spec : { ...spec, rttMs });
}

function finding(f: Omit<Finding, 'framesTotal' | 'firstTs' | 'lastTs'>, flows: readonly FlowRecord[]): Finding {
  const mine = flows.filter((x) => f.flows.includes(x.id));
  return {
    ...f,
    framesTotal: f.frames.length,
    firstTs: mine[0]?.start ?? '',
    lastTs: mine[mine.length - 1]?.end ?? '',
  };
}

/** The small hand-built report described in the file comment. `comments` replaces the capture comments. */
export function buildSampleReport(comments: readonly string[] = ['tcpdump -i eth0 -w incident.pcapng port 8080 or port 5432 or port 443']): AnalysisReport {
  const end = EPOCH + CAPTURE_SECONDS;
  const flows: FlowRecord[] = [];
  let frame = 1;
  const add = (shape: Shape, client: [string, number], server: [string, number], start: number, rttMs?: number): FlowRecord => {
    const f = flowOf(flows.length + 1, shape, client, server, start, frame, end, rttMs);
    frame += f.segments.length;
    flows.push(f);
    return f;
  };
  for (let i = 0; i < 6; i += 1) add(SHAPES.clean, ['10.0.0.1', 40000 + i], ['10.0.0.2', 8080], 0.5 + i * 2.3, 0.8 + i * 0.1);
  const cw1 = add(SHAPES.closeWait, ['10.0.1.7', 51000], ['10.0.0.3', 5432], 2.1, 1.0);
  const cw2 = add(SHAPES.closeWait, ['10.0.1.8', 51002], ['10.0.0.3', 5432], 9.4, 1.1);
  const rst = [0, 1, 2].map((i) => add(SHAPES.acceptRst, ['10.0.0.9', 45000 + i], ['10.0.0.2', 8080], 14 + i * 0.01, 0.6));
  const sr = add(SHAPES.synRetx, ['192.168.7.20', 36000], ['10.0.0.4', 443], 16, 3061);
  const ns = add(SHAPES.noSynAck, ['192.168.7.21', 36002], ['10.0.0.4', 443], 18);
  add(SHAPES.clean, ['2001:db8:0:1::10', 50000], ['2001:db8::1', 443], 21, 1.4);
  for (let i = 0; i < 4; i += 1) add(SHAPES.clean, ['10.0.0.1', 41000 + i], ['10.0.0.2', 8080], 22 + i * 1.5, 0.7 + i * 0.2);

  const findings: Finding[] = [
    finding(
      {
        id: 'close-wait-leak',
        severity: 'warning',
        title: 'Server leaves connections in CLOSE_WAIT',
        summary: '10.0.0.3:5432 never closed 2 connections after the client closed them (up to 25 s in CLOSE_WAIT).',
        explanation:
          'The client sent FIN and 10.0.0.3 acknowledged it, which moves its socket to CLOSE_WAIT (RFC 9293 §3.6). ' +
          'The application must then call close(); it never did before the capture ended.',
        causes: ['The application does not close sockets on EOF (a leak in its connection handling).', 'A connection pool that never validates idle connections.'],
        checks: ['ss -tanp state close-wait \'( sport = :5432 )\' on 10.0.0.3', 'ls /proc/<pid>/fd | wc -l against ulimit -n'],
        endpoint: '10.0.0.3:5432',
        flows: [cw1.id, cw2.id],
        frames: [cw1.segments[6]!.frame, cw1.segments[7]!.frame, cw2.segments[6]!.frame, cw2.segments[7]!.frame],
        count: 2,
        wiresharkFilter: 'ip.addr==10.0.0.3 && tcp.port==5432 && tcp.flags.fin==1',
        caveat: 'The capture ends 25 s after the FIN; the application may still close later.',
        details: { maxSecondsInCloseWait: 25, server: '10.0.0.3:5432' },
      },
      flows,
    ),
    finding(
      {
        id: 'accept-queue-rst',
        severity: 'error',
        title: 'Accept queue overflow: connections reset after the handshake',
        summary: '10.0.0.2:8080 reset 3 connections right after completing their handshake, within 20 ms.',
        explanation:
          'The handshake completed but the listener\'s accept queue was full, so the kernel answered the first data ' +
          'segment with RST (net.ipv4.tcp_abort_on_overflow=1).',
        causes: ['The application accepts too slowly for the connection rate.', 'listen() backlog or net.core.somaxconn too small.'],
        checks: ['nstat -az TcpExtListenOverflows TcpExtListenDrops', 'ss -ltn \'( sport = :8080 )\' (Recv-Q vs Send-Q)'],
        endpoint: '10.0.0.2:8080',
        flows: rst.map((f) => f.id),
        frames: rst.map((f) => f.segments[4]!.frame),
        count: 3,
        wiresharkFilter: 'ip.addr==10.0.0.2 && tcp.port==8080 && tcp.flags.reset==1',
        details: { resetWithinMs: [1.2, 1.2, 1.2] },
      },
      flows,
    ),
    finding(
      {
        id: 'syn-retransmit',
        severity: 'warning',
        title: 'SYNs retransmitted before an answer',
        summary: '2 connections to 10.0.0.4:443 needed SYN retransmissions (5 in total); 1 was never answered.',
        explanation: 'The client retransmitted its SYN after 1 s and 3 s (RFC 6298 initial RTO): SYNs or SYN-ACKs were lost or dropped.',
        causes: ['SYN queue full or SYN cookies off on the server.', 'A firewall dropping SYNs.', 'Packet loss on the path.'],
        checks: ['nstat -az TcpExtTCPReqQFullDrop', 'iptables -L -v -n on the path'],
        endpoint: '10.0.0.4:443',
        flows: [sr.id, ns.id],
        frames: [sr.segments[1]!.frame, sr.segments[2]!.frame, ns.segments[1]!.frame, ns.segments[2]!.frame, ns.segments[3]!.frame],
        count: 2,
        wiresharkFilter: 'ip.addr==10.0.0.4 && tcp.port==443 && tcp.flags.syn==1 && tcp.analysis.retransmission',
        details: { retryTimesSeconds: [1.02, 3.06, 7.2] },
      },
      flows,
    ),
    finding(
      {
        id: 'ipv6-note',
        severity: 'info',
        title: 'IPv6 traffic present',
        summary: '1 connection used IPv6 (2001:db8::1).',
        explanation: 'Informational.',
        causes: [],
        checks: [],
        endpoint: '[2001:db8::1]:443',
        flows: [],
        frames: [],
        count: 1,
        wiresharkFilter: 'ipv6.addr==2001:db8::1',
      },
      flows,
    ),
  ];
  const packets = flows.reduce((a, f) => a + f.segments.length, 0);
  return {
    schema: 'tcpmortem/1',
    tool: { name: 'tcpmortem', version: '0.1.0' },
    capture: {
      file: 'incident.pcapng',
      format: 'pcapng',
      compressed: false,
      byteOrder: 'little-endian',
      version: '1.0',
      sections: 1,
      interfaces: [{ id: 0, linkType: 1, linkTypeName: 'ETHERNET', snapLength: 262144, tsResolution: '1e-6', name: 'eth0', packets, drops: { interface: 0, os: 0 } }],
      linkTypes: ['ETHERNET'],
      packets,
      tcpPackets: packets,
      bytes: packets * 80,
      capturedBytes: packets * 80,
      firstTs: iso(EPOCH),
      lastTs: iso(end),
      durationSeconds: CAPTURE_SECONDS,
      drops: 0,
      truncatedPackets: 0,
      timestampsBackwards: 0,
      skipped: { not_tcp: 4 },
      anomalies: {},
      warnings: [],
      partial: false,
      comments: [...comments],
    },
    flows,
    findings,
    detectors: [
      { id: 'accept-queue-rst', status: 'ok', findings: 1 },
      { id: 'close-wait-leak', status: 'ok', findings: 1 },
      { id: 'syn-retransmit', status: 'ok', findings: 1 },
    ],
  };
}

/**
 * A large synthetic report: `n` flows over 600 s from many clients to a few services, mixing the
 * shapes above (segments shared between flows to keep memory low), with the findings of the sample.
 */
export function buildSyntheticReport(n: number): AnalysisReport {
  const base = buildSampleReport();
  const shapes: Shape[] = [SHAPES.clean, SHAPES.clean, SHAPES.clean, SHAPES.clean, SHAPES.closeWait, SHAPES.acceptRst, SHAPES.synRetx, SHAPES.noSynAck];
  const duration = 600;
  const end = EPOCH + duration;
  const flows: FlowRecord[] = [];
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const template = new Map<Shape, FlowRecord>();
  let frame = 1;
  for (let i = 0; i < n; i += 1) {
    const shape = shapes[Math.floor(rnd() * shapes.length)]!;
    let t = template.get(shape);
    if (t === undefined) {
      t = flowOf(0, shape, ['0.0.0.0', 0], ['0.0.0.0', 0], 0, 1, EPOCH, shape === SHAPES.noSynAck ? undefined : 1);
      template.set(shape, t);
    }
    const start = EPOCH + (i / n) * (duration - 10);
    const client = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const server = `172.16.0.${1 + (i % 5)}`;
    const shift = start - EPOCH;
    flows.push({
      ...t,
      id: i + 1,
      client: { ip: client, port: 30000 + (i % 30000) },
      server: { ip: server, port: 8080 },
      firstFrame: frame,
      lastFrame: frame + t.segments.length - 1,
      startSeconds: start,
      endSeconds: start + t.durationSeconds,
      start: iso(start),
      end: iso(start + t.durationSeconds),
      secondsInFinalState: { client: end - start, server: end - start },
      transitions: t.transitions.map((tr) => ({ ...tr, tSeconds: tr.tSeconds + shift, frame: tr.frame + frame - 1 })),
      ...(t.rttMs === undefined || shape === SHAPES.noSynAck ? {} : { rttMs: { total: 0.5 + rnd() * 3, clientSide: 0.2, serverSide: 0.3 } }),
    });
    frame += t.segments.length;
  }
  const ids = (pred: (f: FlowRecord) => boolean): number[] => flows.filter(pred).slice(0, 200).map((f) => f.id);
  const findings = base.findings.map((f) => ({
    ...f,
    flows: ids(
      f.id === 'close-wait-leak'
        ? (x) => x.finalState.server === 'CLOSE_WAIT'
        : f.id === 'accept-queue-rst'
          ? (x) => x.handshake === 'reset_after_ack'
          : f.id === 'syn-retransmit'
            ? (x) => x.counts.synRetransmissions > 0
            : () => false,
    ),
    count: n,
    framesTotal: n * 3,
  }));
  return {
    ...base,
    capture: { ...base.capture, durationSeconds: duration, lastTs: iso(end), packets: frame - 1, tcpPackets: frame - 1 },
    flows,
    findings,
  };
}

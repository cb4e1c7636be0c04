/**
 * `close-wait-leak`: one side received the peer's FIN, ACKed it, and never sent its own FIN (by
 * the end of the capture or for longer than a threshold): the application did not close the socket.
 * Aggregated per service.
 */
import type { FlowRecord, Side, TcpState } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener, matchFlows } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { CloseWaitLeakOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { flowRef, formatSeconds, hasFlag, ipField, isFin, isRst, makeFinding, maxOf, median, peerOf, plural, round, timeRange } from './util.ts';
import type { FlowRef, Instant } from './util.ts';

/** One socket left in CLOSE_WAIT. */
export interface CloseWaitSocket {
  /** The connection's id and endpoints (not its record: a leak can hold every connection). */
  readonly flow: FlowRef;
  /** The connection was captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
  readonly side: Side;
  /** Seconds spent in CLOSE_WAIT (until the capture ended, or until a RST ended it). */
  readonly ageSeconds: number;
  /** What the peer did: still FIN_WAIT_2, reset the connection, or something else. */
  readonly peer: 'FIN_WAIT_2' | 'reset' | 'silent' | TcpState;
  /**
   * How the CLOSE_WAIT ended: still open when the capture ended, a RST from the peer (which gave up
   * waiting), or a RST from the socket itself (an abortive close, late).
   */
  readonly ended: 'capture-end' | 'peer-reset' | 'own-reset';
  readonly frames: readonly number[];
  readonly entered: Instant;
}

/**
 * True when `side` acknowledged the peer's first FIN in a captured segment (ACK at or past the FIN's
 * sequence number + 1), or when that cannot be checked because the FIN is not in the sampled
 * segments. A side that never ACKed the FIN (it answered with a RST, or nothing) was not seen in
 * CLOSE_WAIT: the close-wait-leak definition needs the FIN received and acknowledged.
 */
export function ackedPeerFin(flow: FlowRecord, side: Side): boolean {
  const peerSide = peerOf(side);
  const fin = flow.segments.find((s) => s.from === peerSide && isFin(s));
  if (fin === undefined) return true;
  const needed = fin.seq + fin.len + 1;
  const acked = flow.segments.some(
    (s) => s.from === side && s.frame > fin.frame && hasFlag(s.flags, 'A') && !hasFlag(s.flags, 'S') && !isRst(s) && s.ack >= needed,
  );
  // Samples keep the first and last segments: an ACK can hide in the omitted middle only when the
  // FIN itself is among the first ones.
  if (!acked && flow.segmentsOmitted > 0 && flow.segments.indexOf(fin) < flow.segments.length / 2) return true;
  return acked;
}

/**
 * Finds a CLOSE_WAIT that was never left by sending a FIN. Still in CLOSE_WAIT at the end of the
 * capture: any age (the caller lowers the severity below `minAgeSeconds`). Ended by the peer's RST:
 * from `minAgeSeconds` (the peer gave up waiting for a FIN that never came). Ended by the socket's
 * own RST: that is a close (abortive: SO_LINGER 0, or unread data; the `reset` detector reports
 * it), a leak only after `minAgeBeforeOwnResetSeconds`.
 */
export function matchCloseWait(flow: FlowRecord, options: Pick<CloseWaitLeakOptions, 'minAgeSeconds' | 'minAgeBeforeOwnResetSeconds'>): CloseWaitSocket | undefined {
  for (const side of ['server', 'client'] as const) {
    const enter = flow.transitions.find((t) => t.side === side && t.to === 'CLOSE_WAIT');
    const inFinal = flow.finalState[side] === 'CLOSE_WAIT';
    if (enter === undefined && !inFinal) continue;
    const exit = enter === undefined ? undefined : flow.transitions.find((t) => t.side === side && t.from === 'CLOSE_WAIT' && t.frame >= enter.frame);
    // Leaving CLOSE_WAIT by sending a FIN (LAST_ACK) is a close; leaving it by a RST is not.
    if (exit !== undefined && exit.to !== 'CLOSED') continue;
    if (!ackedPeerFin(flow, side)) continue;
    let age: number;
    if (exit !== undefined && enter !== undefined) age = exit.tSeconds - enter.tSeconds;
    else if (inFinal) age = flow.secondsInFinalState[side];
    else continue;
    const peerSide = peerOf(side);
    const exitSegment = exit === undefined ? undefined : flow.segments.find((s) => s.frame === exit.frame);
    const ended: CloseWaitSocket['ended'] =
      exit === undefined || inFinal ? 'capture-end' : exitSegment !== undefined && isRst(exitSegment) && exitSegment.from === side ? 'own-reset' : 'peer-reset';
    if (ended === 'peer-reset' && age < options.minAgeSeconds) continue;
    if (ended === 'own-reset' && age < options.minAgeBeforeOwnResetSeconds) continue;
    const peerFin = flow.transitions.find((t) => t.side === peerSide && t.to === 'FIN_WAIT_1');
    const peerReset = flow.counts[peerSide === 'client' ? 'rstClient' : 'rstServer'] > 0;
    const peerFinal = flow.finalState[peerSide];
    const peer: CloseWaitSocket['peer'] = peerReset
      ? 'reset'
      : peerFinal === 'FIN_WAIT_2'
        ? flow.secondsInFinalState[peerSide] > 60
          ? 'silent'
          : 'FIN_WAIT_2'
        : peerFinal;
    const frames = [peerFin?.frame, enter?.frame, ended === 'capture-end' ? undefined : exit?.frame].filter((n): n is number => n !== undefined);
    const entered = enter !== undefined ? { seconds: enter.tSeconds, iso: enter.ts } : { seconds: flow.endSeconds, iso: flow.end };
    return { flow: flowRef(flow), oneWay: isOneWayFlow(flow), side, ageSeconds: round(age, 6), peer, ended, frames, entered };
  }
  return undefined;
}

export const closeWaitLeak: Detector<CloseWaitLeakOptions> = {
  id: 'close-wait-leak',
  title: 'Sockets left in CLOSE_WAIT',
  description: "One side received the peer's FIN and never closed its socket: the application leaks sockets (and file descriptors).",
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['close-wait-leak'],
  evaluate(input, options) {
    // A match needs a side still in CLOSE_WAIT, or one that left it for CLOSED (see matchCloseWait).
    const matches = matchFlows(flowsAt(input, flowIndex(input).closeWaitPositions), (f) => matchCloseWait(f, options));
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const ages = group.map((m) => m.ageSeconds);
      const oldest = maxOf(ages);
      const med = median(ages);
      const sides = [...new Set(group.map((m) => m.side))];
      const who = sides.length === 1 ? `the ${sides[0]}` : 'both clients and the server';
      const peers: Record<string, number> = {};
      for (const m of group) peers[m.peer] = (peers[m.peer] ?? 0) + 1;
      const peerText = Object.entries(peers)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, n]) => (k === 'reset' ? `${n} reset by the peer` : `${plural(n, 'peer')} ${k === 'silent' ? 'silent' : `in ${k}`}`))
        .join(', ');
      const endedCount = { 'capture-end': 0, 'peer-reset': 0, 'own-reset': 0 };
      for (const m of group) endedCount[m.ended]++;
      const endedText = [
        endedCount['capture-end'] > 0 ? `${endedCount['capture-end']} still open at the end of the capture` : '',
        endedCount['peer-reset'] > 0 ? `${endedCount['peer-reset']} ended by the peer's RST` : '',
        endedCount['own-reset'] > 0 ? `${endedCount['own-reset']} ended late by its own RST` : '',
      ]
        .filter((t) => t !== '')
        .join(', ');
      const first = group[0]!.flow;
      const host = sides.length === 1 && sides[0] === 'client' ? first.client.ip : first.server.ip;
      findings.push(
        makeFinding(closeWaitLeak, {
          // All younger than the threshold: the application may still close them; say so gently.
          severity: oldest < options.minAgeSeconds ? 'info' : group.length >= options.errorCount ? 'error' : 'warning',
          summary:
            `${plural(group.length, 'connection')} of ${endpoint} stayed in CLOSE_WAIT on ${who} (median ${formatSeconds(med)}, oldest ${formatSeconds(oldest)}) after the peer's FIN; ${endedText}; ${peerText}.`,
          explanation:
            "The peer sent FIN and the kernel of the other side acknowledged it, moving that socket to CLOSE_WAIT (RFC 9293 §3.6). It stays there until the application calls close() or shutdown(): the kernel never times CLOSE_WAIT out. " +
            'Each such socket keeps a file descriptor and its buffers; enough of them end in "too many open files" and a stalled service. ' +
            'The peer meanwhile sits in FIN_WAIT_2 (an orphaned one expires after net.ipv4.tcp_fin_timeout, 60 s on Linux), and a later write on the leaked socket gets a RST.',
          causes: [
            'The application never calls close() on the socket after reading EOF (a missing close() on an error path, a connection pool that does not evict closed connections).',
            'An HTTP client or server that never reads the response/request body to the end, so the connection is never released.',
            'A thread or event handler blocked elsewhere, so the EOF is never noticed.',
          ],
          checks: [
            `On ${host}: ss -tanp state close-wait '( sport = :${first.server.port} or dport = :${first.server.port} )' (which process holds them)`,
            'lsof -p PID | grep CLOSE_WAIT, and ls /proc/PID/fd | wc -l against ulimit -n',
            'The code path that handles EOF / read() returning 0: is close() called on every path, are response bodies read to the end and closed?',
          ],
          endpoint,
          flows: group.map((m) => m.flow.id),
          frames: group.flatMap((m) => m.frames),
          count: group.length,
          ...timeRange(group.map((m) => m.entered)),
          fallbackFilter: `tcp.flags.fin==1 && ${ipField(first.server.ip)}.addr==${first.server.ip} && tcp.port==${first.server.port}`,
          caveat: qualityCaveatOf(input, group.filter((m) => m.oneWay).length, ['absence']),
          details: {
            side: sides.length === 1 ? sides[0] : 'both',
            medianAgeSeconds: round(med, 3),
            oldestAgeSeconds: round(oldest, 3),
            peer: peers,
            ended: endedCount,
            connections: group.map((m) => ({ flow: m.flow.id, side: m.side, ageSeconds: m.ageSeconds, peer: m.peer, ended: m.ended })),
          },
        }),
      );
    }
    return findings;
  },
};

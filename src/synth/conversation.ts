import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../decode/types.ts';
import { createTcpFrameFields, TcpFrameWriter } from './packet-builder.ts';
import { Prng } from './prng.ts';

/**
 * Receives each generated packet, in timestamp order.
 *
 * Ownership: `frame` is a view of the generator's reused buffer holding the captured bytes
 * (at most `snapLength`); it is valid only during the call. `originalLength` is the wire length.
 */
export type FrameSink = (tsSec: number, tsNanos: number, frame: Uint8Array, originalLength: number) => void;

/** Options of {@link generateConversations}. Defaults in {@link DEFAULT_CONVERSATION_OPTIONS}. */
export interface ConversationOptions {
  /** PRNG seed: the same seed and options give the same packets, byte for byte. */
  readonly seed: number;
  /** Conversations to generate in total. Default 100. */
  readonly conversations: number;
  /** Stop after this many packets even if conversations remain (open ones are cut off). Default: no limit. */
  readonly maxPackets: number;
  /** Conversations open at the same time, interleaved by timestamp. Default 32. */
  readonly concurrency: number;
  /** Timestamp of the first packet, seconds since the epoch. Default 1 700 000 000 (2023-11-14). */
  readonly startTsSec: number;
  /** Link type of the frames (1, 113, 276, 0, 108, 101). Default 1 (Ethernet). */
  readonly linkType: number;
  /** Fraction of conversations over IPv6. Default 0.2. */
  readonly ipv6Fraction: number;
  /** Bytes of each frame handed to the sink; the rest exists only as `originalLength`. Default 65 535. */
  readonly snapLength: number;
  /** Probability that a data segment is retransmitted once after an RTO. Default 0.01. */
  readonly retransmitRate: number;
  /** Probability that the SYN is retransmitted once after 1 s. Default 0.005. */
  readonly synRetransmitRate: number;
  /** Fraction of conversations ended by a RST (from either side) instead of a FIN exchange. Default 0.05. */
  readonly rstRate: number;
  /** Fraction of FIN closes started by the server. Default 0.5. */
  readonly serverCloseRate: number;
  /** Request/response exchanges per conversation, [min, max]. Default [1, 4]. */
  readonly exchanges: readonly [number, number];
  /** Response size in bytes, [min, max]. Default [200, 20 000]. */
  readonly responseBytes: readonly [number, number];
  /** Maximum segment size announced and used. Default 1460 (1440 for IPv6). */
  readonly mss: number;
  /** Round-trip time range in microseconds, [min, max]. Default [200, 50 000]. */
  readonly rttMicros: readonly [number, number];
  /** Mean gap between a conversation ending and the next one starting, in microseconds. Default 2 000. */
  readonly meanGapMicros: number;
}

export const DEFAULT_CONVERSATION_OPTIONS: Readonly<ConversationOptions> = Object.freeze({
  seed: 1,
  conversations: 100,
  maxPackets: Number.POSITIVE_INFINITY,
  concurrency: 32,
  startTsSec: 1_700_000_000,
  linkType: 1,
  ipv6Fraction: 0.2,
  snapLength: 65_535,
  retransmitRate: 0.01,
  synRetransmitRate: 0.005,
  rstRate: 0.05,
  serverCloseRate: 0.5,
  exchanges: [1, 4] as const,
  responseBytes: [200, 20_000] as const,
  mss: 1460,
  rttMicros: [200, 50_000] as const,
  meanGapMicros: 2_000,
});

/** What {@link generateConversations} produced. */
export interface GenerationSummary {
  readonly packets: number;
  readonly conversations: number;
  /** Sum of the wire lengths. */
  readonly wireBytes: number;
  /** Sum of the captured lengths. */
  readonly capturedBytes: number;
  readonly firstTsSec: number;
  readonly lastTsSec: number;
}

/** Phases of one conversation's script, one packet each. */
const SYN = 0;
const SYN_ACK = 1;
const HANDSHAKE_ACK = 2;
const REQUEST = 3;
const RESPONSE = 4;
const RESPONSE_ACK = 5;
const CLOSE_FIRST = 6;
const CLOSE_SECOND = 7;
const CLOSE_LAST_ACK = 8;
const DONE = 9;

/** Client's pause before an ACK or the next request: 20..120 µs, a local stack's reaction time. */
const REACTION_NS_MIN = 20_000;
const REACTION_NS_SPREAD = 100_000;
/** Gap between back-to-back segments of one response: 12 µs, about 1500 bytes at 1 Gbit/s. */
const SEGMENT_GAP_NS = 12_000;
/** Linux's minimum RTO is 200 ms (RFC 6298 says 1 s; Linux uses 200 ms), plus one RTT. */
const MIN_RTO_NS = 200_000_000;
/** Initial SYN RTO, RFC 6298 §2.1. */
const SYN_RTO_NS = 1_000_000_000;

/** State of one conversation. Allocated once per conversation, not per packet. */
class Conversation {
  nextNs = 0;
  phase = SYN;
  ipVersion: 4 | 6 = 4;
  client: [number, number, number, number] = [0, 0, 0xffff, 0];
  server: [number, number, number, number] = [0, 0, 0xffff, 0];
  clientPort = 0;
  serverPort = 0;
  clientSeq = 0;
  serverSeq = 0;
  clientWindow = 0;
  serverWindow = 0;
  windowScale = 7;
  rttNs = 0;
  clientTsBase = 0;
  serverTsBase = 0;
  lastClientTsVal = 0;
  lastServerTsVal = 0;
  exchangesLeft = 0;
  requestBytes = 0;
  responseLeft = 0;
  segmentsSinceAck = 0;
  retransmitPending = false;
  synRetransmitted = false;
  serverCloses = false;
  endsWithRst = false;
  mss = 1460;
}

/**
 * Generates realistic TCP conversations as if captured next to the clients, interleaved in
 * timestamp order, deterministic from `options.seed`.
 *
 * Each conversation: SYN (MSS, SACK-permitted, timestamps, window scale) → SYN-ACK → ACK; then
 * 1..n exchanges of a one-segment request (PSH-ACK) and a response of several MSS-sized segments
 * (the last with PSH), the client ACKing every second segment and the last; then a FIN close by
 * either side (FIN-ACK, FIN-ACK, ACK) or a RST (RST-ACK) from either side. A data segment or the
 * SYN is sometimes retransmitted once, with the same seq, after an RTO. Seq/ack numbers are
 * consistent throughout, starting from random ISNs (so some wrap past 2^32). Payload is zeros.
 *
 * Speed: one frame buffer, one fields object and one view per frame length are reused, so a
 * packet costs no allocation; a few million packets per second on one core.
 *
 * @param sink - called once per packet, synchronously, in timestamp order (see {@link FrameSink}).
 */
export function generateConversations(
  options: Partial<ConversationOptions>,
  sink: FrameSink,
): GenerationSummary {
  const o: ConversationOptions = { ...DEFAULT_CONVERSATION_OPTIONS, ...options };
  const rng = new Prng(o.seed);
  const writer = new TcpFrameWriter(Math.max(256, Math.min(o.snapLength, 65_664)));
  const fields = createTcpFrameFields();
  fields.linkType = o.linkType;
  const heap: Conversation[] = [];
  let started = 0;
  let packets = 0;
  let wireBytes = 0;
  let capturedBytes = 0;
  let lastNs = 0;

  const start = (atNs: number): void => {
    const c = new Conversation();
    c.nextNs = atNs;
    c.ipVersion = rng.chance(o.ipv6Fraction) ? 6 : 4;
    const clientHost = rng.nextUint32();
    const serverHost = rng.int(1, 8);
    if (c.ipVersion === 4) {
      c.client = [0, 0, 0xffff, (0x0a000000 | (clientHost & 0x00ffff00) | 0x100 | (clientHost & 0xff)) >>> 0];
      c.server = [0, 0, 0xffff, (0xc0a80000 | serverHost) >>> 0];
    } else {
      c.client = [0xfd000000, 0, rng.nextUint32(), clientHost];
      c.server = [0xfd000000, 1, 0, serverHost];
    }
    c.clientPort = rng.int(32_768, 60_999);
    c.serverPort = SERVER_PORTS[rng.int(0, SERVER_PORTS.length - 1)]!;
    c.clientSeq = rng.nextUint32();
    c.serverSeq = rng.nextUint32();
    c.clientWindow = rng.int(200, 2_000);
    c.serverWindow = rng.int(200, 2_000);
    c.rttNs = rng.int(o.rttMicros[0], o.rttMicros[1]) * 1_000;
    c.clientTsBase = rng.nextUint32();
    c.serverTsBase = rng.nextUint32();
    c.exchangesLeft = rng.int(o.exchanges[0], o.exchanges[1]);
    c.serverCloses = rng.chance(o.serverCloseRate);
    c.endsWithRst = rng.chance(o.rstRate);
    c.mss = c.ipVersion === 6 ? o.mss - 20 : o.mss;
    started++;
    heapPush(heap, c);
  };

  for (let i = 0; i < o.concurrency && started < o.conversations; i++) {
    start(rng.int(0, o.rttMicros[1]) * 1_000);
  }

  while (heap.length > 0 && packets < o.maxPackets) {
    const c = heap[0]!;
    const nowNs = c.nextNs;
    step(c, nowNs, fields, rng, o);
    const frame = writer.write(fields, o.snapLength);
    const sec = Math.floor(nowNs / 1e9);
    sink(o.startTsSec + sec, nowNs - sec * 1e9, frame, writer.originalLength);
    packets++;
    wireBytes += writer.originalLength;
    capturedBytes += frame.length;
    lastNs = nowNs;
    if (c.phase === DONE) {
      heapPop(heap);
      if (started < o.conversations) {
        start(nowNs + Math.floor(-Math.log(1 - rng.next()) * o.meanGapMicros * 1_000));
      }
    } else {
      heapSiftDown(heap, 0);
    }
  }
  return {
    packets,
    conversations: started,
    wireBytes,
    capturedBytes,
    firstTsSec: o.startTsSec,
    lastTsSec: o.startTsSec + lastNs / 1e9,
  };
}

/** Well-known server ports the conversations go to. */
const SERVER_PORTS: readonly number[] = [80, 443, 443, 443, 8080, 5432, 6379, 3306];

/**
 * Fills `f` with the conversation's next packet (sent at `nowNs`), advances its phase and
 * sequence numbers, and sets `c.nextNs` to when its following packet is due.
 */
function step(c: Conversation, nowNs: number, f: ReturnType<typeof createTcpFrameFields>, rng: Prng, o: ConversationOptions): void {
  const fromClient = isClientPhase(c);
  f.ipVersion = c.ipVersion;
  f.src = fromClient ? c.client : c.server;
  f.dst = fromClient ? c.server : c.client;
  f.srcPort = fromClient ? c.clientPort : c.serverPort;
  f.dstPort = fromClient ? c.serverPort : c.clientPort;
  f.ttl = fromClient ? 64 : 54;
  f.ipId = rng.nextUint32() & 0xffff;
  f.seq = fromClient ? c.clientSeq : c.serverSeq;
  f.ack = fromClient ? c.serverSeq : c.clientSeq;
  f.window = fromClient ? c.clientWindow : c.serverWindow;
  f.payloadLength = 0;
  f.mss = -1;
  f.windowScale = -1;
  f.sackPermitted = false;
  f.hasTimestamps = true;
  const msNow = Math.floor(nowNs / 1e6);
  f.tsVal = ((fromClient ? c.clientTsBase : c.serverTsBase) + msNow) >>> 0;
  f.tsEcr = fromClient ? c.lastServerTsVal : c.lastClientTsVal;
  if (fromClient) c.lastClientTsVal = f.tsVal;
  else c.lastServerTsVal = f.tsVal;
  const reactionNs = REACTION_NS_MIN + rng.int(0, REACTION_NS_SPREAD);

  switch (c.phase) {
    case SYN:
      f.flags = TCP_SYN;
      f.ack = 0;
      f.tsEcr = 0;
      f.window = 64_240;
      f.mss = c.mss;
      f.sackPermitted = true;
      f.windowScale = c.windowScale;
      if (!c.synRetransmitted && rng.chance(o.synRetransmitRate)) {
        c.synRetransmitted = true;
        c.nextNs = nowNs + SYN_RTO_NS;
        return;
      }
      c.clientSeq = (c.clientSeq + 1) >>> 0;
      c.phase = SYN_ACK;
      c.nextNs = nowNs + c.rttNs;
      return;
    case SYN_ACK:
      f.flags = TCP_SYN | TCP_ACK;
      f.window = 65_160;
      f.mss = c.mss;
      f.sackPermitted = true;
      f.windowScale = c.windowScale;
      c.serverSeq = (c.serverSeq + 1) >>> 0;
      c.phase = HANDSHAKE_ACK;
      c.nextNs = nowNs + reactionNs;
      return;
    case HANDSHAKE_ACK:
      f.flags = TCP_ACK;
      c.phase = REQUEST;
      c.nextNs = nowNs + reactionNs;
      return;
    case REQUEST:
      if (c.requestBytes === 0) c.requestBytes = rng.int(60, Math.min(1_000, c.mss));
      f.flags = TCP_PSH | TCP_ACK;
      f.payloadLength = c.requestBytes;
      if (retransmitLater(c, nowNs, rng, o)) return;
      c.clientSeq = (c.clientSeq + c.requestBytes) >>> 0;
      c.requestBytes = 0;
      c.responseLeft = rng.int(o.responseBytes[0], o.responseBytes[1]);
      c.segmentsSinceAck = 0;
      c.phase = RESPONSE;
      c.nextNs = nowNs + c.rttNs + rng.int(0, 2_000_000);
      return;
    case RESPONSE: {
      const length = c.responseLeft < c.mss ? c.responseLeft : c.mss;
      const last = length === c.responseLeft;
      f.flags = last ? TCP_PSH | TCP_ACK : TCP_ACK;
      f.payloadLength = length;
      if (retransmitLater(c, nowNs, rng, o)) return;
      c.serverSeq = (c.serverSeq + length) >>> 0;
      c.responseLeft -= length;
      c.segmentsSinceAck++;
      // Delayed ACK (RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2): at least every second full segment.
      c.phase = last || c.segmentsSinceAck === 2 ? RESPONSE_ACK : RESPONSE;
      c.nextNs = nowNs + SEGMENT_GAP_NS;
      return;
    }
    case RESPONSE_ACK:
      f.flags = TCP_ACK;
      c.segmentsSinceAck = 0;
      if (c.responseLeft > 0) {
        c.phase = RESPONSE;
        c.nextNs = nowNs + SEGMENT_GAP_NS;
      } else if (--c.exchangesLeft > 0) {
        c.phase = REQUEST;
        c.nextNs = nowNs + reactionNs + rng.int(0, 5_000_000);
      } else {
        c.phase = CLOSE_FIRST;
        c.nextNs = nowNs + reactionNs + rng.int(0, 50_000_000);
      }
      return;
    case CLOSE_FIRST:
      if (c.endsWithRst) {
        f.flags = TCP_RST | TCP_ACK;
        f.hasTimestamps = false;
        c.phase = DONE;
        return;
      }
      f.flags = TCP_FIN | TCP_ACK;
      advanceFin(c, fromClient);
      c.phase = CLOSE_SECOND;
      c.nextNs = nowNs + (fromClient ? c.rttNs : reactionNs);
      return;
    case CLOSE_SECOND:
      f.flags = TCP_FIN | TCP_ACK;
      advanceFin(c, fromClient);
      c.phase = CLOSE_LAST_ACK;
      c.nextNs = nowNs + (fromClient ? c.rttNs : reactionNs);
      return;
    case CLOSE_LAST_ACK:
      f.flags = TCP_ACK;
      c.phase = DONE;
      return;
    default:
      throw new Error(`conversation in phase ${c.phase} asked for a packet`);
  }
}

/** Which side sends in the conversation's current phase. */
function isClientPhase(c: Conversation): boolean {
  switch (c.phase) {
    case SYN:
    case HANDSHAKE_ACK:
    case REQUEST:
    case RESPONSE_ACK:
      return true;
    case SYN_ACK:
    case RESPONSE:
      return false;
    case CLOSE_FIRST:
    case CLOSE_LAST_ACK:
      // A RST comes from the side that would have closed first.
      return !c.serverCloses;
    default:
      return c.serverCloses;
  }
}

/** A FIN occupies one sequence number (RFC 9293 §3.4). */
function advanceFin(c: Conversation, fromClient: boolean): void {
  if (fromClient) c.clientSeq = (c.clientSeq + 1) >>> 0;
  else c.serverSeq = (c.serverSeq + 1) >>> 0;
}

/**
 * Decides whether the data segment just described is lost "after the capture point" and will be
 * sent again: the segment is emitted now, and the same segment (same seq) again one RTO later.
 * Returns true when the phase must repeat.
 */
function retransmitLater(c: Conversation, nowNs: number, rng: Prng, o: ConversationOptions): boolean {
  if (c.retransmitPending) {
    c.retransmitPending = false;
    return false;
  }
  if (!rng.chance(o.retransmitRate)) return false;
  c.retransmitPending = true;
  c.nextNs = nowNs + MIN_RTO_NS + c.rttNs;
  return true;
}

function heapPush(heap: Conversation[], c: Conversation): void {
  heap.push(c);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.nextNs <= c.nextNs) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = c;
}

function heapPop(heap: Conversation[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  heapSiftDown(heap, 0);
}

function heapSiftDown(heap: Conversation[], i: number): void {
  const n = heap.length;
  const c = heap[i]!;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap[child + 1]!.nextNs < heap[child]!.nextNs) child++;
    if (heap[child]!.nextNs >= c.nextNs) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = c;
}

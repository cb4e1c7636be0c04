/**
 * A compact emulation of Zeek's TCP session analysis, kept per flow so that `history` and
 * `conn_state` read like a Zeek conn.log for the same capture.
 *
 * Zeek's view differs from ours on purpose and we reproduce it, not improve it:
 * - Originator = sender of the first packet, flipped ('^') when that packet is a SYN-ACK, or when
 *   it is not a SYN and its source port is a likely server port (Zeek's `WantConnection`), or when
 *   the responder later sends the SYN of a reordered handshake.
 * - Seven endpoint states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET),
 *   changed only by the flags an endpoint sends (Zeek's `UpdateStateMachine`).
 * - History letters (upper case originator): S H A D F R once each, S/H/F/R again when their
 *   relative sequence number differs from the last of that kind; I (FIN+RST) and Q (SYN+FIN,
 *   SYN+RST) once; T (retransmitted payload) and W (zero window) at counts 1, 10, 100, ...
 *
 * Not emulated: C (we do not verify checksums), G (content gaps need Zeek's reassembler, which is
 * only attached when an application analyzer asks for the stream), X, and Zeek's timers (an
 * attempt or inactivity timer can split one of our flows into two Zeek connections).
 *
 * Per-packet cost: a handful of integer compares and no allocation; the history is kept as letter
 * codes and becomes text only when a record is written.
 *
 * @module
 */

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/types.ts';
import type { TcpSegment } from '../decode/types.ts';
import { seqDiff } from '../flow/seq.ts';
import {
  ZEEK_CLOSED,
  ZEEK_ESTABLISHED,
  ZEEK_INACTIVE,
  ZEEK_PARTIAL,
  ZEEK_RESET,
  ZEEK_SYN_ACK_SENT,
  ZEEK_SYN_SENT,
  zeekConnState,
} from './verdict.ts';
import type { ZeekVerdictInput } from './verdict.ts';
import type { ConnState } from './types.ts';
import { packetSeconds } from './packet-seconds.ts';

/**
 * Zeek's `tcp_attempt_delay` (5 s): when it expires with the originator still in SYN_SENT and the
 * responder silent, Zeek logs the connection (S0) and removes it; later packets of the same
 * 4-tuple start a new Zeek connection. We keep one flow but report Zeek's verdict and history as
 * of that first Zeek connection, the conn.log row that starts with our flow's first packet.
 */
const ZEEK_ATTEMPT_DELAY_SECONDS = 5;

/** Zeek's TOO_LARGE_SEQ_DELTA: a SYN/RST sequence jump larger than this is not trusted. */
const TOO_LARGE_SEQ_DELTA = 1048576;

/** History bits seen once per endpoint (Zeek's HIST_* masks). */
const HIST_SYN = 1;
const HIST_FIN = 2;
const HIST_RST = 4;
const HIST_FIN_RST = 8;
const HIST_DATA = 16;
const HIST_ACK = 32;
const HIST_MULTI = 64;

/**
 * Ports Zeek's analyzers register by default (its `likely_server_ports`): the source port of a
 * first packet that is not a SYN is taken as the responder's when it is one of these.
 */
const ZEEK_LIKELY_SERVER_PORTS: ReadonlySet<number> = new Set([
  21, 22, 25, 53, 80, 81, 88, 110, 111, 135, 137, 139, 143, 389, 443, 445, 465, 502, 563, 585, 587, 614,
  636, 989, 990, 992, 993, 994, 995, 1080, 1194, 1812, 2049, 2123, 2152, 2811, 3128, 3306, 3389, 5060,
  5061, 5222, 5223, 5269, 5280, 5432, 5672, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8081, 8443, 8888,
  9042, 47808,
]);

/** One Zeek conn.log row's verdict: where it starts in our flow, conn_state and history. */
export interface ZeekConnectionVerdict {
  /** 1-based frame number of its first packet. */
  readonly firstFrame: number;
  readonly connState: ConnState;
  readonly history: string;
}

/**
 * Zeek's per-endpoint bookkeeping, `z`-prefixed. Our EndpointTrack extends it, so a flow's Zeek
 * view of a side lives in the same object as ours: one object fewer read per packet and side.
 */
export class ZeekEndpoint {
  zState = ZEEK_INACTIVE;
  zPrevState = ZEEK_INACTIVE;
  zStartSeq = 0;
  zLastSeq = 0;
  zAckSeq = 0;
  zFinCount = 0;
  zHistSeen = 0;
  zHistLastSyn = -1;
  zHistLastFin = -1;
  zHistLastRst = -1;
  zRxmtCount = 0;
  zRxmtThreshold = 1;
  zZeroWindowCount = 0;
  zZeroWindowThreshold = 1;

  resetZeek(): void {
    this.zState = ZEEK_INACTIVE;
    this.zPrevState = ZEEK_INACTIVE;
    this.zStartSeq = 0;
    this.zLastSeq = 0;
    this.zAckSeq = 0;
    this.zFinCount = 0;
    this.zHistSeen = 0;
    this.zHistLastSyn = -1;
    this.zHistLastFin = -1;
    this.zHistLastRst = -1;
    this.zRxmtCount = 0;
    this.zRxmtThreshold = 1;
    this.zZeroWindowCount = 0;
    this.zZeroWindowThreshold = 1;
  }

  zSetState(state: number): void {
    if (state !== this.zState) {
      this.zPrevState = this.zState;
      this.zState = state;
    }
  }

  /** Payload bytes from sequence numbers, as Zeek's `TCP_Endpoint::Size()` approximates them. */
  zSize(peerState: number): number {
    if (this.zPrevState === ZEEK_SYN_SENT && this.zState === ZEEK_RESET && peerState === ZEEK_INACTIVE) return 0;
    const top = seqDiff(this.zLastSeq, this.zAckSeq) > 0 ? this.zLastSeq : this.zAckSeq;
    let size = seqDiff(top, this.zStartSeq);
    if (size > 0) size--; // the SYN's (or the synthetic start's) sequence octet
    if (size > 0 && this.zFinCount > 0) size--;
    return size > 0 ? size : 0;
  }
}

/**
 * History letters as small codes, so that a live flow's history is one number instead of a
 * string rebuilt on every letter (strings held by live flows were a large share of the
 * analysis's allocations). Code `1 + 2 * index + (responder ? 1 : 0)` for the
 * letters below, {@link CARET} for '^'; 0 is never used, so a packed history key is unambiguous.
 */
const LETTERS = 'SHADFRIQTW';
const L_S = 0;
const L_H = 1;
const L_A = 2;
const L_D = 3;
const L_F = 4;
const L_R = 5;
const L_I = 6;
const L_Q = 7;
const L_T = 8;
const L_W = 9;
const CARET = 1 + 2 * LETTERS.length;
/** The text of each code (index = code). */
const LETTER_TEXT: readonly string[] = [
  '',
  ...[...LETTERS].flatMap((c) => [c, c.toLowerCase()]),
  '^',
];
/**
 * The first this many letters are packed into one number, 5 bits each (below 2^53); later ones
 * (a long history is rare: S/H/F/R repeat only on new sequence numbers, T and W logarithmically)
 * go to an array.
 */
const PACKED_LETTERS = 10;

/** The code of letter `index` for an endpoint: upper case for the originator. */
function letter(index: number, isOrig: boolean): number {
  return 1 + 2 * index + (isOrig ? 0 : 1);
}

/**
 * The facts {@link zeekConnState} reads, filled in place: no object per flow, and the history
 * text is built only when read (RSTOS0 is the one verdict that looks at it).
 */
class VerdictInput implements ZeekVerdictInput {
  origState = 0;
  respState = 0;
  origSize = 0;
  respSize = 0;
  session: ZeekSession | undefined = undefined;
  get history(): string {
    return this.session === undefined ? '' : this.session.history;
  }
}
const VERDICT_INPUT = new VerdictInput();
const NO_CONTINUATIONS: readonly ZeekConnectionVerdict[] = [];

/**
 * Zeek's view of one connection: both endpoints, who is the originator, and the history string.
 * Feed every segment of the flow, in capture order, to {@link ZeekSession.process}.
 */
export class ZeekSession {
  /**
   * @param clientEp - Zeek endpoint of our client (a flow passes its EndpointTrack), and
   * @param serverEp - of our server; fixed, `origIsClient` says which is Zeek's originator.
   */
  constructor(
    private readonly clientEp: ZeekEndpoint = new ZeekEndpoint(),
    private readonly serverEp: ZeekEndpoint = new ZeekEndpoint(),
  ) {}

  /** True when Zeek's originator is our client. */
  origIsClient = true;
  /**
   * The history as letter codes (see LETTERS): the first PACKED_LETTERS in `packed` (a leading 1,
   * then 5 bits a letter, oldest first), the rest in `more`; `letterCount` letters in all.
   */
  private packed = 1;
  private more: number[] | null = null;
  private letterCount = 0;
  private started = false;
  /** Packet time at which Zeek's attempt timer fires, -1 when none is pending. */
  private attemptDeadline = -1;
  /**
   * Zeek connections already logged for this flow (its attempt timer removed them); the session
   * then starts over as Zeek would for the next packet of the 4-tuple. Usually empty.
   */
  private readonly logged: ZeekConnectionVerdict[] = [];
  private currentFirstFrame = 0;

  /** Back to the state of a new instance (for reuse from the flow tracker's pool). */
  reset(): void {
    this.clientEp.resetZeek();
    this.serverEp.resetZeek();
    this.origIsClient = true;
    this.clearHistory();
    this.started = false;
    this.attemptDeadline = -1;
    this.logged.length = 0;
    this.currentFirstFrame = 0;
  }

  private add(code: number): void {
    if (this.letterCount < PACKED_LETTERS) this.packed = this.packed * 32 + code;
    else (this.more ??= []).push(code);
    this.letterCount++;
  }

  private clearHistory(): void {
    this.packed = 1;
    this.more = null;
    this.letterCount = 0;
  }

  /** The Zeek history string of the current Zeek connection. */
  get history(): string {
    let text = '';
    const packedCount = Math.min(this.letterCount, PACKED_LETTERS);
    let scale = 32 ** (packedCount - 1);
    for (let i = 0; i < packedCount; i++, scale /= 32) text += LETTER_TEXT[Math.floor(this.packed / scale) % 32]!;
    if (this.more !== null) for (const code of this.more) text += LETTER_TEXT[code]!;
    return text;
  }

  /**
   * A number that identifies {@link firstHistory}'s text (equal keys, equal texts), so a store
   * can intern histories without building their text; -1 when the history is too long for one.
   */
  firstHistoryKey(): number {
    return this.logged.length > 0 || this.letterCount > PACKED_LETTERS ? -1 : this.packed;
  }

  /** Sets Zeek's orientation from the first packet of the flow (Zeek's `WantConnection`). */
  private start(fromClient: boolean, flags: number, srcPort: number, dstPort: number): void {
    this.started = true;
    let flip = false;
    const syn = (flags & TCP_SYN) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    if (syn && ack) {
      // A SYN-ACK first: its receiver opened the connection. Current Zeek flips here whatever the
      // ports (its one-sided-2745 and ctu baselines show `^h` with responder ports 281 and 888).
      flip = true;
    } else if (!syn && ZEEK_LIKELY_SERVER_PORTS.has(srcPort)) {
      flip = ZEEK_LIKELY_SERVER_PORTS.has(dstPort) ? srcPort < dstPort : true;
    }
    this.origIsClient = fromClient !== flip;
    if (flip) this.add(CARET);
  }

  /**
   * Processes one segment `seg` of the flow, captured at (tsSec, tsNanos); `fromClient` is its
   * sender in OUR roles. The segment and the time come whole (see packetSeconds: numbers taken out
   * of them would be boxed for this call, which is not inlined).
   */
  process(tsSec: number, tsNanos: number, frame: number, fromClient: boolean, seg: TcpSegment): void {
    const t = packetSeconds(tsSec, tsNanos);
    const flags = seg.flags;
    const seq = seg.seq;
    const ackNumber = seg.ack;
    // Payload length from the IP length.
    const len = seg.payloadLength;
    const window = seg.window;
    const srcPort = seg.srcPort;
    const dstPort = seg.dstPort;
    if (this.attemptDeadline >= 0 && t > this.attemptDeadline) {
      this.attemptDeadline = -1;
      const orig = this.origIsClient ? this.clientEp : this.serverEp;
      const resp = this.origIsClient ? this.serverEp : this.clientEp;
      if ((orig.zState === ZEEK_SYN_SENT || orig.zState === ZEEK_SYN_ACK_SENT) && resp.zState === ZEEK_INACTIVE) {
        this.logged.push({ firstFrame: this.currentFirstFrame, connState: this.currentConnState(), history: this.history });
        this.clientEp.resetZeek();
        this.serverEp.resetZeek();
        this.clearHistory();
        this.started = false;
      }
    }
    if (!this.started) {
      this.currentFirstFrame = frame;
      this.start(fromClient, flags, srcPort, dstPort);
    }
    let isOrig = fromClient === this.origIsClient;
    const ep = fromClient ? this.clientEp : this.serverEp;
    const peer = fromClient ? this.serverEp : this.clientEp;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ack = (flags & TCP_ACK) !== 0;

    let segLen = len;
    if (syn) segLen++;
    if (fin) segLen++;
    if (rst) segLen -= len;
    const lastSeq = (seq + segLen) >>> 0;

    // init_endpoint
    if (ep.zState === ZEEK_INACTIVE) {
      if (syn) {
        ep.zAckSeq = seq;
        ep.zStartSeq = seq;
      } else {
        // A partial connection: number as though a SYN preceded, but start last_seq at this
        // segment's start so its own payload is not taken for a retransmission.
        ep.zAckSeq = (seq - 1) >>> 0;
        ep.zStartSeq = (seq - 1) >>> 0;
      }
      ep.zLastSeq = syn ? lastSeq : seq;
    } else if (syn && seq !== ep.zStartSeq) {
      if (
        ep.zState === ZEEK_SYN_SENT ||
        ep.zState === ZEEK_SYN_ACK_SENT ||
        ep.zState === ZEEK_ESTABLISHED ||
        ep.zState === ZEEK_PARTIAL ||
        (ep.zState === ZEEK_RESET && ep.zPrevState === ZEEK_INACTIVE)
      ) {
        ep.zStartSeq = seq;
        ep.zAckSeq = seq;
        ep.zLastSeq = lastSeq;
      }
    }
    const relSeq = seqDiff(seq, ep.zStartSeq);

    // update_history
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.checkHistory(ep, isOrig, HIST_FIN_RST, L_I);
      else this.checkHistory(ep, isOrig, HIST_MULTI, L_Q);
    } else if (bits === 1) {
      if (syn) {
        const code = ack ? L_H : L_S;
        if (this.checkHistory(ep, isOrig, HIST_SYN, code) && relSeq !== ep.zHistLastSyn) this.add(letter(code, isOrig));
        ep.zHistLastSyn = relSeq;
      }
      if (fin) {
        const finPos = relSeq + len;
        if (this.checkHistory(ep, isOrig, HIST_FIN, L_F) && finPos !== ep.zHistLastFin) this.add(letter(L_F, isOrig));
        ep.zHistLastFin = finPos;
      }
      if (rst) {
        if (this.checkHistory(ep, isOrig, HIST_RST, L_R) && relSeq !== ep.zHistLastRst) this.add(letter(L_R, isOrig));
        ep.zHistLastRst = relSeq;
      }
    } else if (len > 0) {
      this.checkHistory(ep, isOrig, HIST_DATA, L_D);
    } else if (ack) {
      this.checkHistory(ep, isOrig, HIST_ACK, L_A);
    }

    // update_window: zero windows (W), logarithmic.
    if (window === 0 && !rst && peer.zState !== ZEEK_CLOSED && ep.zState !== ZEEK_RESET) {
      if (++ep.zZeroWindowCount === ep.zZeroWindowThreshold) {
        this.add(letter(L_W, isOrig));
        ep.zZeroWindowThreshold *= 10;
      }
    }

    // Acknowledgments move the peer's ack_seq (used only for sizes).
    if (ack) {
      if (peer.zState === ZEEK_INACTIVE) {
        peer.zStartSeq = (ackNumber - 1) >>> 0;
        peer.zAckSeq = peer.zStartSeq;
        peer.zLastSeq = peer.zStartSeq;
      } else if (!rst && seqDiff(ackNumber, peer.zAckSeq) > 0) {
        peer.zAckSeq = ackNumber;
      }
    }

    // update_last_seq, with retransmissions (T), logarithmic.
    const deltaLast = seqDiff(lastSeq, ep.zLastSeq);
    if ((syn || rst) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // untrusted jump
    } else if (fin && ep.zLastSeq === ((ep.zStartSeq + 1) >>> 0)) {
      ep.zLastSeq = lastSeq;
    } else if (ep.zState === ZEEK_RESET) {
      // nothing after a reset is trusted
    } else if (deltaLast > 0) {
      ep.zLastSeq = lastSeq;
    } else if (len > 0) {
      if (++ep.zRxmtCount === ep.zRxmtThreshold) {
        this.add(letter(L_T, isOrig));
        ep.zRxmtThreshold *= 10;
      }
    }

    if (fin) ep.zFinCount++;

    // UpdateStateMachine
    switch (ep.zState) {
      case ZEEK_INACTIVE:
        if (syn && isOrig) this.attemptDeadline = t + ZEEK_ATTEMPT_DELAY_SECONDS;
        isOrig = this.updateInactive(ep, peer, fromClient, isOrig, flags, seq, len);
        break;
      case ZEEK_SYN_SENT:
      case ZEEK_SYN_ACK_SENT:
        if (fin) ep.zSetState(ZEEK_CLOSED);
        if (rst) ep.zSetState(ZEEK_RESET);
        break;
      case ZEEK_ESTABLISHED:
      case ZEEK_PARTIAL:
        if (syn && ep.zState === ZEEK_PARTIAL && peer.zState === ZEEK_INACTIVE && !ack) ep.zSetState(ZEEK_SYN_SENT);
        if (fin && !rst) {
          ep.zSetState(ZEEK_CLOSED);
          // A FIN followed by a RST from the peer was a normal close after all.
          if (peer.zState === ZEEK_RESET && peer.zPrevState === ZEEK_CLOSED) peer.zSetState(ZEEK_CLOSED);
        }
        if (rst) ep.zSetState(ZEEK_RESET);
        break;
      case ZEEK_CLOSED:
        if (rst && peer.zState !== ZEEK_CLOSED) ep.zSetState(ZEEK_RESET);
        break;
      default:
        break;
    }
  }

  /** Zeek's CheckHistory: adds the letter the first time; returns true when it was already seen. */
  private checkHistory(ep: ZeekEndpoint, isOrig: boolean, mask: number, code: number): boolean {
    if ((ep.zHistSeen & mask) === 0) {
      ep.zHistSeen |= mask;
      this.add(letter(code, isOrig));
      return false;
    }
    return true;
  }

  /** Zeek's UpdateInactiveState. Returns the (possibly flipped) isOrig. */
  private updateInactive(
    ep: ZeekEndpoint,
    peer: ZeekEndpoint,
    fromClient: boolean,
    isOrig: boolean,
    flags: number,
    seq: number,
    len: number,
  ): boolean {
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    if (syn) {
      if (isOrig) {
        ep.zSetState(ack ? ZEEK_SYN_ACK_SENT : ZEEK_SYN_SENT);
      } else {
        if (!ack && peer.zState === ZEEK_SYN_ACK_SENT && seq === ep.zStartSeq) {
          // SYN/SYN-ACK reversal: the responder sent the SYN; flip and establish.
          this.origIsClient = fromClient;
          isOrig = true;
          this.add(CARET);
          peer.zSetState(ZEEK_ESTABLISHED);
        }
        if (peer.zState === ZEEK_SYN_SENT) peer.zSetState(ZEEK_ESTABLISHED);
        ep.zSetState(ZEEK_ESTABLISHED);
      }
    }
    if (fin) ep.zSetState(ZEEK_CLOSED);
    if (rst) ep.zSetState(ZEEK_RESET);
    if (ep.zState === ZEEK_INACTIVE) {
      const origEp = this.origIsClient ? this.clientEp : this.serverEp;
      if (!isOrig && len === 0 && origEp.zState === ZEEK_SYN_SENT) {
        // An eccentric stack ACKing a SYN before answering it: not a partial connection.
      } else if (ack && peer.zState === ZEEK_ESTABLISHED) {
        ep.zSetState(ZEEK_ESTABLISHED);
      } else {
        ep.zSetState(ZEEK_PARTIAL);
      }
    }
    return isOrig;
  }

  /** Zeek's conn_state of the first Zeek connection of this flow (the conn.log row starting with it). */
  connState(): ConnState {
    return this.logged[0]?.connState ?? this.currentConnState();
  }

  /** Zeek's history of the first Zeek connection of this flow. */
  firstHistory(): string {
    return this.logged[0]?.history ?? this.history;
  }

  /**
   * The later Zeek connections of this flow, when Zeek's attempt timer split it (empty otherwise):
   * what the following conn.log rows for the same 4-tuple say.
   */
  continuations(): readonly ZeekConnectionVerdict[] {
    if (this.logged.length === 0) return NO_CONTINUATIONS;
    const rest = this.logged.slice(1);
    if (this.started) rest.push({ firstFrame: this.currentFirstFrame, connState: this.currentConnState(), history: this.history });
    return rest;
  }

  private currentConnState(): ConnState {
    const orig = this.origIsClient ? this.clientEp : this.serverEp;
    const resp = this.origIsClient ? this.serverEp : this.clientEp;
    const input = VERDICT_INPUT;
    input.origState = orig.zState;
    input.respState = resp.zState;
    input.origSize = orig.zSize(resp.zState);
    input.respSize = resp.zSize(orig.zState);
    input.session = this;
    const verdict = zeekConnState(input);
    input.session = undefined;
    return verdict;
  }
}

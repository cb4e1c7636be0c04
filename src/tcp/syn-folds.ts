/**
 * SYN floods: which listeners are under one ({@link SynBalance}), and the unanswered SYN-only
 * connections of a flood counted per listener instead of kept as flows ({@link SynFolds}): what
 * keeps a flood of millions of spoofed SYNs within bounded memory while the `syn-flood` finding
 * still gives exact totals (tracker options `synFloodOutstanding`, `maxLiveFloodFlows`).
 */
import { formatAddress } from '../decode/address-text.ts';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../decode/types.ts';
import type { TcpSegment } from '../decode/types.ts';
import { compareTimestamps } from '../common/time.ts';
import type { FlowState } from './flow-state.ts';
import { IsoFormatter } from './iso-time.ts';
import { packetSeconds } from './packet-seconds.ts';
import type { UnansweredSynFold } from './types.ts';

/**
 * A flow whose client sent only SYNs (no payload, FIN or RST) and whose server sent nothing: it
 * cannot have completed and says nothing beyond its tuple, its SYN count and its times.
 */
export function isUnansweredSynOnly(f: FlowState): boolean {
  const n = f.counts;
  return (
    f.roleReason === 'syn' &&
    f.server.packets === 0 &&
    n.syn === f.client.packets &&
    f.client.dataBytes === 0 &&
    n.finClient === 0 &&
    n.rstClient === 0
  );
}

/** A hash of a listener (address words, port, VLAN key): the Map key of its entries, compared field by field. */
function listenerHash(w0: number, w1: number, w2: number, w3: number, port: number, vlan: number): number {
  return (Math.imul(w3 ^ Math.imul(w2 ^ Math.imul(w1 ^ w0, 0x85ebca6b), 0xc2b2ae35), 0x27d4eb2f) ^ (port * 4099 + vlan)) | 0;
}

/** One listener's folded connections, as numbers (structured-clonable, for the shards of `--jobs`). */
export interface SynFoldEntry {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  port: number;
  vlan: number;
  connections: number;
  synPackets: number;
  firstSec: number;
  firstNanos: number;
  lastSec: number;
  lastNanos: number;
}

/** The folded connections of one tracker (or of all shards, merged), by listener. */
export class SynFolds {
  /** By a hash of the listener; entries compared field by field. */
  private readonly byHash = new Map<number, SynFoldEntry[]>();
  /** Connections folded in all. */
  connections = 0;

  add(f: FlowState): void {
    this.addEntry({
      s0: f.s0, s1: f.s1, s2: f.s2, s3: f.s3, port: f.sPort, vlan: f.vlan,
      connections: 1, synPackets: f.counts.syn,
      firstSec: f.firstSec, firstNanos: f.firstNanos, lastSec: f.firstSec, lastNanos: f.firstNanos,
    });
  }

  /** Adds another tracker's entries (see {@link entries}). */
  addEntry(e: SynFoldEntry): void {
    const h = listenerHash(e.s0, e.s1, e.s2, e.s3, e.port, e.vlan);
    let list = this.byHash.get(h);
    if (list === undefined) {
      list = [];
      this.byHash.set(h, list);
    }
    this.connections += e.connections;
    for (const x of list) {
      if (x.s0 !== e.s0 || x.s1 !== e.s1 || x.s2 !== e.s2 || x.s3 !== e.s3 || x.port !== e.port || x.vlan !== e.vlan) continue;
      x.connections += e.connections;
      x.synPackets += e.synPackets;
      if (compareTimestamps(e.firstSec, e.firstNanos, x.firstSec, x.firstNanos) < 0) {
        x.firstSec = e.firstSec;
        x.firstNanos = e.firstNanos;
      }
      if (compareTimestamps(e.lastSec, e.lastNanos, x.lastSec, x.lastNanos) > 0) {
        x.lastSec = e.lastSec;
        x.lastNanos = e.lastNanos;
      }
      return;
    }
    list.push({ ...e });
  }

  /** Every entry (for a shard to send back). */
  entries(): SynFoldEntry[] {
    return [...this.byHash.values()].flat();
  }

  /** The `capture.unansweredSynsFolded` list: by listener address text, then port, then VLAN. */
  toList(tsPrecisionDigits: number): UnansweredSynFold[] {
    const iso = new IsoFormatter(tsPrecisionDigits);
    return this.entries()
      .map((e) => ({
        server: { ip: formatAddress(e.s0, e.s1, e.s2, e.s3), port: e.port },
        vlan: e.vlan,
        connections: e.connections,
        synPackets: e.synPackets,
        firstTs: iso.format(e.firstSec, e.firstNanos),
        lastTs: iso.format(e.lastSec, e.lastNanos),
        firstSeconds: packetSeconds(e.firstSec, e.firstNanos),
        lastSeconds: packetSeconds(e.lastSec, e.lastNanos),
      }))
      .sort((a, b) => (a.server.ip < b.server.ip ? -1 : a.server.ip > b.server.ip ? 1 : a.server.port - b.server.port || a.vlan - b.vlan));
  }
}

/** Slots of SynBalance's cache of recent listeners (a power of two). */
const BALANCE_CACHE = 256;

/** One listener's SYNs not matched by a SYN-ACK. */
interface Balance {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  port: number;
  vlan: number;
  outstanding: number;
}

/**
 * SYNs sent to each listener minus the SYN-ACKs it sent (never below 0), in capture order. A
 * listener that answers keeps this near 0 (only SYNs retried before their answer add); a flood of
 * spoofed SYNs, or a listener that stopped answering, makes it grow. Costs a lookup per SYN and
 * per SYN-ACK only. Kept by whoever sees every segment: the tracker, or the reader thread of
 * `--jobs` (a shard sees only some).
 */
export class SynBalance {
  private readonly byHash = new Map<number, Balance[]>();
  /**
   * The last listener seen per hash slot (direct-mapped, BALANCE_CACHE slots): a capture talks to
   * few listeners, so most SYNs and SYN-ACKs find theirs here instead of in the Map. On the
   * benchmark capture (96 listeners) this took SynBalance from 0.08-0.10 s to 0.05-0.06 s.
   */
  private readonly recent: (Balance | null)[] = new Array<Balance | null>(BALANCE_CACHE).fill(null);

  constructor(private readonly threshold: number) {}

  /**
   * Counts `seg` and tells whether it is a SYN (without ACK or RST) to a listener under a flood:
   * one with at least `threshold` SYNs outstanding before this one.
   */
  note(seg: TcpSegment): boolean {
    const f = seg.flags & (TCP_SYN | TCP_ACK | TCP_RST);
    if (f === TCP_SYN) {
      const b = this.balance(seg.dst0, seg.dst1, seg.dst2, seg.dst3, seg.dstPort, seg.vlanKey);
      const flood = b.outstanding >= this.threshold;
      b.outstanding++;
      return flood;
    }
    if (f === (TCP_SYN | TCP_ACK)) {
      const b = this.balance(seg.src0, seg.src1, seg.src2, seg.src3, seg.srcPort, seg.vlanKey);
      if (b.outstanding > 0) b.outstanding--;
    }
    return false;
  }

  private balance(w0: number, w1: number, w2: number, w3: number, port: number, vlan: number): Balance {
    const h = listenerHash(w0, w1, w2, w3, port, vlan);
    const slot = h & (BALANCE_CACHE - 1);
    const hit = this.recent[slot]!;
    if (hit !== null && hit.w3 === w3 && hit.port === port && hit.w2 === w2 && hit.w1 === w1 && hit.w0 === w0 && hit.vlan === vlan) {
      return hit;
    }
    const b = this.lookup(h, w0, w1, w2, w3, port, vlan);
    this.recent[slot] = b;
    return b;
  }

  /** The Balance of a listener (hash `h`) from the Map, made when new. */
  private lookup(h: number, w0: number, w1: number, w2: number, w3: number, port: number, vlan: number): Balance {
    let list = this.byHash.get(h);
    if (list === undefined) {
      list = [];
      this.byHash.set(h, list);
    }
    for (const b of list) if (b.w3 === w3 && b.port === port && b.w2 === w2 && b.w1 === w1 && b.w0 === w0 && b.vlan === vlan) return b;
    const b: Balance = { w0, w1, w2, w3, port, vlan, outstanding: 0 };
    list.push(b);
    return b;
  }
}

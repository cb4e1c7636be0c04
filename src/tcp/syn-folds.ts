/**
 * Unanswered SYN-only connections counted per listener instead of kept as flows (tracker option
 * `foldUnansweredSynsAfter`): what keeps a flood of millions of spoofed SYNs within bounded memory
 * while the `syn-flood` finding still gives exact totals.
 */
import { formatAddress } from '../decode/address-text.ts';
import { compareTimestamps } from '../common/time.ts';
import type { FlowState } from './flow-state.ts';
import { IsoFormatter } from './iso-time.ts';
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
    n.dataBytesClient === 0 &&
    n.finClient === 0 &&
    n.rstClient === 0
  );
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
    const h = (Math.imul(e.s3 ^ Math.imul(e.s2 ^ Math.imul(e.s1 ^ e.s0, 0x85ebca6b), 0xc2b2ae35), 0x27d4eb2f) ^ (e.port * 4099 + e.vlan)) | 0;
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
        firstSeconds: e.firstSec + e.firstNanos * 1e-9,
        lastSeconds: e.lastSec + e.lastNanos * 1e-9,
      }))
      .sort((a, b) => (a.server.ip < b.server.ip ? -1 : a.server.ip > b.server.ip ? 1 : a.server.port - b.server.port || a.vlan - b.vlan));
  }
}

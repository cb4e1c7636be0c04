/**
 * Builders for state-machine tests: segments are filled straight into createTcpSegment() objects
 * (no decoder involved), from a compact description.
 */
import { createTcpSegment, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/decode/types.ts';
import type { TcpSegment } from '../../src/decode/types.ts';
import { FlowTracker } from '../../src/tcp/index.ts';
import type { FlowRecord, FlowTrackerOptions } from '../../src/tcp/index.ts';

export interface Host {
  /** IPv4 address as a 32-bit number. */
  readonly ip: number;
  readonly port: number;
}

export const CLIENT: Host = { ip: 0x0a000001, port: 40000 }; // 10.0.0.1:40000
export const SERVER: Host = { ip: 0x0a000002, port: 80 }; // 10.0.0.2:80

/** Flags from letters: S, A, F, R, P (order free). */
export function flagBits(text: string): number {
  let f = 0;
  for (const ch of text) {
    if (ch === 'S') f |= TCP_SYN;
    else if (ch === 'A') f |= TCP_ACK;
    else if (ch === 'F') f |= TCP_FIN;
    else if (ch === 'R') f |= TCP_RST;
    else if (ch === 'P') f |= TCP_PSH;
  }
  return f;
}

export interface SegSpec {
  /** Sender: 'c' (CLIENT → SERVER) or 's' (SERVER → CLIENT), or explicit hosts. */
  readonly from: 'c' | 's';
  readonly flags: string;
  readonly seq: number;
  readonly ack?: number;
  readonly len?: number;
  readonly window?: number;
  readonly ttl?: number;
  readonly wscale?: number;
}

/** Fills `out` (reused, like the decoder does) from a spec. */
export function fillSegment(out: TcpSegment, spec: SegSpec, client: Host = CLIENT, server: Host = SERVER): TcpSegment {
  const src = spec.from === 'c' ? client : server;
  const dst = spec.from === 'c' ? server : client;
  out.ipVersion = 4;
  out.src0 = 0;
  out.src1 = 0;
  out.src2 = 0xffff;
  out.src3 = src.ip >>> 0;
  out.dst0 = 0;
  out.dst1 = 0;
  out.dst2 = 0xffff;
  out.dst3 = dst.ip >>> 0;
  out.srcPort = src.port;
  out.dstPort = dst.port;
  out.vlanKey = -1;
  out.flags = flagBits(spec.flags);
  out.seq = spec.seq >>> 0;
  out.ack = (spec.ack ?? 0) >>> 0;
  out.payloadLength = spec.len ?? 0;
  out.capturedPayloadLength = spec.len ?? 0;
  out.window = spec.window ?? 29200;
  out.ttl = spec.ttl ?? 64;
  out.headerLength = 20;
  out.windowScale = spec.wscale ?? -1;
  return out;
}

/** A tracker plus the flows it emitted, with a clock advancing `stepSeconds` per segment. */
export class Harness {
  readonly flows: FlowRecord[] = [];
  readonly tracker: FlowTracker;
  readonly seg = createTcpSegment();
  frame = 0;
  tSec: number;
  tNanos = 0;

  constructor(options: Partial<FlowTrackerOptions> = {}, startSec = 1_700_000_000) {
    this.tracker = new FlowTracker(options, (f) => this.flows.push(f));
    this.tSec = startSec;
  }

  /** Sends one segment at the current time, then advances the clock by `advanceMs`. */
  send(spec: SegSpec, advanceMs = 10, client: Host = CLIENT, server: Host = SERVER): void {
    fillSegment(this.seg, spec, client, server);
    this.tracker.add(this.seg, ++this.frame, this.tSec, this.tNanos);
    this.advance(advanceMs);
  }

  advance(ms: number): void {
    const total = this.tNanos + Math.round(ms * 1e6);
    this.tSec += Math.floor(total / 1e9);
    this.tNanos = total % 1e9;
  }

  /** The one live flow (asserts there is exactly one). */
  live(): FlowRecord {
    const snap = this.tracker.snapshot();
    if (snap.length !== 1) throw new Error(`expected one live flow, got ${snap.length}`);
    return snap[0]!;
  }

  /** Finishes and returns all flows sorted by id. */
  finish(): FlowRecord[] {
    this.tracker.finish();
    return [...this.flows].sort((a, b) => a.id - b.id);
  }
}

/** One row of a state-machine table. */
export interface Step extends SegSpec {
  readonly client: string;
  readonly server: string;
  readonly history?: string;
}

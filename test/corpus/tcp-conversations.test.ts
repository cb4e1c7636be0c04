/**
 * The shared corpus (real captures from public projects) against tshark's reference counts:
 * TCP packets and TCP conversations. tshark is a reference, not ground truth; where we differ on
 * purpose the reason is written next to the file name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile, CORPUS_DIR, corpusPresent } from '../support/analyze-file.ts';
import { CaptureFormatError } from '../../src/capture/types.ts';

interface TsharkFile {
  packets: number;
  tcp_packets: number;
  tcp_conversations: number;
  tcp_streams: number;
  tshark_read_error: string | null;
}

/**
 * Files whose TCP packet count differs from tshark's on purpose.
 * tshark reassembles IPv4 fragments and counts the reassembled TCP segment on the last fragment;
 * we analyse only fragments that carry a whole TCP header (the first one) and count the others as
 * `fragment`, because reassembly is not needed to follow connection state.
 */
const TCP_COUNT_DIFFERS: Record<string, string> = {
  'zeek/ipv4/fragmented-4.pcap': 'tshark counts reassembled fragments; we count the first fragment with a TCP header',
  'zeek/ipv4/fragmented-syn.pcap': 'the SYN is split so that its TCP header is not whole in the first fragment',
  'tcpdump/tcp_header_heapoverflow.pcap': 'a fuzzed header; counted as a malformed-TCP anomaly either way',
};

/**
 * Files whose conversation count differs from tshark's on purpose.
 */
const CONVERSATIONS_DIFFER: Record<string, string> = {
  // tshark does not key conversations by VLAN id, so the same 5-tuple on several VLANs is one
  // conversation for it and several for us (Zeek agrees with us).
  'zeek/vlan-collisions.pcap': 'same 5-tuple on untagged, VLAN 42 and QinQ 10/20: three conversations, tshark merges them',
  'zeek/vlan-pcp-dei.pcapng': 'same handshake on QinQ, one VLAN and untagged: three conversations, tshark merges them',
  'arkime/tcp_handshake_synthetic.pcap':
    'crafted: a SYN with a new ISN in the middle of an unfinished handshake (ports 40003, 40013) starts a new tcp.stream in tshark; ' +
    'we keep it in the attempt it interrupts (on 40003 the server answers it with a challenge ACK, RFC 5961 §4, so the old connection lives on)',
  'suricata-verify/tcp-split-handshake-02-5whs.pcap':
    "a split five-way handshake (SYN, ACK, server SYN, client SYN-ACK, ACK) is one connection; tshark starts a second stream at the server's SYN",
  ...TCP_COUNT_DIFFERS,
};

/**
 * Files whose record count differs from tshark's on purpose: tshark shows pcapng Custom Blocks
 * as frames; they are not packets, and we skip them by length (the capture-counts suite checks
 * the exact adjustment).
 */
const PACKET_COUNT_DIFFERS: Record<string, string> = {
  'pcapng-test-generator/be/test202.pcapng': 'three pcapng Custom Blocks that tshark counts as frames',
};

describe('shared corpus: TCP packets and conversations vs tshark', { skip: corpusPresent ? false : '../shared/corpus not found: corpus suite skipped' }, () => {
  if (!corpusPresent) return;
  const reference = JSON.parse(readFileSync(join(CORPUS_DIR, 'tshark-reference.json'), 'utf8')) as { files: Record<string, TsharkFile> };
  for (const [name, ref] of Object.entries(reference.files).sort(([a], [b]) => a.localeCompare(b))) {
    if (ref.packets === 0 && ref.tshark_read_error !== null) continue; // not a capture: the capture-counts suite checks the error
    it(name, async () => {
      let report;
      try {
        report = await analyzeFile(join(CORPUS_DIR, name));
      } catch (err) {
        assert.ok(err instanceof CaptureFormatError, `${name}: untyped failure ${String(err)}`);
        assert.equal(ref.packets, 0, `${name}: tshark read ${ref.packets} packets, we rejected the file: ${(err as Error).message}`);
        return;
      }
      if (PACKET_COUNT_DIFFERS[name] === undefined) assert.equal(report.capture.packets, ref.packets, 'packet count');
      if (TCP_COUNT_DIFFERS[name] === undefined) {
        assert.equal(report.capture.tcpPackets, ref.tcp_packets, 'TCP packet count');
      }
      // tshark's `conv,tcp` has one row per TCP stream, and its streams split a 4-tuple when a new
      // SYN reuses it: the same split as our incarnations, so flows compare one to one.
      if (CONVERSATIONS_DIFFER[name] === undefined) {
        assert.equal(report.flows.length, ref.tcp_conversations, 'TCP conversations (flows, incarnations included)');
      }
    });
  }
});

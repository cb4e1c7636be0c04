import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_NS,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  flagsToText,
  formatAddress,
  linkTypeName,
  DecodeStatus,
  decodeStatusName,
} from '../../src/decode/index.ts';
import { parseAddress } from '../../src/decode/address-parse.ts';

describe('flagsToText', () => {
  it('spells the common combinations as tcpdump/Zeek users expect', () => {
    assert.equal(flagsToText(TCP_SYN), 'S');
    assert.equal(flagsToText(TCP_SYN | TCP_ACK), 'SA');
    assert.equal(flagsToText(TCP_ACK), 'A');
    assert.equal(flagsToText(TCP_PSH | TCP_ACK), 'PA');
    assert.equal(flagsToText(TCP_FIN | TCP_ACK), 'FA');
    assert.equal(flagsToText(TCP_RST), 'R');
    assert.equal(flagsToText(TCP_RST | TCP_ACK), 'RA');
    assert.equal(flagsToText(TCP_FIN | TCP_PSH | TCP_ACK), 'FPA');
    assert.equal(flagsToText(0), '');
  });

  it('includes U, E, C, N in bit order and ignores bits above the nine flags', () => {
    assert.equal(flagsToText(TCP_SYN | TCP_ECE | TCP_CWR), 'SEC');
    assert.equal(flagsToText(TCP_ACK | TCP_URG | TCP_NS), 'AUN');
    assert.equal(flagsToText(0x1ff), 'FSRPAUECN');
    assert.equal(flagsToText(0x200 | TCP_SYN), 'S');
  });

  it('returns the same string object each time (no allocation per call)', () => {
    for (let flags = 0; flags < 512; flags++) assert.ok(Object.is(flagsToText(flags), flagsToText(flags)));
    assert.equal(new Set(Array.from({ length: 512 }, (_, f) => flagsToText(f))).size, 512);
  });
});

describe('formatAddress', () => {
  const fmt = (text: string): string => formatAddress(...parseAddress(text));

  it('prints IPv4-mapped addresses as a dotted quad', () => {
    assert.equal(formatAddress(0, 0, 0xffff, 0xc0000201), '192.0.2.1');
    assert.equal(formatAddress(0, 0, 0xffff, 0xffffffff), '255.255.255.255');
    assert.equal(formatAddress(0, 0, 0xffff, 0), '0.0.0.0');
  });

  it('follows RFC 5952 for IPv6', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1 no leading zeros, §4.2.1 longest run
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 one zero group is not compressed
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3 the longest run wins
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 on a tie, the first run
      ['2001:DB8::ABCD', '2001:db8::abcd'], // §4.3 lower case
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['1:0:0:0:0:0:0:8', '1::8'],
      ['0:0:1:0:0:0:0:0', '0:0:1::'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      ['::ffff:198.51.100.7', '198.51.100.7'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, expected] of cases) assert.equal(fmt(input), expected, input);
  });
});

describe('linkTypeName', () => {
  it('names the registry entries and falls back to the number', () => {
    assert.equal(linkTypeName(1), 'ETHERNET');
    assert.equal(linkTypeName(113), 'LINUX_SLL');
    assert.equal(linkTypeName(276), 'LINUX_SLL2');
    assert.equal(linkTypeName(0), 'NULL');
    assert.equal(linkTypeName(101), 'RAW');
    assert.equal(linkTypeName(9999), 'LINKTYPE_9999');
  });
});

describe('decodeStatusName', () => {
  it('gives a distinct snake_case name for every status', () => {
    const names = Object.values(DecodeStatus).map(decodeStatusName);
    assert.deepEqual(names, ['tcp', 'not_tcp', 'not_ip', 'fragment', 'truncated', 'malformed', 'unsupported_link']);
    assert.equal(decodeStatusName(99), 'unknown');
  });
});

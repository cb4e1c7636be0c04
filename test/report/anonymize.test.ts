import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { anonymizeReport, IpAnonymizer, formatIPv6, parseIPv6 } from '../../src/report/anonymize.ts';
import { renderHtml } from '../../src/report/render-html.ts';
import { reportsUnderTest } from './reports.ts';

function bits(ip: string): string {
  const bytes = isIPv4(ip) ? ip.split('.').map(Number) : Array.from(parseIPv6(ip) ?? []);
  return bytes.map((b) => b.toString(2).padStart(8, '0')).join('');
}
function commonPrefix(a: string, b: string): number {
  const x = bits(a);
  const y = bits(b);
  let i = 0;
  while (i < x.length && x[i] === y[i]) i += 1;
  return i;
}

describe('IpAnonymizer (Crypto-PAn)', () => {
  const anon = new IpAnonymizer('secret');
  const v4 = ['10.0.0.1', '10.0.0.2', '10.0.1.7', '10.200.3.4', '192.168.7.20', '8.8.8.8', '10.0.0.3'];
  const v6 = ['2001:db8::1', '2001:db8:0:1::10', '2001:db8:ffff::1', 'fe80::1', '::1'];

  it('preserves exactly the shared prefix length of every pair (IPv4 and IPv6)', () => {
    for (const group of [v4, v6]) {
      for (const a of group) for (const b of group) assert.equal(commonPrefix(anon.map(a), anon.map(b)), commonPrefix(a, b), `${a} ${b}`);
    }
  });

  it('changes every address, consistently, and yields valid addresses', () => {
    for (const a of [...v4, ...v6]) {
      const m = anon.map(a);
      assert.notEqual(m, a);
      assert.equal(new IpAnonymizer('secret').map(a), m, 'deterministic from the key');
      assert.ok(isIPv4(a) ? isIPv4(m) : isIPv6(m), m);
    }
    assert.notEqual(new IpAnonymizer('other').map('10.0.0.1'), anon.map('10.0.0.1'));
  });

  it('formats IPv6 per RFC 5952', () => {
    assert.equal(formatIPv6(parseIPv6('2001:0db8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
    assert.equal(formatIPv6(parseIPv6('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIPv6(parseIPv6('::ffff:1.2.3.4')!), '::ffff:102:304');
  });

  it('replaces addresses inside text but leaves times and ports alone', () => {
    const t = anon.mapText('ip.addr==10.0.0.1 && tcp.port==8080 at 12:34:56 to [2001:db8::1]:443');
    assert.ok(!t.includes('10.0.0.1') && !t.includes('2001:db8::1'));
    assert.ok(t.includes('tcp.port==8080') && t.includes('12:34:56') && t.includes(`[${anon.map('2001:db8::1')}]:443`));
  });
});

for (const [name, report] of await reportsUnderTest()) {
  describe(`anonymizeReport (${name})`, () => {
    const out = anonymizeReport(report, 'k1');
    const addresses = new Set([...report.flows].flatMap((f) => [f.client.ip, f.server.ip]));

    it('leaves no original address anywhere in the JSON or the HTML', () => {
      const json = JSON.stringify(out);
      const html = renderHtml(out);
      for (const ip of addresses) {
        const re = new RegExp(`(?<![\\w.:])${ip.replace(/[.]/g, '\\.')}(?![\\w:]|\\.\\d)`);
        assert.doesNotMatch(json, re, ip);
        assert.doesNotMatch(html, re, ip);
      }
    });

    it('keeps everything else: flow ids, ports, states, finding counts', () => {
      assert.equal(out.flows.length, report.flows.length);
      const originals = [...report.flows];
      [...out.flows].forEach((f, i) => {
        const o = originals[i]!;
        assert.equal(f.id, o.id);
        assert.equal(f.client.port, o.client.port);
        assert.deepEqual(f.finalState, o.finalState);
      });
      assert.deepEqual(out.findings.map((f) => [f.id, f.count, f.frames]), report.findings.map((f) => [f.id, f.count, f.frames]));
    });

    it('maps finding endpoints like the flows they concern', () => {
      const anon = new IpAnonymizer('k1');
      for (const f of report.findings) assert.equal(out.findings.find((x) => x.id === f.id)?.endpoint, anon.mapText(f.endpoint));
    });
  });
}

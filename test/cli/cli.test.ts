/**
 * The command line as a user runs it: exit codes, one-line errors naming the file and byte offset,
 * no stack traces, stdin input, and the JSON contract's top-level shape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES_DIR, REPO_ROOT } from '../support/analyze-file.ts';
import { conversationsPcap } from '../support/synthetic-capture.ts';
import { PcapWriter } from '../../src/capture/index.ts';
import { buildTcpFrame } from '../../src/synth/index.ts';
import { TCP_SYN } from '../../src/decode/types.ts';

const entry = join(REPO_ROOT, 'src', 'cli', 'entry.ts');

function run(args: readonly string[], input?: Uint8Array, env: Readonly<Record<string, string>> = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', FORCE_COLOR: '0', ...env },
    ...(input !== undefined ? { input } : {}),
    maxBuffer: 1 << 28,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Whether script(1) can run a command on a pseudo-terminal here (it needs /dev/ptmx). */
function terminalRuns(): boolean {
  return existsSync('/usr/bin/script') && spawnSync('script', ['-qec', 'true', '/dev/null'], { input: '', timeout: 10_000 }).status === 0;
}

const captures = existsSync(CAPTURES_DIR) ? readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.pcap')).sort() : [];
const sample = captures.includes('close-wait-leak.pcap') ? 'close-wait-leak.pcap' : captures[0];

describe('tcpmortem CLI', () => {
  it('rejects a file that is not a capture with one line naming the file and byte offset, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-'));
    const bogus = join(dir, 'notes.txt');
    writeFileSync(bogus, 'this is not a capture file\n');
    const r = run(['info', bogus]);
    assert.equal(r.status, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
    assert.match(lines[0] ?? '', new RegExp(`^tcpmortem: ${bogus.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+ \\(at byte \\d+\\)$`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('reports a missing file in one line, exit 2', () => {
    const r = run(['analyze', '/nonexistent/x.pcap', '--json']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'tcpmortem: /nonexistent/x.pcap: no such file');
  });

  it('report -o - and render -o - write the HTML to stdout (the summary to stderr); stdin to stdout works too', { skip: sample === undefined ? 'no fixture captures yet' : false }, () => {
    const path = join(CAPTURES_DIR, sample ?? '');
    const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-'));
    const file = join(dir, 'r.html');
    const json = join(dir, 'r.json');
    const toFile = run(['report', path, '-o', file, '--json', json, '--quiet']);
    assert.equal(toFile.status, 0, toFile.stderr);
    // render replays the saved result: the same HTML, to stdout with -o -.
    const rendered = run(['render', json, '-o', '-']);
    assert.equal(rendered.status, 0, rendered.stderr);
    assert.equal(rendered.stdout, readFileSync(file, 'utf8'));
    // To a file: the message reads as report's.
    const said = run(['render', json, '-o', join(dir, 'said.html')]);
    assert.equal(said.stdout, `Report written to ${join(dir, 'said.html')}\n`);
    // -q as on every other command: the same file, no message.
    const again = join(dir, 'again.html');
    const quiet = run(['render', json, '-o', again, '-q']);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
    assert.equal(readFileSync(again, 'utf8'), readFileSync(file, 'utf8'));
    // The result can come from stdin too (analyze --json | tcpmortem render -).
    const piped = run(['render', '-', '-o', '-'], readFileSync(json));
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdout, readFileSync(file, 'utf8'));
    const toStdout = run(['report', '-', '-o', '-'], readFileSync(path));
    assert.equal(toStdout.status, 0, toStdout.stderr);
    assert.match(toStdout.stdout, /^<!DOCTYPE html>/i);
    // The same document as the file, but the stdin capture is named '-'.
    assert.equal(toStdout.stdout.length > 10_000, true);
    assert.equal(toStdout.stdout.split(path).join('-'), readFileSync(file, 'utf8').split(path).join('-'));
    assert.match(toStdout.stderr, /Report written to standard output/);
    const both = run(['report', path, '-o', '-', '--json', '-']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /cannot both write to standard output/);
  });

  it('render says in one line why a result cannot be read (cut short, not JSON, a broken flow, missing), with the byte offset, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-'));
    const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
    const cut = run(['render', '-', '-o', join(dir, 'a.html')], encode('{"schema": "tcpmortem/1", '));
    assert.equal(cut.status, 2);
    assert.equal(cut.stderr, 'tcpmortem: -: the JSON document ends early (at byte 26)\n');
    // A sparse file of 1.8 GB of zero bytes: refused at its first byte, not read to the end.
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 1_800_000_000);
    const zeros = run(['render', huge, '-o', join(dir, 'b.html')]);
    assert.equal(zeros.status, 2);
    assert.equal(zeros.stderr, `tcpmortem: ${huge}: not a JSON object (at byte 0)\n`);
    assert.equal(existsSync(join(dir, 'b.html')), false);
    // A flow that is not JSON is found when the report reads it, and named with its offset.
    const result = run(['analyze', join(CAPTURES_DIR, 'close-wait-leak.pcap'), '--json']).stdout;
    const second = result.indexOf('{', result.indexOf('"id": 2,') - 10);
    const broken = run(['render', '-', '-o', join(dir, 'c.html')], encode(`${result.slice(0, second + 1)}"oops", ${result.slice(second + 1)}`));
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, new RegExp(`^tcpmortem: -: flows\\[1\\] is not JSON: .+ \\(at byte ${second}\\)\\n$`));
    // A JSON object without what a result holds.
    const bare = run(['render', '-', '-o', join(dir, 'd.html')], encode('{"schema": "tcpmortem/1", "flows": []}'));
    assert.equal(bare.status, 2);
    assert.equal(bare.stderr, 'tcpmortem: -: not a tcpmortem/1 result: it has no "capture" object\n');
    assert.equal(existsSync(join(dir, 'c.html')), false);
    const missing = run(['render', join(dir, 'none.json')]);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `tcpmortem: ${join(dir, 'none.json')}: no such file\n`);
  });

  it('an output that cannot be written is a one-line error before the capture is read, not after the analysis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-'));
    const leak = join(CAPTURES_DIR, 'close-wait-leak.pcap');
    // A capture that does not exist: the output is refused before the capture is opened.
    for (const [args, expected] of [
      [['report', '/nonexistent/x.pcap', '-o', join(dir, 'no', 'r.html')], `-o ${join(dir, 'no', 'r.html')}: no such directory: ${join(dir, 'no')}`],
      [['report', '/nonexistent/x.pcap', '-o', dir], `-o ${dir}: is a directory (name a file, such as ${join(dir, 'report.html')})`],
      [['report', '/nonexistent/x.pcap', '-o', join(dir, 'r.html'), '--json', join(dir, 'no', 'r.json')], `--json ${join(dir, 'no', 'r.json')}: no such directory: ${join(dir, 'no')}`],
      [['analyze', '/nonexistent/x.pcap', '-o', dir], `-o ${dir}: is a directory (name a file, such as ${join(dir, 'result.json')})`],
      [['render', '/nonexistent/r.json', '-o', join(dir, 'no', 'r.html')], `-o ${join(dir, 'no', 'r.html')}: no such directory: ${join(dir, 'no')}`],
    ] as const) {
      const r = run(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stderr, `tcpmortem: ${expected}\n`);
    }
    // A file in a directory that exists is written as before.
    const ok = run(['analyze', leak, '-o', join(dir, 'r.json')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(existsSync(join(dir, 'r.json')), true);
  });

  it('- with a terminal as standard input is a one-line usage error, not a silent wait', { skip: terminalRuns() ? false : 'no script(1) that can give the CLI a terminal here' }, () => {
    // script(1) runs the command with a pseudo-terminal as its standard input and output.
    for (const [args, what] of [['summary -', 'capture'], ['render -', 'result']] as const) {
      const r = spawnSync('script', ['-qec', `${process.execPath} --import tsx ${entry} ${args}`, '/dev/null'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        input: '',
        env: { ...process.env, TZ: 'UTC', FORCE_COLOR: '0' },
        timeout: 60_000,
      });
      assert.equal(r.status, 2, `${args}: ${r.stdout}`);
      assert.match(r.stdout, new RegExp(`^tcpmortem: -: standard input is a terminal; pipe the ${what} in \\(`));
    }
  });

  it('usage errors exit 2', () => {
    const r = run(['analyze']);
    assert.equal(r.status, 2);
    // Said in the tool's words, not yargs' ("Not enough non-option arguments: got 0 ...").
    assert.equal(r.stderr.trim(), 'tcpmortem: missing what to read: a capture file, or - for standard input (render: a JSON result); see --help');
    // A bad --max-findings is a usage error in one line, before any capture is read.
    const bad = run(['summary', '/nonexistent/x.pcap', '--max-findings', 'ten']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim(), 'tcpmortem: --max-findings must be a number, 0 or more');
  });

  it('info counts each interface\'s packets in words that agree in number', () => {
    const one = run(['info', '-'], conversationsPcap({ seed: 1, conversations: 1, maxPackets: 1, snapLength: 128 }));
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /^ {2}#0: ETHERNET \(1\), snaplen 128, ts 1e-6, 1 packet$/m);
    const many = run(['info', join(CAPTURES_DIR, 'close-wait-leak.pcap')]);
    assert.match(many.stdout, /^ {2}#0: ETHERNET \(1\), snaplen \d+, ts 1e-6, 27 packets$/m);
  });

  it('--help wraps between words', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0, r.stderr);
    // Lines joined again: a description wrapped inside a word would read "anomalie s".
    const flat = r.stdout.replace(/\s*\n\s*/g, ' ');
    for (const text of [
      'capture facts: format, interfaces, packets, times, drops, anomalies (like capinfos)',
      'full analysis: flows, both endpoints\' states, findings (JSON with --json); several captures or a directory: an audit, each its own result plus a combined summary',
      'pcap/pcapng files (optionally gzip-compressed), - for stdin, or directories (every *.pcap, *.pcapng, *.cap[.gz] directly inside)',
    ]) {
      assert.ok(flat.includes(text), `help shows "${text}" whole`);
    }
  });

  it('info --json and analyze --json read stdin (-) exactly as a file', { skip: sample === undefined ? 'no fixture captures yet' : false }, () => {
    const path = join(CAPTURES_DIR, sample ?? '');
    const fromFile = run(['info', path, '--json']);
    const fromStdin = run(['info', '-', '--json'], readFileSync(path));
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    const a = JSON.parse(fromFile.stdout) as { capture: Record<string, unknown> };
    const b = JSON.parse(fromStdin.stdout) as { capture: Record<string, unknown> };
    assert.deepEqual({ ...a.capture, file: '' }, { ...b.capture, file: '' });
    for (const key of ['format', 'packets', 'tcpPackets', 'firstTs', 'lastTs', 'interfaces', 'drops', 'anomalies', 'warnings']) {
      assert.ok(key in a.capture, `info --json has ${key}`);
    }
  });

  it('analyze --json prints the versioned contract; --fail-on sets the exit code', { skip: sample === undefined ? 'no fixture captures yet' : false }, () => {
    const path = join(CAPTURES_DIR, sample ?? '');
    const r = run(['analyze', path, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { schema: string; flows: unknown[]; findings: { severity: string }[] };
    assert.equal(doc.schema, 'tcpmortem/1');
    assert.ok(doc.flows.length > 0);
    const worst = doc.findings.some((f) => f.severity === 'error') ? 'error' : doc.findings.some((f) => f.severity === 'warning') ? 'warning' : undefined;
    const failing = run(['analyze', path, '--json', '--fail-on', 'info']);
    assert.equal(failing.status, doc.findings.length > 0 ? 1 : 0);
    if (worst === undefined) assert.equal(run(['analyze', path, '--json', '--fail-on', 'warning']).status, 0);
  });

  it('a capture cut mid-record is analysed up to the cut, with a warning naming the offset, exit 0', { skip: sample === undefined ? 'no fixture captures yet' : false }, () => {
    const bytes = readFileSync(join(CAPTURES_DIR, sample ?? ''));
    const cut = bytes.subarray(0, bytes.length - 7);
    const r = run(['analyze', '-', '--json'], cut);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { capture: { partial: boolean; packets: number; warnings: { byteOffset: number }[] } };
    assert.equal(doc.capture.partial, true);
    assert.ok(doc.capture.packets > 0);
    assert.match(r.stderr, /warning: -: .+ \(at byte \d+\)/);
  });
});

describe('version', () => {
  it('the version the tool reports is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = run(['--version']);
    assert.equal(r.stdout.trim(), pkg.version);
  });
});

describe('flows and netstat on kernel scenarios (ground truth from ss in each namespace)', () => {
  it('netstat at the end of close-wait-leak shows what ss showed: 3 CLOSE_WAIT on the server, 3 FIN_WAIT_2 on the client', () => {
    const r = run(['netstat', join(CAPTURES_DIR, 'close-wait-leak.pcap')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^10\.77\.0\.2\s+CLOSE_WAIT\s+3$/m);
    assert.match(r.stdout, /^10\.77\.0\.1\s+FIN_WAIT_2\s+3$/m);
    assert.match(r.stdout, /^10\.77\.0\.2\s+LISTEN\s+1$/m);
  });

  it('netstat --at in the middle of churn counts the client TIME_WAIT sockets closed so far', () => {
    const truth = JSON.parse(readFileSync(join(CAPTURES_DIR, '..', 'expected', 'churn.truth.json'), 'utf8')) as { connections: unknown[] };
    const end = run(['netstat', join(CAPTURES_DIR, 'churn.pcap')]);
    const m = /^10\.77\.0\.1\s+TIME_WAIT\s+(\d+)$/m.exec(end.stdout);
    assert.equal(Number(m?.[1]), truth.connections.length, 'every churn connection ends in TIME_WAIT on the client');
    const early = run(['netstat', join(CAPTURES_DIR, 'churn.pcap'), '--at', '0.5s']);
    const e = /^10\.77\.0\.1\s+TIME_WAIT\s+(\d+)$/m.exec(early.stdout);
    assert.ok(Number(e?.[1]) > 0 && Number(e?.[1]) < truth.connections.length);
  });

  it('netstat --at: an ISO time without a zone is UTC on any machine, the capture\'s precision is kept, a time outside the capture or not a time is a one-line error', () => {
    const churn = join(CAPTURES_DIR, 'churn.pcap');
    const info = JSON.parse(run(['info', churn, '--json']).stdout) as { capture: { firstTs: string; lastTs: string } };
    const first = info.capture.firstTs; // 2026-11-23T20:23:43.781510Z
    const half = run(['netstat', churn, '--at', '0.5s']);
    assert.equal(half.status, 0, half.stderr);
    // The same instant as an ISO time: with Z, and without a zone on a machine in another zone.
    const instant = new Date(Date.parse(first) + 500).toISOString().replace(/\.(\d{3})Z$/, `.$1${first.slice(23, 26)}Z`);
    assert.equal(run(['netstat', churn, '--at', instant]).stdout, half.stdout);
    assert.equal(run(['netstat', churn, '--at', instant.slice(0, -1)], undefined, { TZ: 'America/New_York' }).stdout, half.stdout);
    assert.match(half.stdout, new RegExp(`^Sockets at ${instant.replace(/[.]/g, '\\.')} \\(0\\.500 s into the capture\\)\n`));
    // At the first packet's microsecond its SYN is already out (Date.parse kept milliseconds only).
    assert.match(run(['netstat', churn, '--at', '0s']).stdout, /^10\.77\.0\.1\s+SYN_SENT\s+1$/m);
    const outside = run(['netstat', churn, '--at', '2020-01-01T00:00:00Z']);
    assert.equal(outside.status, 2);
    assert.equal(outside.stderr, `tcpmortem: --at 2020-01-01T00:00:00Z: outside the capture, which runs from ${first} to ${info.capture.lastTs} (1.923 s)\n`);
    const typo = run(['netstat', '/nonexistent/x.pcap', '--at', 'yesterday']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /^tcpmortem: --at yesterday: not a time \(use ISO 8601/);
  });

  it('flows --state filters by either side and --format csv has one row per flow', () => {
    const r = run(['flows', join(CAPTURES_DIR, 'close-wait-leak.pcap'), '--state', 'CLOSE_WAIT', '--format', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.ok(lines.slice(1).every((l) => l.includes(',FIN_WAIT_2,CLOSE_WAIT,')));
    const none = run(['flows', join(CAPTURES_DIR, 'close-wait-leak.pcap'), '--state', 'TIME_WAIT', '--format', 'ndjson']);
    assert.equal(none.stdout, '');
  });

  it('flows filters take what a person types: any case, - for _, an address in any form; a typo is a one-line error before the capture is read', () => {
    const ids = (args: readonly string[]): number[] => {
      const r = run(['flows', ...args, '--format', 'ndjson']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: number }).id);
    };
    const leak = join(CAPTURES_DIR, 'close-wait-leak.pcap');
    assert.deepEqual(ids([leak, '--state', 'close-wait']), [1, 2, 3]);
    assert.deepEqual(ids([leak, '--conn-state', 's2']), [1, 2, 3]);
    assert.deepEqual(ids([leak, '--conn-state', 'SF']), []);
    // The flows print fd77::1; the same address typed long-hand, in upper case, or in brackets.
    const v6 = join(CAPTURES_DIR, 'ipv6-clean.pcap');
    assert.deepEqual(ids([v6, '--host', 'FD77:0:0:0:0:0:0:1']), [1]);
    assert.deepEqual(ids([v6, '--host', '[fd77::2]', '--port', '8080']), [1]);
    assert.deepEqual(ids([v6, '--host', 'fd77::3']), []);
    // An IPv4 address written as IPv4-mapped IPv6 is the same host (the decoder stores it so).
    assert.deepEqual(ids([leak, '--host', '::ffff:10.77.0.2']), [1, 2, 3]);
    for (const [option, value, message] of [
      ['--state', 'CLOSEWAIT', /^tcpmortem: --state CLOSEWAIT: not a TCP state \(one of CLOSED, .*, UNKNOWN\)\n$/],
      ['--conn-state', 'XX', /^tcpmortem: --conn-state XX: not a Zeek conn_state \(one of S0, .*, OTH\)\n$/],
      ['--port', '99999', /^tcpmortem: --port 99999: not a port \(a whole number from 0 to 65535\)\n$/],
      ['--host', '10.0.0.300', /^tcpmortem: --host 10\.0\.0\.300: not an IPv4 or IPv6 address\n$/],
    ] as const) {
      // A capture that does not exist: the filter is refused before the file is opened.
      const r = run(['flows', '/nonexistent/x.pcap', option, value]);
      assert.equal(r.status, 2, `${option} ${value}`);
      assert.match(r.stderr, message);
    }
  });

  it('flows shows a vlan column when a flow is tagged: the same 4-tuple on three VLANs is three rows that differ there', () => {
    // One SYN on one 4-tuple untagged, on VLAN 42, and on VLANs 10/20 (QinQ): three flows.
    const writer = new PcapWriter({ snapLength: 128 });
    [[], [42], [10, 20]].forEach((vlanIds, i) => {
      const data = buildTcpFrame({ vlanIds, src: '10.1.0.1', dst: '10.1.0.2', srcPort: 40000, dstPort: 80, seq: 1000, flags: TCP_SYN });
      writer.writePacket({ tsSec: 1_700_000_000 + i, tsNanos: 0, data, originalLength: data.length });
    });
    const pcap = writer.drain();
    const table = run(['flows', '-'], pcap);
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^id +client +server +vlan +client state/);
    assert.match(lines[1]!, /^1 +10\.1\.0\.1:40000 +10\.1\.0\.2:80 +SYN_SENT/);
    assert.match(lines[2]!, /^2 +10\.1\.0\.1:40000 +10\.1\.0\.2:80 +42 +SYN_SENT/);
    assert.match(lines[3]!, /^3 +10\.1\.0\.1:40000 +10\.1\.0\.2:80 +10\/20 +SYN_SENT/);
    const csv = run(['flows', '-', '--format', 'csv'], pcap).stdout.trim().split('\n');
    assert.deepEqual(csv.map((l) => l.split(',').at(-1)), ['vlan', '', '42', '10/20']);
    // --vlan picks them: one tag, two, untagged; a value that is not a VLAN is refused.
    const ids = (vlan: string): string[] => run(['flows', '-', '--vlan', vlan, '--format', 'csv'], pcap).stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
    assert.deepEqual(ids('42'), ['2']);
    assert.deepEqual(ids('10/20'), ['3']);
    assert.deepEqual(ids('none'), ['1']);
    assert.deepEqual(ids('20'), []);
    const bad = run(['flows', '-', '--vlan', '5000'], pcap);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'tcpmortem: --vlan 5000: not a VLAN (an id 0-4095, outer/inner ids such as 10/20, or none)\n');
    // Untagged flows only: no vlan column.
    assert.doesNotMatch(run(['flows', join(CAPTURES_DIR, 'close-wait-leak.pcap')]).stdout.split('\n')[0]!, /vlan/);
  });

  it('--jobs takes a whole number: 0 means one per core; anything else is a one-line usage error', () => {
    const leak = join(CAPTURES_DIR, 'close-wait-leak.pcap');
    const one = run(['analyze', leak, '--json', '--jobs', '1']);
    const auto = run(['analyze', leak, '--json', '--jobs', '0']);
    assert.equal(auto.status, 0, auto.stderr);
    assert.equal(auto.stdout, one.stdout);
    for (const bad of ['abc', '-1', '2.5']) {
      const r = run(['analyze', leak, '--json', `--jobs=${bad}`]);
      assert.equal(r.status, 2, bad);
      assert.equal(r.stderr, 'tcpmortem: --jobs must be a whole number, 0 (one per core) or more\n');
    }
  });
});

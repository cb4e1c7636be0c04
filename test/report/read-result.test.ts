/**
 * readResult: a saved tcpmortem/1 document read back from byte chunks gives the same document
 * (flows kept as deflated pages of their own text) and the same report, in any chunking; input
 * that is not one JSON object is a ResultFormatError with its byte offset.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.ts';
import { readResult, renderHtml, reportJsonDocument, ResultFormatError } from '../../src/report/index.ts';
import type { PagedJsonFlowList } from '../../src/report/index.ts';
import { CAPTURES_DIR } from '../support/analyze-file.ts';
import { conversationsPcap } from '../support/synthetic-capture.ts';

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, Math.min(bytes.length, at + size));
}

const encoder = new TextEncoder();

async function analyzed(bytes: Uint8Array) {
  return analyze(chunksOf(bytes, 1 << 20), { file: 'generated.pcap' });
}

describe('readResult', () => {
  it('gives back the document of a small result byte for byte, in chunks of 1, 7 and 4,096 bytes', async () => {
    const report = await analyze(chunksOf(readFileSync(join(CAPTURES_DIR, 'close-wait-leak.pcap')), 4096), { file: 'close-wait-leak.pcap' });
    const text = [...reportJsonDocument(report)].join('');
    const bytes = encoder.encode(text);
    for (const size of [1, 7, 4096]) {
      const back = await readResult(chunksOf(bytes, size));
      assert.equal(`${JSON.stringify(back, null, 2)}\n`, text, `chunks of ${size}`);
      assert.equal(back.flows.length, 3);
    }
  });

  it('keeps a large result\'s flows in deflated pages, and renders the same report as the analysis', async () => {
    // ~3,000 connections: several MiB of flow text, so flows cross page ends.
    const report = await analyzed(conversationsPcap({ seed: 7, conversations: 3000, snapLength: 128 }));
    const text = [...reportJsonDocument(report)].join('');
    const bytes = encoder.encode(text);
    const back = await readResult(chunksOf(bytes, 65_521));
    const flows = back.flows as PagedJsonFlowList;
    assert.ok(flows.textBytes > 3 * (1 << 20), `${flows.textBytes} bytes of flow text`);
    assert.ok(flows.storedBytes * 4 < flows.textBytes, `${flows.storedBytes} bytes stored for ${flows.textBytes}`);
    assert.equal(`${JSON.stringify(back, null, 2)}\n`, text);
    // Records are fresh objects on each access (as from the flow store).
    assert.notEqual(flows.at(5), flows.at(5));
    assert.deepEqual(flows.at(5), JSON.parse(JSON.stringify(report.flows.at(5))));
    assert.equal(flows.at(-1), undefined);
    assert.equal(flows.at(flows.length), undefined);
    const diagnosed = await analyze(chunksOf(conversationsPcap({ seed: 7, conversations: 3000, snapLength: 128 }), 1 << 20), { file: 'generated.pcap' });
    assert.equal(renderHtml(back), renderHtml(diagnosed));
  });

  it('keeps a flow longer than a page whole, and the flows around it', async () => {
    const doc = { schema: 'tcpmortem/1', flows: [{ id: 1, pad: 'a'.repeat(600_000) }, { id: 2, pad: 'b'.repeat(2_500_000) }, { id: 3 }], findings: [] };
    const text = JSON.stringify(doc, null, 2);
    const back = await readResult(chunksOf(encoder.encode(text), 65_536));
    assert.equal(JSON.stringify(back, null, 2), text);
  });

  it('reads a gzip-compressed result as the plain one, from its content', async () => {
    const report = await analyze(chunksOf(readFileSync(join(CAPTURES_DIR, 'close-wait-leak.pcap')), 4096), { file: 'close-wait-leak.pcap' });
    const text = [...reportJsonDocument(report)].join('');
    const gz = gzipSync(encoder.encode(text));
    for (const size of [1, 100, 1 << 20]) {
      const back = await readResult(chunksOf(gz, size));
      assert.equal(`${JSON.stringify(back, null, 2)}\n`, text, `chunks of ${size}`);
    }
    // A chunk reused by its source once the next is asked for (as the CLI's file reader does).
    const shared = new Uint8Array(3);
    async function* reusing(size: number): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < gz.length; at += size) {
        const n = Math.min(size, gz.length - at);
        shared.set(gz.subarray(at, at + n));
        yield shared.subarray(0, n);
      }
    }
    for (const size of [1, 3]) assert.equal(`${JSON.stringify(await readResult(reusing(size)), null, 2)}\n`, text, `reused chunks of ${size}`);
  });

  it('refuses what is not one JSON object, with the byte offset', async () => {
    const cases: [string, string, number][] = [
      ['', 'empty input: not a JSON object', 0],
      ['  x', 'not a JSON object', 2],
      ['{"a": 1} {', 'text after the end of the JSON document', 9],
      ['{"a": [1, 2}', 'the JSON document ends early', 12],
      ['{"a": "b', 'the JSON document ends early', 8],
      ['{"flows": {}}', '"flows" is not an array', 10],
      ['{"flows": [{"id": 1}, 2]}', 'flows[1] is not an object', 22],
      ['{"a": 1}}', 'text after the end of the JSON document', 8],
    ];
    for (const [input, message, byteOffset] of cases) {
      await assert.rejects(readResult(chunksOf(encoder.encode(input), 3)), (err: unknown) => {
        assert.ok(err instanceof ResultFormatError, input);
        assert.equal(err.message, message, input);
        assert.equal(err.byteOffset, byteOffset, input);
        return true;
      });
    }
    // Brackets that do not match outside the flows: JSON.parse of the rest says so.
    await assert.rejects(readResult(chunksOf(encoder.encode('{"a": [1}, "b": 2]'), 4)), /^ResultFormatError: not JSON: /);
    // A flow's own syntax is checked when it is read.
    const lazy = await readResult(chunksOf(encoder.encode('{"flows": [{"id": 1}, {"id": 1 2}], "b": "\\"flows\\": ["}'), 5));
    assert.deepEqual(lazy.flows.at(0), { id: 1 });
    assert.throws(() => lazy.flows.at(1), (err: unknown) => err instanceof ResultFormatError && /^flows\[1\] is not JSON: /.test(err.message) && err.byteOffset === 22);
    assert.equal((lazy as unknown as { b: string }).b, '"flows": [');
  });
});

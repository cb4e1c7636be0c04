/** AddressTable: the pre-pass's compact interning of client address texts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AddressTable } from '../../src/diagnose/address-table.ts';

describe('AddressTable', () => {
  it('numbers texts in order of first sight, counts flows and keeps the first position', () => {
    const table = new AddressTable();
    assert.equal(table.add('10.0.0.1', 0), 0);
    assert.equal(table.add('2001:db8::1', 1), 1);
    assert.equal(table.add('10.0.0.1', 2), 0);
    assert.equal(table.add('10.0.0.10', 3), 2);
    assert.equal(table.size, 3);
    assert.deepEqual([0, 1, 2].map((n) => [table.text(n), table.flowCount(n), table.firstPosition(n)]), [
      ['10.0.0.1', 2, 0],
      ['2001:db8::1', 1, 1],
      ['10.0.0.10', 1, 3],
    ]);
    assert.equal(table.numberOf('10.0.0.10'), 2);
    assert.equal(table.numberOf('10.0.0.1 '), undefined);
    assert.equal(table.numberOf(''), undefined);
  });

  it('stays exact as it grows past its initial sizes (many texts, prefixes of each other, the empty text)', () => {
    const table = new AddressTable();
    const texts: string[] = [''];
    for (let i = 0; i < 20_000; i++) texts.push(i % 3 === 0 ? `fd00::${i.toString(16)}` : `10.${(i >> 8) & 255}.${i & 255}.${i % 7}`);
    const expected = new Map<string, { n: number; count: number; first: number }>();
    for (let round = 0; round < 2; round++) {
      texts.forEach((text, k) => {
        const position = round * texts.length + k;
        const n = table.add(text, position);
        const seen = expected.get(text);
        if (seen === undefined) expected.set(text, { n, count: 1, first: position });
        else {
          assert.equal(n, seen.n, text);
          seen.count++;
        }
      });
    }
    assert.equal(table.size, expected.size);
    let next = 0;
    for (const [text, { n, count, first }] of expected) {
      assert.equal(n, next++, 'first-seen order');
      assert.equal(table.text(n), text);
      assert.equal(table.numberOf(text), n);
      assert.equal(table.flowCount(n), count);
      assert.equal(table.firstPosition(n), first);
    }
  });
});

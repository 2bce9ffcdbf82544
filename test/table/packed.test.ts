// Packed text columns: the CSV reader's cells as UTF-8 bytes, selected for the rows a chunk keeps, in buffers
// of their own (they are transferred between threads), read back as the same strings.
import { describe, expect, it } from 'vitest';
import { PackedColumn } from '../../src/table/builder.js';
import { packTexts, selectPacked, unpackText } from '../../src/table/packed.js';

describe('packed text', () => {
  const cells = ['a', '', 'Zoë', 'x'.repeat(40), '東京', 'z'];

  it('a column filled from bytes and from strings, a row written again before it is accepted', () => {
    const col = new PackedColumn(8);
    const utf8 = Buffer.from(cells.join('|'));
    let at = 0;
    cells.forEach((c, r) => {
      if (r === 2) col.putString(r, 'rejected row, overwritten');
      if (r % 2 === 0) col.putBytes(r, utf8, at, at + Buffer.byteLength(c));
      else col.putString(r, c);
      at += Buffer.byteLength(c) + 1;
    });
    const p = col.packed(cells.length);
    expect(cells.map((_, i) => unpackText(p, i))).toEqual(cells);
    expect(p).toEqual(packTexts(cells));
  });

  it('grows past its first 64 KiB', () => {
    const col = new PackedColumn(3);
    const big = 'é'.repeat(40_000);
    col.putString(0, big);
    col.putBytes(1, Buffer.from(big), 0, Buffer.byteLength(big));
    col.putString(2, 'end');
    const p = col.packed(3);
    expect([0, 1, 2].map((i) => unpackText(p, i))).toEqual([big, big, 'end']);
  });

  it('selectPacked copies all rows or the kept ones into buffers of their own', () => {
    const p = packTexts(cells);
    const all = selectPacked(p);
    expect(all).toEqual(p);
    expect(all.bytes.buffer).not.toBe(p.bytes.buffer);
    expect(all.bytes.byteLength).toBe(all.bytes.buffer.byteLength);
    const kept = selectPacked(p, Uint32Array.from([4, 0, 3]));
    expect([0, 1, 2].map((i) => unpackText(kept, i))).toEqual([cells[4], cells[0], cells[3]]);
    expect(kept.bytes.byteLength).toBe(kept.bytes.buffer.byteLength);
    const small = selectPacked(packTexts(['x']));
    expect(small.bytes.buffer.byteLength).toBe(1); // not a slice of Node's shared pool
  });
});

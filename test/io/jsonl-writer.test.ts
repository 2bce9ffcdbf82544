import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFloat } from '../../src/io/format.js';
import { jsonlWriter, jsonRows } from '../../src/io/jsonl-writer.js';
import type { ResultChunk, ResultColumn } from '../../src/table/result.js';
import { packTexts } from '../../src/table/packed.js';
import { fileSink } from '../support/sinks.js';

const rows = 4;
const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\n', '\u0000', '\u2028', 'é日本', '\ud800')), { minLength: rows, maxLength: rows });
const column: fc.Arbitrary<ResultColumn> = fc.oneof(
  text.map((values): ResultColumn => ({ name: 'txt', kind: 'text', values })),
  text.map((values): ResultColumn => ({ name: 'packed', kind: 'packed', values: packTexts(values) })),
  fc.array(fc.double(), { minLength: rows * 2, maxLength: rows * 2 }).map((v): ResultColumn => ({ name: 'f64', kind: 'float', values: Float64Array.from(v), stride: 2, offset: 1 })),
  fc.array(fc.float(), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'f"32', kind: 'float', values: Float32Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'i64', kind: 'int', values: BigInt64Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.integer(), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'i32', kind: 'int', values: Int32Array.from(v), stride: 1, offset: 0 })),
  fc.array(fc.boolean(), { minLength: rows, maxLength: rows }).map((v): ResultColumn => ({ name: 'b', kind: 'bool', values: Uint8Array.from(v.map(Number)), stride: 1, offset: 0 })),
);

// What each cell must read back as (JSON.parse of the line).
function expected(c: ResultColumn, r: number, precision: number): unknown {
  switch (c.kind) {
    case 'text':
      return c.values[r];
    case 'packed':
      return Buffer.from(c.values.bytes).toString('utf8', c.values.offsets[r], c.values.offsets[r + 1]);
    case 'float': {
      const x = c.values[r * c.stride + c.offset];
      if (!Number.isFinite(x)) return null;
      const rounded = Number(formatFloat(x, precision));
      return Number.isFinite(rounded) ? rounded : x;
    }
    case 'bool':
      return c.values[r * c.stride + c.offset] === 1;
    default:
      return Number((c.values as ArrayLike<number | bigint>)[r * c.stride + c.offset]);
  }
}

describe('JSON Lines writer', () => {
  it('writes one JSON object per row that reads back as the values (floats at float_precision)', () => {
    fc.assert(
      fc.property(fc.array(column, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 17 }), (cols, precision) => {
        const columns = cols.map((c, k) => ({ ...c, name: `${c.name}${k}` }));
        const lines = jsonRows({ rows, columns }, precision).toString('utf8').split('\n');
        expect(lines.pop()).toBe('');
        expect(lines).toHaveLength(rows);
        lines.forEach((line, r) => {
          const obj = JSON.parse(line) as Record<string, unknown>;
          expect(Object.keys(obj)).toEqual(columns.map((c) => c.name));
          columns.forEach((c) => expect([c.name, obj[c.name]]).toEqual([c.name, expected(c, r, precision)]));
        });
      }),
      { numRuns: 800 },
    );
  });

  it('writes int64 digits exactly, NaN and infinities as null, ids as strings', () => {
    const chunk: ResultChunk = {
      rows: 2,
      columns: [
        { name: 'id', kind: 'packed', values: packTexts(['00123', '12345678901234567890']) },
        { name: 'n', kind: 'int', values: BigInt64Array.from([2n ** 62n + 1n, -1n]), stride: 1, offset: 0 },
        { name: 'p', kind: 'float', values: Float64Array.from([NaN, Infinity]), stride: 1, offset: 0 },
        { name: 'q', kind: 'float', values: Float32Array.from([0.1, 1e-7]), stride: 1, offset: 0 },
      ],
    };
    expect(jsonRows(chunk, 6).toString()).toBe('{"id":"00123","n":4611686018427387905,"p":null,"q":0.1}\n{"id":"12345678901234567890","n":-1,"p":null,"q":1e-7}\n');
  });

  it('counts rows, rolls back to a mark, and writes an empty file for an empty result', async () => {
    const { sink, text } = await fileSink('out.jsonl');
    const w = jsonlWriter(sink, { floatPrecision: 6 });
    const chunk = (v: number): ResultChunk => ({ rows: 1, columns: [{ name: 'x', kind: 'int', values: Int32Array.from([v]), stride: 1, offset: 0 }] });
    await w.write(chunk(1));
    const m = await w.mark();
    await w.write(chunk(2));
    expect(w.rows).toBe(2);
    expect(await w.rollback(m)).toBe(true);
    expect(w.rows).toBe(1);
    await w.write(chunk(3));
    await w.commit();
    expect(text()).toBe('{"x":1}\n{"x":3}\n');
    const empty = await fileSink('empty.jsonl');
    await jsonlWriter(empty.sink, { floatPrecision: 6 }).commit();
    expect(empty.text()).toBe('');
  });
});

import fc from 'fast-check';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { parquetWriter } from '../../src/io/parquet-writer.js';
import type { ResultChunk, ResultColumn } from '../../src/table/result.js';
import { packTexts } from '../../src/table/packed.js';
import type { ResultField } from '../../src/table/result.js';
import { fileSink } from '../support/sinks.js';

const FIELDS: ResultField[] = [
  { name: 'id', type: 'string' },
  { name: 'label', type: 'string' },
  { name: 'p', type: 'float32' },
  { name: 'v', type: 'float64' },
  { name: 'n', type: 'int64' },
  { name: 'k', type: 'int32' },
  { name: 'u', type: 'uint64' },
  { name: 'flag', type: 'bool' },
];

// A chunk of `n` rows starting at row `from`, one column per field (p is a strided [N, 2] output).
function chunk(from: number, n: number): ResultChunk {
  const r = Array.from({ length: n }, (_, i) => from + i);
  const columns: ResultColumn[] = [
    { name: 'id', kind: 'packed', values: packTexts(r.map((i) => (i % 3 === 0 ? `id-${i}` : i % 3 === 1 ? 'same' : ''))) },
    { name: 'label', kind: 'text', values: r.map((i) => (i % 2 ? 'leave' : 'stay')) },
    { name: 'p', kind: 'float', values: Float32Array.from(r.flatMap((i) => [i / 7, 1 - i / 7])), stride: 2, offset: 1 },
    { name: 'v', kind: 'float', values: Float64Array.from(r.map((i) => (i === 5 ? NaN : i * 1.1))), stride: 1, offset: 0 },
    { name: 'n', kind: 'int', values: BigInt64Array.from(r.map((i) => BigInt(i) * 2n ** 40n)), stride: 1, offset: 0 },
    { name: 'k', kind: 'int', values: Uint8Array.from(r.map((i) => i % 2)), stride: 1, offset: 0 },
    { name: 'u', kind: 'int', values: BigUint64Array.from(r.map((i) => 2n ** 64n - 1n - BigInt(i))), stride: 1, offset: 0 },
    { name: 'flag', kind: 'bool', values: Uint8Array.from(r.map((i) => i % 3 === 0)), stride: 1, offset: 0 },
  ];
  return { rows: n, columns };
}

function expectedRow(i: number) {
  return {
    id: i % 3 === 0 ? `id-${i}` : i % 3 === 1 ? 'same' : '',
    label: i % 2 ? 'leave' : 'stay',
    p: Math.fround(1 - i / 7),
    v: i === 5 ? NaN : i * 1.1,
    n: BigInt(i) * 2n ** 40n,
    k: i % 2,
    u: 2n ** 64n - 1n - BigInt(i),
    flag: i % 3 === 0,
  };
}

async function readBack(bytes: Buffer) {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  return { meta: parquetMetadata(file), rows: (await parquetReadObjects({ file })) as Record<string, unknown>[] };
}

describe('Parquet writer', () => {
  it('writes typed columns that read back as the values, in row groups of batch_size multiples', async () => {
    const { sink, bytes } = await fileSink('out.parquet');
    const w = parquetWriter(sink, { fields: () => FIELDS, batchSize: 40_000 });
    let at = 0;
    for (const n of [40_000, 40_000, 39_000, 1]) {
      await w.write(chunk(at, n));
      at += n;
    }
    expect(w.rows).toBe(at);
    await w.commit();
    const { meta, rows } = await readBack(bytes());
    expect(meta.created_by).toMatch(/^serve-batch /);
    expect(meta.schema.slice(1).map((s) => [s.name, s.type, s.converted_type ?? null, s.repetition_type])).toEqual([
      ['id', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['label', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['p', 'FLOAT', null, 'REQUIRED'],
      ['v', 'DOUBLE', null, 'REQUIRED'],
      ['n', 'INT64', null, 'REQUIRED'],
      ['k', 'INT32', null, 'REQUIRED'],
      ['u', 'INT64', 'UINT_64', 'REQUIRED'],
      ['flag', 'BOOLEAN', null, 'REQUIRED'],
    ]);
    // 65536 rows rounded to a multiple of 40000 → 80000 (a group closes at the first chunk reaching it).
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([80_000, 39_001]);
    expect(rows).toHaveLength(at);
    for (const i of [0, 1, 2, 5, 39_999, 40_000, 80_000, at - 1]) expect(rows[i]).toEqual(expectedRow(i));
  });

  it('writes the schema of an empty result', async () => {
    const { sink, bytes } = await fileSink('empty.parquet');
    await parquetWriter(sink, { fields: () => FIELDS, batchSize: 10 }).commit();
    const { meta, rows } = await readBack(bytes());
    expect(meta.schema.slice(1).map((s) => s.name)).toEqual(FIELDS.map((f) => f.name));
    expect(rows).toEqual([]);
  });

  it('rolls back to a mark: the failed input leaves no row group behind', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }), fc.boolean()), { minLength: 1, maxLength: 4 }), async (inputs) => {
        const { sink, bytes } = await fileSink('combined.parquet');
        const w = parquetWriter(sink, { fields: () => FIELDS, batchSize: 4 });
        let at = 0;
        const kept: number[] = [];
        for (const [sizes, fails] of inputs) {
          const m = await w.mark();
          const start = at;
          for (const n of sizes) {
            await w.write(chunk(at, n));
            at += n;
          }
          if (fails) expect(await w.rollback(m)).toBe(true);
          else for (let i = start; i < at; i++) kept.push(i);
        }
        await w.commit();
        expect(w.rows).toBe(kept.length);
        const { rows } = await readBack(bytes());
        expect(rows).toEqual(kept.map(expectedRow));
      }),
      { numRuns: 60 },
    );
  });

  it('row groups depend on the rows only, not on how they arrived in chunks (what lets merge rewrite shards into the bytes of one run)', async () => {
    // batch_size 43691 → row groups of 43691 rows; an input boundary (mark) closes a group.
    const write = async (sizes: number[][]) => {
      const { sink, bytes } = await fileSink('chunked.parquet');
      const w = parquetWriter(sink, { fields: () => FIELDS, batchSize: 43_691 });
      let at = 0;
      for (const input of sizes) {
        await w.mark();
        for (const n of input) {
          await w.write(chunk(at, n));
          at += n;
        }
      }
      await w.commit();
      return bytes();
    };
    const rows = [100_000, 50_000];
    const even = await write(rows.map((n) => [n]));
    let seed = 3;
    const random = (total: number) => {
      const out: number[] = [];
      while (total > 0) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const n = Math.min(total, 1 + (seed % 30_000));
        out.push(n);
        total -= n;
      }
      return out;
    };
    const uneven = await write(rows.map(random));
    expect(uneven.equals(even)).toBe(true);
    const { meta } = await readBack(even);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([43_691, 43_691, 12_618, 43_691, 6_309]);
  });
});

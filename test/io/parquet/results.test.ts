// merge's read of Parquet results (openParquetResult) goes through the run's page reader: every field type
// comes back exactly as written, rewriting it gives the same bytes, and a file hyparquet reads is read alike.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { openParquetResult } from '../../../src/io/parquet/index.js';
import { parquetWriter, schemaOf } from '../../../src/io/parquet-writer.js';
import { packTexts } from '../../../src/table/packed.js';
import type { ResultChunk, ResultColumn, ResultField } from '../../../src/table/result.js';
import { fileSink } from '../../support/sinks.js';
import { tempDir } from '../../support/temp-dir.js';

const FIELDS: ResultField[] = [
  { name: 'id', type: 'string' },
  { name: 'label', type: 'string' },
  { name: 'p32', type: 'float32' },
  { name: 'p64', type: 'float64' },
  { name: 'n', type: 'int32' },
  { name: 'big', type: 'int64' },
  { name: 'ubig', type: 'uint64' },
  { name: 'ok', type: 'bool' },
];

// Rows [from, from + n) of a result with every field type: unique and repeated strings (a dictionary),
// non-ASCII text, NaN, -0 and extremes.
function rowsOf(from: number, n: number): ResultChunk {
  const r = Array.from({ length: n }, (_, k) => from + k);
  const columns: ResultColumn[] = [
    { name: 'id', kind: 'packed', values: packTexts(r.map((k) => `row-${k}-é`)) },
    { name: 'label', kind: 'packed', values: packTexts(r.map((k) => ['setosa', 'versicolor', '', 'virginica ✓'][k % 4])) },
    { name: 'p32', kind: 'float', values: Float32Array.from(r, (k) => (k % 7 === 0 ? NaN : k / 3)), stride: 1, offset: 0 },
    { name: 'p64', kind: 'float', values: Float64Array.from(r, (k) => (k % 5 === 0 ? -0 : k % 11 === 0 ? -Infinity : k * 1e-300)), stride: 1, offset: 0 },
    { name: 'n', kind: 'int', values: Int32Array.from(r, (k) => (k % 2 ? -k : 2147483647 - k)), stride: 1, offset: 0 },
    { name: 'big', kind: 'int', values: BigInt64Array.from(r, (k) => (k % 3 === 0 ? -(2n ** 63n) + BigInt(k) : 2n ** 62n + BigInt(k))), stride: 1, offset: 0 },
    { name: 'ubig', kind: 'int', values: BigUint64Array.from(r, (k) => 2n ** 64n - 1n - BigInt(k)), stride: 1, offset: 0 },
    { name: 'ok', kind: 'bool', values: Uint8Array.from(r, (k) => k % 3 & 1), stride: 1, offset: 0 },
  ];
  return { rows: n, columns };
}

// A result file of `groups` row groups of the given sizes, as a run writes one.
async function resultFile(sizes: number[]): Promise<{ file: string; bytes: Buffer; chunks: ResultChunk[] }> {
  const out = await fileSink('result.parquet');
  const w = parquetWriter(out.sink, { fields: () => FIELDS, batchSize: 100 });
  const chunks: ResultChunk[] = [];
  let at = 0;
  for (const n of sizes) {
    await w.mark();
    const c = rowsOf(at, n);
    await w.write(c);
    chunks.push(c);
    at += n;
  }
  await w.commit();
  return { file: out.file, bytes: out.bytes(), chunks };
}

// The values of a result column, as plain comparable arrays.
function valuesOf(c: ResultColumn): unknown[] {
  if (c.kind === 'packed') return Array.from({ length: c.values.offsets.length - 1 }, (_, i) => Buffer.from(c.values.bytes.subarray(c.values.offsets[i], c.values.offsets[i + 1])).toString('utf8'));
  if (c.kind === 'text') return c.values;
  return Array.from(c.values as ArrayLike<unknown>);
}

describe('openParquetResult', () => {
  it('reads every field type back exactly as written, row group by row group', async () => {
    const { file, chunks } = await resultFile([250, 1, 3000, 700]);
    const result = await openParquetResult(file);
    try {
      expect(result.fields).toEqual(FIELDS);
      expect(result.groups).toEqual([250, 1, 3000, 700]);
      for (const [g, want] of chunks.entries()) {
        const got = await result.group(g);
        expect(got.rows).toBe(want.rows);
        expect(got.columns.map((c) => c.kind)).toEqual(['packed', 'packed', 'float', 'float', 'int', 'int', 'int', 'bool']);
        for (const [k, c] of got.columns.entries()) expect(valuesOf(c), FIELDS[k].name).toEqual(valuesOf(want.columns[k]));
        // Floats keep their width (and, above, -0 and NaN).
        expect(got.columns[2].values).toBeInstanceOf(Float32Array);
      }
    } finally {
      await result.close();
    }
  });

  it('rewritten by the same writer, gives the same bytes (what merge relies on)', async () => {
    const { file, bytes } = await resultFile([250, 1, 3000, 700]);
    const result = await openParquetResult(file);
    const again = await fileSink('again.parquet');
    const w = parquetWriter(again.sink, { fields: () => result.fields, batchSize: 100 });
    for (let g = 0; g < result.groups.length; g++) {
      await w.mark();
      await w.write(await result.group(g));
    }
    await w.commit();
    await result.close();
    expect(again.bytes().equals(bytes)).toBe(true);
  });

  it('reads small pages, dictionaries and data page v2 as hyparquet does', async () => {
    const n = 2000;
    const columnData = [
      { name: 'id', data: Array.from({ length: n }, (_, k) => new TextEncoder().encode(`r${k % 37}`)) },
      { name: 'x', data: Float64Array.from({ length: n }, (_, k) => k / 7) },
      { name: 'big', data: BigInt64Array.from({ length: n }, (_, k) => BigInt(k) * 3n ** 30n) },
      { name: 'ok', data: Array.from({ length: n }, (_, k) => k % 5 === 0) },
    ];
    const schema = schemaOf([
      { name: 'id', type: 'string' },
      { name: 'x', type: 'float64' },
      { name: 'big', type: 'int64' },
      { name: 'ok', type: 'bool' },
    ]);
    for (const pageSize of [64, 1 << 20]) {
      const buf = Buffer.from(parquetWriteBuffer({ columnData, schema, pageSize, rowGroupSize: 600 }));
      const file = path.join(tempDir(), 'x.parquet');
      writeFileSync(file, buf);
      const result = await openParquetResult(file);
      const reference = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer })) as Record<string, unknown>[];
      const got: Record<string, unknown[]> = { id: [], x: [], big: [], ok: [] };
      for (let g = 0; g < result.groups.length; g++) for (const c of (await result.group(g)).columns) got[c.name].push(...valuesOf(c));
      await result.close();
      expect(result.groups).toEqual([600, 600, 600, 200]);
      expect(got.id).toEqual(reference.map((r) => r.id));
      expect(got.x).toEqual(reference.map((r) => r.x));
      expect(got.big).toEqual(reference.map((r) => r.big));
      expect(got.ok).toEqual(reference.map((r) => (r.ok ? 1 : 0)));
    }
  });

  it('a file that is not a shard result fails in one line naming it', async () => {
    const d = tempDir();
    const notParquet = path.join(d, 'part-0.parquet');
    writeFileSync(notParquet, 'id,p\n1,2\n3,4\n');
    await expect(openParquetResult(notParquet)).rejects.toMatchObject({ code: 'INPUT_FAILED', message: 'the shard result cannot be read as Parquet: not a Parquet file: it does not start with PAR1' });
    // A column with nulls (serve-batch writes none).
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 1 },
      { name: 'p', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    ];
    const nulls = path.join(d, 'nulls.parquet');
    writeFileSync(nulls, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'p', data: [1, null, 3] }], schema })));
    const r = await openParquetResult(nulls);
    await expect(r.group(0)).rejects.toMatchObject({ code: 'INPUT_FAILED', message: "the shard result cannot be read as Parquet: cannot decode column 'p' in row group 1: a missing value (serve-batch writes none): is this a shard result?" });
    await r.close();
    // A column of a type serve-batch never writes.
    const fixed = path.join(d, 'fixed.parquet');
    const fixedSchema: SchemaElement[] = [
      { name: 'root', num_children: 1 },
      { name: 'f', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, repetition_type: 'REQUIRED' },
    ];
    writeFileSync(fixed, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'f', data: [Uint8Array.of(1, 2)] }], schema: fixedSchema })));
    await expect(openParquetResult(fixed)).rejects.toMatchObject({ code: 'INPUT_FAILED', message: "column 'f' has type FIXED_LEN_BYTE_ARRAY, which serve-batch does not write: is this a shard result?", context: { file: fixed } });
  });
});

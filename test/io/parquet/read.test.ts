import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { asyncBufferFromFile, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../../src/errors.js';
import { parquetBuffer, parquetFile, readParquet } from '../../../src/io/parquet/index.js';
import { ChunkBuilder } from '../../../src/table/builder.js';
import type { ColumnNeed } from '../../../src/table/chunk.js';
import { INVALID, MISSING, OK } from '../../../src/table/numbers.js';
import { plain, type PlainChunk } from '../../support/csv.js';
import { FLIGHTS } from '../../support/flights.js';
import { tempDir } from '../../support/temp-dir.js';

type ColumnSource = Parameters<typeof parquetWriteBuffer>[0]['columnData'][number];
type WriteOptions = Partial<Parameters<typeof parquetWriteBuffer>[0]>;

const both = (name: string): ColumnNeed => ({ name, number: true, text: true });

function file(columnData: ColumnSource[], o: WriteOptions = {}): Buffer {
  return Buffer.from(parquetWriteBuffer({ columnData, ...o }));
}

async function read(buf: Buffer, needs: ColumnNeed[], batchSize = 1000, limit?: number): Promise<PlainChunk[]> {
  const out: PlainChunk[] = [];
  for await (const c of readParquet(parquetBuffer(buf), { file: 'in.parquet', needs, batchSize, limit }).chunks) out.push(plain(c));
  return out;
}

async function readError(buf: Buffer, needs: ColumnNeed[]): Promise<SbError> {
  try {
    await read(buf, needs);
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    return err as SbError;
  }
  throw new Error('expected readParquet to fail');
}

// All rows of all chunks, per column: text and number cells.
function columns(chunks: PlainChunk[]) {
  const texts: Record<string, string[]> = {};
  const numbers: Record<string, { values: number[]; status: number[] }> = {};
  for (const c of chunks) {
    for (const [k, v] of Object.entries(c.texts)) (texts[k] ??= []).push(...v);
    for (const [k, v] of Object.entries(c.numbers)) {
      numbers[k] ??= { values: [], status: [] };
      numbers[k].values.push(...v.values);
      numbers[k].status.push(...v.status);
    }
  }
  return { texts, numbers, lines: chunks.flatMap((c) => c.lines) };
}

// What the chunk builder (table/builder.ts) makes of decoded values (the reference for the differential tests).
function expectedCells(values: unknown[], need: ColumnNeed) {
  const rows = new ChunkBuilder([need.name], [{ ...need, index: 0 }], values.length);
  values.forEach((v, i) => {
    rows.value(0, i, v);
    rows.accept(i + 1);
  });
  return plain(rows.build());
}

describe('readParquet: types', () => {
  it('maps each Parquet type to cells as documented', async () => {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 10 },
      { name: 'd', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'f', type: 'FLOAT', repetition_type: 'REQUIRED' },
      { name: 'i', type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'l', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'u', type: 'INT64', converted_type: 'UINT_64', repetition_type: 'REQUIRED' },
      { name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'b', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
      { name: 'ts', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'OPTIONAL' },
      { name: 'local', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'NANOS' }, repetition_type: 'REQUIRED' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' },
    ];
    const buf = file(
      [
        { name: 'd', data: [1.5, null, NaN, Infinity, -2] },
        { name: 'f', data: Float32Array.from([0.25, -1, 3, 4, 5]) },
        { name: 'i', data: [7, -8, null, 2147483647, 0] },
        { name: 'l', data: [1n, null, 2n ** 62n + 1n, -5n, 9007199254740993n] },
        { name: 'u', data: [0n, 2n ** 64n - 1n, 1n, 2n, 3n] },
        { name: 's', data: ['a', null, '2.5', 'NA', ''] },
        { name: 'b', data: [true, false, null, true, false] },
        { name: 'ts', data: [1000000n, 1500000n, null, -1n, 0n] },
        { name: 'local', data: [1n, 86400n * 1000000000n, 0n, 1000000000n, 123456789n] },
        { name: 'day', data: [0, 1, -1, 18000, 20000] },
      ],
      { schema },
    );
    const needs = ['d', 'f', 'i', 'l', 'u', 's', 'b', 'ts', 'local', 'day'].map(both);
    const { texts, numbers, lines } = columns(await read(buf, needs));
    expect(lines).toEqual([1, 2, 3, 4, 5]);
    expect(texts.d).toEqual(['1.5', '', '', 'inf', '-2']);
    expect(numbers.d.status).toEqual([OK, MISSING, MISSING, OK, OK]);
    expect(numbers.f.values).toEqual([0.25, -1, 3, 4, 5]);
    expect(texts.i).toEqual(['7', '-8', '', '2147483647', '0']);
    expect(texts.l).toEqual(['1', '', '4611686018427387905', '-5', '9007199254740993']);
    expect(numbers.l.values.filter((_, k) => numbers.l.status[k] === OK)).toEqual([1, 2 ** 62, -5, 9007199254740992]);
    expect(texts.u).toEqual(['0', '18446744073709551615', '1', '2', '3']);
    expect(texts.s).toEqual(['a', '', '2.5', 'NA', '']);
    expect(numbers.s.status).toEqual([INVALID, MISSING, OK, MISSING, MISSING]);
    expect(texts.b).toEqual(['true', 'false', '', 'true', 'false']);
    expect(numbers.b.values.slice(0, 2)).toEqual([1, 0]);
    expect(texts.ts).toEqual(['1970-01-01T00:00:01Z', '1970-01-01T00:00:01.500000Z', '', '1969-12-31T23:59:59.999999Z', '1970-01-01T00:00:00Z']);
    expect(numbers.ts.status).toEqual([INVALID, INVALID, MISSING, INVALID, INVALID]);
    expect(texts.local).toEqual(['1970-01-01T00:00:00.000000001', '1970-01-02T00:00:00', '1970-01-01T00:00:00', '1970-01-01T00:00:01', '1970-01-01T00:00:00.123456789']);
    expect(texts.day).toEqual(['1970-01-01', '1970-01-02', '1969-12-31', '2019-04-14', '2024-10-04']);
  });

  it('reads a JSON column as its text', async () => {
    const buf = file([{ name: 'j', data: [{ a: 1 }, [1, 2], null], type: 'JSON' }]);
    const { texts, numbers } = columns(await read(buf, [both('j')]));
    expect(texts.j).toEqual(['{"a":1}', '[1,2]', '']);
    expect(numbers.j.status).toEqual([INVALID, INVALID, MISSING]);
  });

  it('reads only the needed columns; the header is those columns in file order', async () => {
    const buf = file([
      { name: 'a', data: [1, 2], type: 'INT32' },
      { name: 'b', data: ['x', 'y'], type: 'STRING' },
      { name: 'c', data: [0.5, 1.5], type: 'DOUBLE' },
    ]);
    const [c] = await read(buf, [{ name: 'c', number: true, text: false }, { name: 'a', number: false, text: true }]);
    expect(c.header).toEqual(['a', 'c']);
    expect(c.records).toEqual([['1', '0.5'], ['2', '1.5']]);
  });

  it('reads each codec (Snappy, gzip, Brotli, uncompressed; ZSTD in flights-3m)', async () => {
    const data = Array.from({ length: 500 }, (_, k) => k * 0.5);
    const extra = { GZIP: (b: Uint8Array) => gzipSync(b), BROTLI: (b: Uint8Array) => brotliCompressSync(b) };
    for (const codec of ['SNAPPY', 'GZIP', 'BROTLI', 'UNCOMPRESSED'] as const) {
      const buf = file([{ name: 'x', data: Float64Array.from(data) }], { codec, compressors: extra });
      expect(columns(await read(buf, [both('x')])).numbers.x.values).toEqual(data);
    }
  });
});

describe('readParquet: row groups, pages, chunks', () => {
  it('is the same as hyparquet reading the file, for any layout, batch size and limit', async () => {
    const value = fc.oneof(fc.double({ noNaN: false }), fc.constant(null));
    const text = fc.oneof(fc.constantFrom('a', 'b', 'NA', '', '1e3', ' 4 ', 'é'), fc.string(), fc.constant(null));
    const int = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -1000n, max: 1000n }), fc.constant(null));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }).chain((n) =>
          fc.record({
            x: fc.array(value, { minLength: n, maxLength: n }),
            s: fc.array(text, { minLength: n, maxLength: n }),
            l: fc.array(int, { minLength: n, maxLength: n }),
            b: fc.array(fc.oneof(fc.boolean(), fc.constant(null)), { minLength: n, maxLength: n }),
          }),
        ),
        fc.integer({ min: 1, max: 25 }),
        fc.constantFrom(1, 64, 1 << 20),
        fc.constantFrom('SNAPPY', 'UNCOMPRESSED') as fc.Arbitrary<'SNAPPY' | 'UNCOMPRESSED'>,
        fc.integer({ min: 1, max: 17 }),
        fc.option(fc.integer({ min: 1, max: 70 }), { nil: undefined }),
        async (cols, rowGroupSize, pageSize, codec, batchSize, limit) => {
          const buf = file(
            [
              { name: 'x', data: cols.x, type: 'DOUBLE' },
              { name: 's', data: cols.s, type: 'STRING' },
              { name: 'l', data: cols.l, type: 'INT64' },
              { name: 'b', data: cols.b, type: 'BOOLEAN' },
            ],
            { rowGroupSize, pageSize, codec },
          );
          const needs = ['x', 's', 'l', 'b'].map(both);
          const chunks = await read(buf, needs, batchSize, limit);
          const n = Math.min(cols.x.length, limit ?? Infinity);
          expect(chunks.every((c) => c.rows <= batchSize)).toBe(true);
          const got = columns(chunks);
          expect(got.lines).toEqual(Array.from({ length: n }, (_, k) => k + 1));
          const reference = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer, rowEnd: n })) as Record<string, unknown>[];
          for (const need of needs) {
            const want = expectedCells(
              reference.map((r) => r[need.name]),
              need,
            );
            expect(got.texts[need.name] ?? []).toEqual(want.texts[need.name]);
            expect(got.numbers[need.name] ?? { values: [], status: [] }).toEqual(want.numbers[need.name]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rebuilds a rejected row from its columns (strings in numeric columns kept)', async () => {
    const buf = file([
      { name: 'x', data: ['1.5', 'oops', null], type: 'STRING' },
      { name: 'y', data: [2, 3, 4], type: 'DOUBLE' },
    ]);
    const [c] = await read(buf, [{ name: 'x', number: true, text: false }, { name: 'y', number: true, text: false }]);
    expect(c.records).toEqual([['1.5', '2'], ['oops', '3'], ['', '4']]);
  });
});

describe('readParquet: a real third-party file (vega-datasets flights-3m: Polars, ZSTD, 11 row groups)', () => {
  it('reads the first rows as hyparquet does', async () => {
    const n = 20_000;
    const needs: ColumnNeed[] = [
      { name: 'delay', number: true, text: true },
      { name: 'distance', number: true, text: false },
      { name: 'origin', number: false, text: true },
      { name: 'date', number: false, text: true },
    ];
    const chunks: PlainChunk[] = [];
    const input = readParquet(await parquetFile(FLIGHTS, 'flights-3m.parquet'), { file: 'flights-3m.parquet', needs, batchSize: 4096, limit: n });
    for await (const c of input.chunks) chunks.push(plain(c));
    expect(input.sha256()).toBeUndefined();
    const got = columns(chunks);
    expect(got.lines.length).toBe(n);
    const reference = (await parquetReadObjects({ file: await asyncBufferFromFile(FLIGHTS), rowEnd: n, columns: ['delay', 'distance', 'origin', 'date'], compressors })) as Record<string, unknown>[];
    expect(got.texts.delay).toEqual(reference.map((r) => String(r.delay)));
    expect(got.numbers.distance.values).toEqual(reference.map((r) => Number(r.distance)));
    expect(got.texts.origin).toEqual(reference.map((r) => r.origin));
    // Polars writes naive timestamps (isAdjustedToUTC false): no Z.
    expect(got.texts.date).toEqual(reference.map((r) => (r.date as Date).toISOString().replace(/\.000Z$/, '')));
  });
});

describe('readParquet: failures are one line, naming the file', () => {
  const good = file([{ name: 'x', data: Float64Array.from([1, 2, 3]) }, { name: 'name', data: ['a', 'b', 'c'], type: 'STRING' }]);

  it('a file that is not Parquet, or truncated', async () => {
    expect((await readError(Buffer.from('a,b\n1,2\n3,4\n'), [both('x')])).message).toBe('not a Parquet file: it does not start with PAR1');
    expect((await readError(Buffer.alloc(0), [both('x')])).message).toBe('not a Parquet file: it is empty');
    expect((await readError(Buffer.from('PAR1PAR1'), [both('x')])).message).toBe('not a Parquet file: only 8 bytes');
    const e = await readError(good.subarray(0, good.length - 10), [both('x')]);
    expect(e.message).toMatch(/^not a valid Parquet file: /);
    expect(e.context.file).toBe('in.parquet');
  });

  it('a column chunk that does not decode', async () => {
    const big = file([{ name: 'x', data: Float64Array.from({ length: 5000 }, (_, k) => k) }], { codec: 'SNAPPY' });
    const broken = Buffer.from(big);
    broken.fill(0xff, 4, 200);
    expect((await readError(broken, [both('x')])).message).toMatch(/^cannot decode column 'x' in row group 1: /);
  });

  it('a column the file does not have, with a did-you-mean', async () => {
    expect((await readError(good, [both('nme')])).message).toBe("column 'nme' is not in the file, did you mean 'name'? (columns: x, name)");
  });

  it('a nested column a job reads', async () => {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 2 },
      { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'x', type: 'INT32', repetition_type: 'REQUIRED' },
    ];
    const nested = file([{ name: 'tags', data: [['a'], ['b', 'c']] }, { name: 'x', data: [1, 2] }], { schema });
    expect((await readError(nested, [both('tags')])).message).toMatch(/^column 'tags' is a nested Parquet column \(struct, list or map\)/);
    // Not read, not a problem.
    expect(columns(await read(nested, [both('x')])).texts.x).toEqual(['1', '2']);
  });

  it('a file that disappears before it is opened', async () => {
    const d = tempDir();
    const f = path.join(d, 'x.parquet');
    writeFileSync(f, good);
    await expect(parquetFile(path.join(d, 'gone.parquet'), 'gone.parquet')).rejects.toMatchObject({ code: 'INPUT_FAILED', message: 'cannot read input: it disappeared before it could be read' });
    const input = readParquet(await parquetFile(f, 'x.parquet'), { file: 'x.parquet', needs: [both('x')], batchSize: 10 });
    for await (const _ of input.chunks);
    expect(input.sha256()).toMatch(/^[0-9a-f]{64}$/);
    expect(input.bytesRead).toBe(good.length);
  });
});

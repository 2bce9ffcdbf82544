// Reading result files back, row by row, for `merge` (run/merge.ts): the text formats as their bytes (CSV/TSV
// records end at a line break outside quotes — the writers quote every field holding a quote or a line break
// — and JSON Lines at every line break), Parquet as typed columns, row group by row group. Nothing is parsed
// into values and written again except Parquet, whose values are decoded exactly (strings as their bytes,
// floats in their width, int64 as BigInt) and encoded again by the same writer.
import { parquetMetadataAsync, parquetRead, type FileMetaData, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { SbError } from '../errors.js';
import type { FieldType, ResultChunk, ResultColumn, ResultField } from '../table/result.js';
import { displayPath } from '../util/display.js';
import { parquetFile, type ParquetBytes } from './parquet/index.js';
import { openSource } from '../storage/source.js';
import { inputBlocks } from './input-blocks.js';

const LF = 10;
const QUOTE = 34;

// The records of a CSV/TSV or JSON Lines result file (gzipped or not), copied out as bytes.
export class TextRows {
  private readonly blocks: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private inQuote = false;
  private ended = false;

  constructor(
    private readonly file: string,
    private readonly quoted: boolean,
  ) {
    this.blocks = inputBlocks(openSource(file, displayPath(file))).blocks[Symbol.asyncIterator]();
  }

  // The next record's bytes (the header line of a CSV result), line break included; empty at the end.
  async record(): Promise<Buffer> {
    const parts: Buffer[] = [];
    await this.copy(1, async (b) => void parts.push(Buffer.from(b)), true);
    return Buffer.concat(parts);
  }

  // Copy the next `rows` records to `out`; fails when the file ends first.
  async copy(rows: number, out: (bytes: Buffer) => Promise<void>, allowShort = false): Promise<void> {
    let left = rows;
    while (left > 0) {
      if (this.pos >= this.buf.length && !(await this.more())) {
        if (allowShort) return;
        throw new SbError('RECONCILE', `the shard result ${displayPath(this.file)} holds fewer rows than its run record says (${left} missing)`);
      }
      const start = this.pos;
      left -= this.quoted ? this.scanCsv(left) : this.scanLines(left);
      await out(this.buf.subarray(start, this.pos));
    }
  }

  // True when no bytes are left.
  async atEnd(): Promise<boolean> {
    return this.pos >= this.buf.length && !(await this.more());
  }

  // Stop reading (the file is closed).
  async close(): Promise<void> {
    this.ended = true;
    await this.blocks.return?.(undefined);
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.blocks.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pos = 0;
    return this.buf.length > 0 || this.more();
  }

  // Advance over up to `want` lines of the current block; returns how many ended.
  private scanLines(want: number): number {
    let n = 0;
    while (n < want) {
      const lf = this.buf.indexOf(LF, this.pos);
      if (lf === -1) {
        this.pos = this.buf.length;
        break;
      }
      this.pos = lf + 1;
      n++;
    }
    return n;
  }

  // Advance over up to `want` CSV records of the current block (a line break inside quotes does not end one;
  // a doubled quote closes and reopens, which leaves the state as it was).
  private scanCsv(want: number): number {
    const buf = this.buf;
    let n = 0;
    let i = this.pos;
    let nextQuote = -2;
    while (n < want && i < buf.length) {
      if (this.inQuote) {
        const close = buf.indexOf(QUOTE, i);
        if (close === -1) {
          i = buf.length;
          break;
        }
        this.inQuote = false;
        i = close + 1;
        continue;
      }
      if (nextQuote !== -1 && nextQuote < i) nextQuote = buf.indexOf(QUOTE, i);
      const lf = buf.indexOf(LF, i);
      if (nextQuote !== -1 && (lf === -1 || nextQuote < lf)) {
        this.inQuote = true;
        i = nextQuote + 1;
        continue;
      }
      if (lf === -1) {
        i = buf.length;
        break;
      }
      i = lf + 1;
      n++;
    }
    this.pos = i;
    return n;
  }
}

/** A Parquet result file: its fields and its row groups' rows. */
export interface ParquetResult {
  fields: ResultField[];
  groups: number[];
  /** Rows of row group g as a result chunk (strings as bytes, numbers in their type). */
  group(g: number): Promise<ResultChunk>;
  close(): Promise<void>;
}

// Open a Parquet result (as serve-batch writes them: flat REQUIRED columns).
export async function openParquetResult(file: string): Promise<ParquetResult> {
  const display = displayPath(file);
  const bytes = await parquetFile(file, display);
  try {
    const asyncBuffer = bufferOf(bytes);
    const metadata = await parquetMetadataAsync(asyncBuffer);
    const fields = metadata.schema.slice(1).map((e) => ({ name: e.name, type: fieldType(e, display) }));
    const groups = metadata.row_groups.map((g) => Number(g.num_rows));
    return { fields, groups, group: (g) => readGroup(asyncBuffer, metadata, fields, groups, g, display), close: () => bytes.close() };
  } catch (err) {
    await bytes.close();
    if (err instanceof SbError) throw err;
    throw new SbError('INPUT_FAILED', `the shard result cannot be read as Parquet: ${(err as Error).message}`, { file: display });
  }
}

function bufferOf(bytes: ParquetBytes) {
  return {
    byteLength: bytes.size,
    slice: async (start: number, end = bytes.size) => {
      const b = await bytes.read(start, end - start);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

// The result field type a column was written as (parquet-writer.ts elementOf, read back).
function fieldType(e: SchemaElement, file: string): FieldType {
  switch (e.type) {
    case 'BYTE_ARRAY':
      return 'string';
    case 'FLOAT':
      return 'float32';
    case 'DOUBLE':
      return 'float64';
    case 'INT32':
      return 'int32';
    case 'INT64':
      return e.converted_type === 'UINT_64' || (e.logical_type?.type === 'INTEGER' && !e.logical_type.isSigned) ? 'uint64' : 'int64';
    case 'BOOLEAN':
      return 'bool';
    default:
      throw new SbError('INPUT_FAILED', `column '${e.name}' has type ${e.type}, which serve-batch does not write: is this a shard result?`, { file });
  }
}

async function readGroup(file: ReturnType<typeof bufferOf>, metadata: FileMetaData, fields: ResultField[], groups: number[], g: number, display: string): Promise<ResultChunk> {
  const rowStart = groups.slice(0, g).reduce((a, b) => a + b, 0);
  const rows = groups[g];
  const parts = new Map<string, { at: number; data: ArrayLike<unknown> }[]>();
  try {
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd: rowStart + rows,
      utf8: false,
      compressors,
      // Strings stay the bytes they were written as.
      parsers: { stringFromBytes: (b: Uint8Array) => b as unknown as string },
      onChunk: (c) => {
        const list = parts.get(c.columnName) ?? [];
        list.push({ at: c.rowStart, data: c.columnData });
        parts.set(c.columnName, list);
      },
    });
  } catch (err) {
    throw new SbError('INPUT_FAILED', `the shard result cannot be read as Parquet: ${(err as Error).message}`, { file: display });
  }
  const columns = fields.map((f): ResultColumn => {
    const values = slice(f, parts.get(f.name) ?? [], rowStart, rows);
    if (f.type === 'string') return { name: f.name, kind: 'packed', values: pack(values as (Uint8Array | string)[]) };
    if (f.type === 'float32' || f.type === 'float64') return { name: f.name, kind: 'float', values: values as Float32Array | Float64Array, stride: 1, offset: 0 };
    if (f.type === 'bool') return { name: f.name, kind: 'bool', values: Uint8Array.from(values as boolean[], (v) => (v ? 1 : 0)), stride: 1, offset: 0 };
    return { name: f.name, kind: 'int', values: values as ArrayLike<number> | ArrayLike<bigint>, stride: 1, offset: 0 };
  });
  return { rows, columns };
}

// Rows [rowStart, rowStart + rows) of a column from the chunks hyparquet gave (which may reach outside),
// as the typed array of the field's type.
function slice(f: ResultField, parts: { at: number; data: ArrayLike<unknown> }[], rowStart: number, rows: number): ArrayLike<unknown> {
  const out: unknown[] | Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array =
    f.type === 'float32' ? new Float32Array(rows) : f.type === 'float64' ? new Float64Array(rows) : f.type === 'int32' ? new Int32Array(rows) : f.type === 'int64' ? new BigInt64Array(rows) : f.type === 'uint64' ? new BigUint64Array(rows) : new Array<unknown>(rows);
  let filled = 0;
  for (const p of parts) {
    for (let i = 0; i < p.data.length; i++) {
      const r = p.at + i - rowStart;
      if (r < 0 || r >= rows) continue;
      (out as unknown[])[r] = f.type === 'int64' || f.type === 'uint64' ? BigInt(p.data[i] as bigint) : p.data[i];
      filled++;
    }
  }
  if (filled !== rows) throw new Error(`internal: column '${f.name}' read ${filled} of ${rows} rows`);
  return out;
}

function pack(raw: (Uint8Array | string)[]): { bytes: Uint8Array; offsets: Uint32Array } {
  const values = raw.map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
  const offsets = new Uint32Array(values.length + 1);
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    size += values[i].length;
    offsets[i + 1] = size;
  }
  const bytes = new Uint8Array(size);
  for (let i = 0; i < values.length; i++) bytes.set(values[i], offsets[i]);
  return { bytes, offsets };
}

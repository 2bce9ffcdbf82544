// Result chunks → Parquet (hyparquet-writer), written incrementally: rows are buffered until a row group is
// full (a multiple of batch_size, about 64k rows), then that row group is encoded and its bytes go to the
// sink, so memory holds one row group, not the result. A row group holds exactly that many rows (the last
// one of an input fewer), however the rows arrived in chunks: so the file depends only on the rows, which
// lets `merge` rewrite sharded results into the bytes of one unsharded run. The footer is written on commit. Columns are typed
// (see result-fields.ts): floats as FLOAT/DOUBLE with every bit (float_precision is for text formats),
// integers as INT32/INT64, booleans as BOOLEAN, labels and passthrough cells as UTF-8 strings (STRING); all are
// REQUIRED (NaN is a float value; an empty passthrough cell is ''). Snappy-compressed, as most writers do.
//
// Combined results: mark() closes the open row group (so no row group spans two inputs) and remembers the
// file length and the writer's row-group list; rollback() truncates the file and restores that list, so a
// failed input leaves nothing behind, as with text formats.
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { FieldType, ResultColumn, ResultField } from '../table/result.js';
import type { TableWriter, WriterMark } from '../table/writer.js';
import { VERSION } from '../version.js';
import type { ByteSink } from '../storage/sink.js';
import { cellsOf } from './csv-writer.js';

/** Rows per row group, before rounding up to a multiple of batch_size. */
const ROW_GROUP_ROWS = 65536;

export interface ParquetWriteOptions {
  /** The result columns and their types (called once the names are known: at the first chunk or commit). */
  fields: () => ResultField[];
  batchSize: number;
}

type ColumnValues = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array | Uint8Array[] | boolean[];

// Bytes produced by hyparquet-writer go to the sink after each row group (flush) and at the end (finish).
class SinkWriter extends ByteWriter {
  constructor(private readonly sink: ByteSink) {
    super(1 << 16);
  }

  flush(): Promise<void> {
    const bytes = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    return this.sink.write(bytes);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

interface ParquetMark extends WriterMark {
  groups: number;
  indexes: number;
  numRows: bigint;
  offset: number;
  started: boolean;
}

export function parquetWriter(sink: ByteSink, o: ParquetWriteOptions): TableWriter {
  const groupRows = Math.max(1, Math.round(ROW_GROUP_ROWS / o.batchSize)) * o.batchSize;
  let fields: ResultField[] | undefined;
  let writer: SinkWriter | undefined;
  let pw: ParquetWriter | undefined;
  // The chunks' columns as they came (packed text, tensors): values are made only when a row group is written,
  // so they die young instead of piling up in the old generation while the group fills.
  // Rows left over from a full row group are kept as values.
  let pending: ({ columns: ResultColumn[]; rows: number } | { values: ColumnValues[]; rows: number })[] = [];
  let pendingRows = 0;
  let rows = 0;

  const start = () => {
    fields ??= o.fields();
    if (!pw) {
      writer = new SinkWriter(sink);
      pw = new ParquetWriter({ writer, schema: schemaOf(fields), codec: 'SNAPPY', createdBy: `serve-batch ${VERSION}` });
    }
    return { fields, pw };
  };

  // Encode full row groups of the buffered rows, and with `all` the rest as one more.
  const flushGroup = async (all = true) => {
    while (pw && fields && pendingRows > 0 && (all || pendingRows >= groupRows)) {
      const parts = pending;
      const n = pendingRows;
      const values = fields.map((f, k) => concat(f.type, parts.map((p) => ('values' in p ? p.values[k] : valuesOf(f.type, p.columns[k], p.rows))), n));
      const take = Math.min(n, groupRows);
      pending = take < n ? [{ values: values.map((v) => tail(v, take)), rows: n - take }] : [];
      pendingRows = n - take;
      // Min/max statistics of string columns cost a third of the writing time and serve little in a result
      // file (they are kept for numeric columns).
      const columnData = fields.map((f, k) => ({ name: f.name, data: take < n ? head(values[k], take) : values[k], statistics: f.type !== 'string' }));
      await pw.write({ columnData, rowGroupSize: take });
    }
  };

  return {
    async write(chunk) {
      const { fields: fs } = start();
      if (chunk.rows === 0) return;
      if (chunk.columns.length !== fs.length) throw new Error(`internal: ${chunk.columns.length} result columns for ${fs.length} fields`);
      pending.push({ columns: chunk.columns, rows: chunk.rows });
      pendingRows += chunk.rows;
      rows += chunk.rows;
      if (pendingRows >= groupRows) await flushGroup(false);
    },
    get rows() {
      return rows;
    },
    streamed: sink.streamed,
    async mark(): Promise<ParquetMark> {
      await flushGroup();
      // The magic bytes of a file without row groups yet must be in the sink before its length is taken.
      if (writer && writer.index > 0) await writer.flush();
      return {
        bytes: await sink.mark(),
        rows,
        headerDone: true,
        groups: pw?.row_groups.length ?? 0,
        indexes: pw?.pendingIndexes.length ?? 0,
        numRows: pw?.num_rows ?? 0n,
        offset: writer?.offset ?? 0,
        started: pw !== undefined,
      };
    },
    async rollback(mark) {
      const m = mark as ParquetMark;
      if (!(await sink.rollback(m.bytes))) return false;
      rows = m.rows;
      pending = [];
      pendingRows = 0;
      if (!m.started) {
        pw = undefined;
        writer = undefined;
      } else if (pw && writer) {
        // hyparquet-writer keeps these as plain public fields; the footer is built from them on finish.
        pw.row_groups.length = m.groups;
        pw.pendingIndexes.length = m.indexes;
        pw.num_rows = m.numRows;
        writer.offset = m.offset;
        writer.index = 0;
      }
      return true;
    },
    async commit() {
      const { pw: w } = start();
      await flushGroup();
      await w.finish();
      await sink.commit();
    },
    abort: () => sink.abort(),
  };
}

// The Parquet schema of the result: one REQUIRED column per field.
export function schemaOf(fields: ResultField[]): SchemaElement[] {
  return [{ name: 'root', num_children: fields.length }, ...fields.map((f) => elementOf(f))];
}

function elementOf(f: ResultField): SchemaElement {
  const repetition_type = 'REQUIRED' as const;
  switch (f.type) {
    case 'string':
      return { name: f.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type };
    case 'float32':
      return { name: f.name, type: 'FLOAT', repetition_type };
    case 'float64':
      return { name: f.name, type: 'DOUBLE', repetition_type };
    case 'int32':
      return { name: f.name, type: 'INT32', repetition_type };
    case 'int64':
      return { name: f.name, type: 'INT64', repetition_type };
    case 'uint64':
      return { name: f.name, type: 'INT64', converted_type: 'UINT_64', logical_type: { type: 'INTEGER', bitWidth: 64, isSigned: false }, repetition_type };
    case 'bool':
      return { name: f.name, type: 'BOOLEAN', repetition_type };
  }
}

// One result column as the field's values (rows of a strided output picked out). Strings go to the writer
// as UTF-8 bytes: passthrough cells are views into their packed bytes, one view per distinct value (equal
// cells share it), labels are encoded once each. hyparquet-writer finds a view it has seen by identity, so
// its dictionary costs a Map lookup per row instead of hashing bytes, and a low-cardinality column makes
// few objects: writing flights-3m's airport codes went from 1.3 s of dictionary work and 3 s of GC to
// a fraction of that.
function valuesOf(type: FieldType, c: ResultColumn, n: number): ColumnValues {
  if (type === 'string') {
    if (c.kind === 'packed') return interned(c.values.bytes, c.values.offsets, n);
    const texts = c.kind === 'text' ? c.values : cellsOf(c, n, 17);
    const encoded = new Map<string, Uint8Array>();
    return Array.from({ length: n }, (_, r) => {
      const t = texts[r];
      let b = encoded.get(t);
      if (!b) encoded.set(t, (b = Buffer.from(t)));
      return b;
    });
  }
  if (c.kind === 'text' || c.kind === 'packed') {
    const texts = c.kind === 'text' ? c.values : cellsOf(c, n, 17);
    return typed(type, n, (r) => (type === 'int64' || type === 'uint64' ? BigInt(texts[r]) : Number(texts[r])));
  }
  const { values, stride, offset } = c;
  if (stride === 1 && offset === 0 && values.length >= n && sameType(type, values)) return (values as Exclude<ColumnValues, Uint8Array[] | boolean[]>).slice(0, n) as ColumnValues;
  const at = (r: number) => (values as ArrayLike<number | bigint>)[r * stride + offset];
  if (type === 'int64' || type === 'uint64') return typed(type, n, (r) => BigInt(at(r)));
  return typed(type, n, (r) => Number(at(r)));
}

// Views of cells [offsets[r], offsets[r+1]) of `bytes`, equal cells sharing one view.
function interned(bytes: Uint8Array, offsets: Uint32Array, n: number): Uint8Array[] {
  const out = new Array<Uint8Array>(n);
  const seen = new Map<number, Uint8Array | Uint8Array[]>();
  const buf = bytes.buffer;
  const base = bytes.byteOffset;
  for (let r = 0; r < n; r++) {
    const a = offsets[r];
    const b = offsets[r + 1];
    let h = 0x811c9dc5;
    for (let i = a; i < b; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    const hit = seen.get(h);
    let view: Uint8Array | undefined;
    if (hit !== undefined) {
      if (Array.isArray(hit)) {
        for (const v of hit) if (equalBytes(v, bytes, a, b)) view = v;
      } else if (equalBytes(hit, bytes, a, b)) view = hit;
    }
    if (!view) {
      view = new Uint8Array(buf, base + a, b - a);
      if (hit === undefined) seen.set(h, view);
      else if (Array.isArray(hit)) hit.push(view);
      else seen.set(h, [hit, view]);
    }
    out[r] = view;
  }
  return out;
}

function equalBytes(v: Uint8Array, bytes: Uint8Array, a: number, b: number): boolean {
  if (v.length !== b - a) return false;
  for (let i = 0; i < v.length; i++) if (v[i] !== bytes[a + i]) return false;
  return true;
}

function typed(type: FieldType, n: number, at: (r: number) => number | bigint): ColumnValues {
  switch (type) {
    case 'bool': {
      const out = new Array<boolean>(n);
      for (let r = 0; r < n; r++) out[r] = at(r) !== 0 && at(r) !== 0n;
      return out;
    }
    case 'int64':
    case 'uint64': {
      const out = type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let r = 0; r < n; r++) out[r] = at(r) as bigint;
      return out;
    }
    default: {
      const out = type === 'int32' ? new Int32Array(n) : type === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let r = 0; r < n; r++) out[r] = at(r) as number;
      return out;
    }
  }
}

function sameType(type: FieldType, values: ArrayLike<unknown>): boolean {
  return (
    (type === 'float32' && values instanceof Float32Array) ||
    (type === 'float64' && values instanceof Float64Array) ||
    (type === 'int32' && values instanceof Int32Array) ||
    (type === 'int64' && values instanceof BigInt64Array) ||
    (type === 'uint64' && values instanceof BigUint64Array)
  );
}

// The first `n` values, and the values after the first `n`.
function head(v: ColumnValues, n: number): ColumnValues {
  return ArrayBuffer.isView(v) ? (v.subarray(0, n) as ColumnValues) : (v.slice(0, n) as ColumnValues);
}

function tail(v: ColumnValues, n: number): ColumnValues {
  return ArrayBuffer.isView(v) ? (v.subarray(n) as ColumnValues) : (v.slice(n) as ColumnValues);
}

// Buffered parts of one column as one array of `n` values.
function concat(type: FieldType, parts: ColumnValues[], n: number): ColumnValues {
  if (parts.length === 1) return parts[0];
  if (type === 'string' || type === 'bool') return ([] as (Uint8Array | boolean)[]).concat(...(parts as (Uint8Array | boolean)[][])) as ColumnValues;
  const Ctor = parts[0].constructor as new (n: number) => Exclude<ColumnValues, Uint8Array[] | boolean[]>;
  const out = new Ctor(n);
  let at = 0;
  for (const p of parts as Exclude<ColumnValues, Uint8Array[] | boolean[]>[]) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p, at);
    at += p.length;
  }
  return out;
}

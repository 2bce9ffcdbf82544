// Parquet result files read back for `merge`, through the same page reader as a run (pages.ts): serve-batch's
// own results (flat REQUIRED columns of the types parquet-writer.ts writes), row group by row group, with
// every value exactly as written (strings as their bytes, floats in their width, int64 as BigInt), so that
// the writer encodes them into the same bytes again.
import { parquetSchema, type DecodedArray, type FileMetaData, type SchemaElement, type SchemaTree } from 'hyparquet';
import { SbError } from '../../errors.js';
import type { PackedText } from '../../table/packed.js';
import type { FieldType, ResultChunk, ResultColumn, ResultField } from '../../table/result.js';
import { displayPath } from '../../util/display.js';
import { parquetFile, type ParquetBytes } from './bytes.js';
import { convertValues, DEFAULT_PARSERS } from './hyparquet.js';
import { metadataOf } from './metadata.js';
import { columnDecoder, ColumnPages } from './pages.js';
import { chunkIndexOf } from './plan.js';

/** A Parquet result file: its fields and its row groups' rows. */
export interface ParquetResult {
  fields: ResultField[];
  groups: number[];
  /** Rows of row group g as a result chunk (strings as bytes, numbers in their type). */
  group(g: number): Promise<ResultChunk>;
  close(): Promise<void>;
}

// Strings stay the bytes they were written as.
const PARSERS = { ...DEFAULT_PARSERS, stringFromBytes: (b: Uint8Array) => b };

// Open a Parquet result file.
export async function openParquetResult(file: string): Promise<ParquetResult> {
  const display = displayPath(file);
  const bytes = await parquetFile(file, display);
  try {
    const meta = await metadataOf(bytes, display).catch((err: unknown) => {
      throw unreadable(err, display);
    });
    const fields = meta.schema.slice(1).map((e) => ({ name: e.name, type: fieldType(e, display) }));
    const groups = meta.row_groups.map((g) => Number(g.num_rows));
    const group = (g: number) =>
      readGroup(bytes, meta, fields, g, display).catch((err: unknown) => {
        throw unreadable(err, display);
      });
    return { fields, groups, group, close: () => bytes.close() };
  } catch (err) {
    await bytes.close();
    throw err;
  }
}

// Any failure to read the file, said as a shard result's.
function unreadable(err: unknown, display: string): SbError {
  return new SbError('INPUT_FAILED', `the shard result cannot be read as Parquet: ${(err as Error).message}`, { file: display });
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

// Row group g, every column.
async function readGroup(bytes: ParquetBytes, meta: FileMetaData, fields: ResultField[], g: number, display: string): Promise<ResultChunk> {
  const tree = parquetSchema(meta);
  const group = meta.row_groups[g];
  const rows = Number(group.num_rows);
  const columns: ResultColumn[] = [];
  for (const f of fields) {
    const node = tree.children.find((c) => c.element.name === f.name) as SchemaTree;
    const chunk = group.columns[chunkIndexOf(meta, f.name)]?.meta_data;
    if (!chunk) throw new Error(`column '${f.name}' has no data in row group ${g + 1}`);
    const decoder = columnDecoder(tree, node, chunk, PARSERS, false);
    columns.push(await columnOf(new ColumnPages<DecodedArray>(bytes, chunk, decoder, convertValues, rows, display, g), f, rows));
  }
  return { rows, columns };
}

// The next `rows` values of a column as the result column of its field's type.
async function columnOf(pages: ColumnPages<DecodedArray>, f: ResultField, rows: number): Promise<ResultColumn> {
  const out = valuesFor(f.type, rows);
  const set = out as unknown as { [r: number]: unknown };
  let r = 0;
  while (r < rows) {
    const page = await pages.current();
    const { defs, maxDef, index, store } = page;
    const end = r + Math.min(rows - r, page.rows - page.row);
    for (; r < end; r++, page.row++) {
      if (defs && defs[page.row] !== maxDef) throw pages.decodeError(new Error('a missing value (serve-batch writes none): is this a shard result?'));
      const v = store[index ? index[page.value++] : page.value++];
      set[r] = f.type === 'bool' ? (v ? 1 : 0) : v;
    }
  }
  if (f.type === 'string') return { name: f.name, kind: 'packed', values: pack(out as Uint8Array[]) };
  if (f.type === 'float32' || f.type === 'float64') return { name: f.name, kind: 'float', values: out as Float32Array | Float64Array, stride: 1, offset: 0 };
  if (f.type === 'bool') return { name: f.name, kind: 'bool', values: out as Uint8Array, stride: 1, offset: 0 };
  return { name: f.name, kind: 'int', values: out as ArrayLike<number> | ArrayLike<bigint>, stride: 1, offset: 0 };
}

// An array for `rows` values of a field's type (booleans as 0/1 bytes, strings as their bytes).
function valuesFor(type: FieldType, rows: number) {
  switch (type) {
    case 'float32':
      return new Float32Array(rows);
    case 'float64':
      return new Float64Array(rows);
    case 'int32':
      return new Int32Array(rows);
    case 'int64':
      return new BigInt64Array(rows);
    case 'uint64':
      return new BigUint64Array(rows);
    case 'bool':
      return new Uint8Array(rows);
    case 'string':
      return new Array<Uint8Array>(rows);
  }
}

// Byte strings as packed text.
function pack(values: Uint8Array[]): PackedText {
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

// Result chunks → CSV/TSV text. The header comes from the first chunk's column names (or the planned names
// for an input without rows). Each chunk becomes one string written in bulk (fastRows); csv-stringify is
// the reference — used for delimiters other than one plain character — and test/io/csv-writer.test.ts
// proves both give the same bytes (csv-stringify alone takes ~2.4 s for 1M four-column rows).
import { stringify } from 'csv-stringify/sync';
import type { ResultChunk, ResultColumn } from '../table/result.js';
import type { TableWriter } from '../table/writer.js';
import type { ByteSink } from '../storage/sink.js';
import { ByteOut } from './byte-out.js';
import { formatFloat } from './format.js';
import { unpackText } from '../table/packed.js';

// csv-stringify 6.9 leaves a lone CR unquoted although CSV readers (ours, pandas) end a line there.
export const CSV_OPTIONS = (delimiter: string) => ({ delimiter, record_delimiter: '\n', quoted_match: /\r/ });

export interface CsvWriteOptions {
  delimiter: string;
  floatPrecision: number;
  /** Header for a result without any chunk. */
  names: () => string[];
  /** false: always format through csv-stringify (the reference; for tests). */
  fast?: boolean;
}

export function csvWriter(sink: ByteSink, o: CsvWriteOptions): TableWriter {
  let headerDone = false;
  let out: ByteOut | undefined; // reused for every chunk: the sink is done with it once write() resolves
  let rows = 0;
  const line = (cells: string[][]) => stringify(cells, CSV_OPTIONS(o.delimiter));
  // Numbers, booleans and `inf` are written unquoted: only a delimiter that cannot occur in them is fast.
  const fast = o.fast !== false && o.delimiter.length === 1 && o.delimiter.charCodeAt(0) < 0x80 && !/[\w.+\-"\r\n]/.test(o.delimiter);
  const header = async (names: string[]) => {
    if (headerDone) return;
    headerDone = true;
    await sink.write(line([names]));
  };
  return {
    async write(chunk) {
      await header(chunk.columns.map((c) => c.name));
      if (chunk.rows === 0) return;
      if (fast) await sink.write(fastRows(chunk, o.delimiter, o.floatPrecision, (out ??= new ByteOut(1 << 16))));
      else {
        const cells = chunk.columns.map((c) => cellsOf(c, chunk.rows, o.floatPrecision));
        const lines = new Array<string[]>(chunk.rows);
        for (let r = 0; r < chunk.rows; r++) lines[r] = cells.map((col) => col[r]);
        await sink.write(line(lines));
      }
      rows += chunk.rows;
    },
    get rows() {
      return rows;
    },
    streamed: sink.streamed,
    async mark() {
      return { bytes: await sink.mark(), rows, headerDone };
    },
    async rollback(m) {
      if (!(await sink.rollback(m.bytes))) return false;
      rows = m.rows;
      headerDone = m.headerDone;
      return true;
    },
    async commit() {
      await header(o.names());
      await sink.commit();
    },
    abort: () => sink.abort(),
  };
}

// One result column as cell texts.
export function cellsOf(c: ResultColumn, rows: number, precision: number): string[] {
  if (c.kind === 'text') return c.values;
  if (c.kind === 'packed') return Array.from({ length: rows }, (_, r) => unpackText(c.values, r));
  const out = new Array<string>(rows);
  const { values, stride, offset } = c;
  if (c.kind === 'float') for (let r = 0; r < rows; r++) out[r] = formatFloat(c.values[r * stride + offset], precision);
  else if (c.kind === 'bool') for (let r = 0; r < rows; r++) out[r] = c.values[r * stride + offset] ? 'true' : 'false';
  else for (let r = 0; r < rows; r++) out[r] = String((values as ArrayLike<unknown>)[r * stride + offset]);
  return out;
}

// The rows of a chunk as CSV bytes, quoting exactly as csv-stringify does: a field is quoted when it holds
// the delimiter, a quote or a line break, and its quotes are doubled.
function fastRows(chunk: ResultChunk, delimiter: string, precision: number, out = new ByteOut(chunk.rows * chunk.columns.length * 12)): Buffer {
  const cols = chunk.columns;
  const n = cols.length;
  const special = new RegExp(`[${delimiter === ']' || delimiter === '\\' || delimiter === '^' || delimiter === '-' ? `\\${delimiter}` : delimiter}"\r\n]`);
  const d = delimiter.charCodeAt(0);
  const narrow = cols.map(int32View);
  out.pos = 0;
  for (let r = 0; r < chunk.rows; r++) {
    for (let k = 0; k < n; k++) {
      if (k > 0) out.byte(d);
      const c = cols[k];
      switch (c.kind) {
        case 'float':
          out.float(c.values[r * c.stride + c.offset], precision);
          break;
        case 'text': {
          const v = c.values[r];
          out.text(special.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
          break;
        }
        case 'packed': {
          const { bytes, offsets } = c.values;
          const a = offsets[r];
          const b = offsets[r + 1];
          if (needsQuotes(bytes, a, b, d)) {
            const v = unpackText(c.values, r);
            out.text(`"${v.replaceAll('"', '""')}"`);
          } else out.bytes(bytes, a, b);
          break;
        }
        case 'bool':
          out.text(c.values[r * c.stride + c.offset] ? 'true' : 'false');
          break;
        default: {
          const i = r * c.stride + c.offset;
          const w = narrow[k];
          if (w !== undefined) {
            // An int64 that fits in 32 bits: its high word is the low word's sign.
            const lo = w[2 * i];
            if (w[2 * i + 1] === lo >> 31) {
              out.integer(lo);
              break;
            }
          }
          out.integer((c.values as ArrayLike<number | bigint>)[i]);
        }
      }
    }
    out.byte(10);
  }
  return out.take();
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// int64 values (labels) read as pairs of 32-bit words, so the common small ones never become bigints.
function int32View(c: ResultColumn): Int32Array | undefined {
  if (c.kind !== 'int' || !(c.values instanceof BigInt64Array) || !LITTLE_ENDIAN) return undefined;
  return new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2);
}

// Whether bytes [a, b) hold the delimiter, a quote, CR or LF.
function needsQuotes(bytes: Uint8Array, a: number, b: number, delimiter: number): boolean {
  for (let i = a; i < b; i++) {
    const c = bytes[i];
    if (c === delimiter || c === 34 || c === 10 || c === 13) return true;
  }
  return false;
}

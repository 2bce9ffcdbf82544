// Decoded Parquet pages → the cells of a chunk (table/builder.ts): numbers straight into the typed columns
// when a numeric column is read only as numbers (the common case), else cell by cell as its type says.
// int64 is read exactly as text and as the nearest double; timestamps and dates as ISO text (time.ts); a
// dictionary's strings are parsed as numbers and its timestamps formatted once, not once per row.
import type { DecodedArray } from 'hyparquet';
import type { ChunkBuilder } from '../../table/builder.js';
import { MISSING, OK, parseNumberCell, type CellStatus } from '../../table/numbers.js';
import { convertValues, type ColumnDecoder } from './hyparquet.js';
import type { ColumnPages, Page } from './pages.js';
import { dateText, timeText, type TimeKind, type TimeValues } from './time.js';

/** A page's (or a dictionary's) values, by how they are read. */
export type Store =
  | { kind: 'float'; values: Float32Array | Float64Array }
  | { kind: 'int'; values: Int32Array | Uint32Array | Uint16Array | Int16Array | Int8Array | Uint8Array }
  | { kind: 'int64'; values: BigInt64Array | BigUint64Array; words: Int32Array; unsigned: boolean }
  | { kind: 'any'; values: unknown[]; parsed?: { value: Float64Array; status: Uint8Array } }
  | ({ kind: 'time'; texts?: string[] } & TimeValues)
  | { kind: 'date'; values: Int32Array; texts?: string[] };

const UNPARSED = 255;

// How a column's decoded values become a store: timestamps and dates kept raw (texts made when read), the
// rest converted by hyparquet.
export function storeFor(time: TimeKind | undefined): (data: DecodedArray, decoder: ColumnDecoder) => Store {
  return (data, decoder) => {
    if (time?.kind === 'time' && data instanceof BigInt64Array) return { ...time, values: data, words: new Int32Array(data.buffer, data.byteOffset, data.length * 2) };
    if (time?.kind === 'date' && data instanceof Int32Array) return { kind: 'date', values: data };
    return storeOf(convertValues(data, decoder));
  };
}

// Converted values as a store.
function storeOf(values: DecodedArray): Store {
  if (values instanceof Float64Array || values instanceof Float32Array) return { kind: 'float', values };
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return { kind: 'int64', values, words: new Int32Array(values.buffer, values.byteOffset, values.length * 2), unsigned: values instanceof BigUint64Array };
  }
  if (ArrayBuffer.isView(values)) return { kind: 'int', values: values as Exclude<typeof values, BigInt64Array | BigUint64Array | Float32Array | Float64Array | unknown[]> };
  return { kind: 'any', values: values as unknown[] };
}

// Write the next n rows of a column into field f of `rows` (rows 0..n-1).
export async function fillField(pages: ColumnPages<Store>, rows: ChunkBuilder, f: number, n: number): Promise<void> {
  let i = 0;
  while (i < n) {
    const page = await pages.current();
    const k = Math.min(n - i, page.rows - page.row);
    try {
      writeRows(page, rows, f, i, k);
    } catch (err) {
      throw pages.decodeError(err);
    }
    i += k;
  }
}

const cellParse = { status: 0 as CellStatus };

// Rows [page.row, page.row + k) of a page into rows i..i+k-1 of field f.
function writeRows(page: Page<Store>, rows: ChunkBuilder, f: number, i: number, k: number): void {
  const { defs, maxDef, index, store } = page;
  const num = rows.numberAt[f];
  if (num && !rows.textAt[f] && (store.kind === 'float' || store.kind === 'int' || store.kind === 'int64')) {
    numbersOnly(page, num.values, num.status, i, k);
    return;
  }
  for (let r = 0; r < k; r++, page.row++) {
    if (defs && defs[page.row] !== maxDef) {
      rows.missing(f, i + r);
      continue;
    }
    const v = index ? index[page.value++] : page.value++;
    switch (store.kind) {
      case 'float':
        rows.number(f, i + r, store.values[v]);
        break;
      case 'int':
        rows.number(f, i + r, store.values[v]);
        break;
      case 'int64': {
        const lo = store.words[2 * v] >>> 0;
        const hi = store.words[2 * v + 1];
        const n = (store.unsigned ? hi >>> 0 : hi) * 4294967296 + lo;
        const values = store.values;
        rows.integer(f, i + r, n, () => String(values[v]));
        break;
      }
      case 'time': {
        // Dictionary entries are formatted once.
        const texts = index ? (store.texts ??= new Array<string>(store.values.length)) : undefined;
        rows.other(f, i + r, texts?.[v] ?? timeText(store, v, texts));
        break;
      }
      case 'date': {
        const texts = index ? (store.texts ??= new Array<string>(store.values.length)) : undefined;
        let t = texts?.[v];
        if (t === undefined) {
          t = dateText(store.values[v]);
          if (texts) texts[v] = t;
        }
        rows.other(f, i + r, t);
        break;
      }
      default: {
        const x = store.values[v];
        if (typeof x === 'string' && index && rows.needsNumber(f)) {
          // A dictionary string is parsed once, not once per row.
          store.parsed ??= { value: new Float64Array(store.values.length), status: new Uint8Array(store.values.length).fill(UNPARSED) };
          if (store.parsed.status[v] === UNPARSED) {
            store.parsed.value[v] = parseNumberCell(x, cellParse);
            store.parsed.status[v] = cellParse.status;
          }
          rows.textParsed(f, i + r, x, store.parsed.value[v], store.parsed.status[v] as CellStatus);
        } else rows.value(f, i + r, x);
      }
    }
  }
}

// The common case, a numeric column read only as numbers: straight into the typed columns.
function numbersOnly(page: Page<Store>, out: Float64Array, status: Uint8Array, i: number, k: number): void {
  const { defs, maxDef, index, store } = page;
  const end = i + k;
  if (store.kind === 'int64') {
    const { words, unsigned } = store;
    for (let o = i; o < end; o++, page.row++) {
      if (defs && defs[page.row] !== maxDef) {
        out[o] = NaN;
        status[o] = MISSING;
        continue;
      }
      const v = index ? index[page.value++] : page.value++;
      const hi = words[2 * v + 1];
      out[o] = (unsigned ? hi >>> 0 : hi) * 4294967296 + (words[2 * v] >>> 0);
      status[o] = OK;
    }
    return;
  }
  const values = (store as { values: ArrayLike<number> }).values;
  for (let o = i; o < end; o++, page.row++) {
    if (defs && defs[page.row] !== maxDef) {
      out[o] = NaN;
      status[o] = MISSING;
      continue;
    }
    const x = values[index ? index[page.value++] : page.value++];
    out[o] = x;
    status[o] = x === x ? OK : MISSING;
  }
}

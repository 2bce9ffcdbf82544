// Source chunk → model input tensors. Each needed cell is converted to the model input's element type with
// the job's missing policy; a row with any cell that cannot be converted is rejected (with the column and
// reason) and left out of every tensor, so rows and outputs stay aligned.
import type { MissingPolicy } from '../job/config.js';
import type { Reject, SourceChunk } from '../table/chunk.js';
import { INVALID, isMissingText, MISSING, trimCell } from '../table/numbers.js';
import { quoteCell } from '../util/quote.js';
import type { FeedType, RunPlan, TensorPlan } from './plan.js';

export type FeedData = Float32Array | Float64Array | BigInt64Array | BigUint64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array | string[];

/** A model input as plain data (so it can cross threads); the model stage makes the ORT tensor. */
export interface Feed {
  input: string;
  type: FeedType;
  data: FeedData;
  dims: number[];
}

export interface Features {
  /** Rows kept (fed to the model). */
  rows: number;
  /** Chunk row index of each kept row; undefined when every row is kept. */
  keep?: Uint32Array;
  feeds: Feed[];
  rejects: Reject[];
}

type Converted = FeedData;

const INT_RANGE: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  int16: [-32768, 32767],
  int8: [-128, 127],
  uint32: [0, 4294967295],
  uint16: [0, 65535],
  uint8: [0, 255],
};

const TRUE_TEXT = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_TEXT = new Set(['false', 'f', 'no', 'n', '0']);
const INTEGER_TEXT = /^[+-]?\d+$/;

/** Float tensors handed back by the model stage, reused for the next chunks (same shapes every chunk). */
export class FeedPool {
  private readonly free: (Float32Array | Float64Array)[] = [];

  take(type: 'float32' | 'float64', n: number): Float32Array | Float64Array {
    const i = this.free.findIndex((a) => a.length === n && (type === 'float32') === a instanceof Float32Array);
    if (i !== -1) return this.free.splice(i, 1)[0];
    return type === 'float32' ? new Float32Array(n) : new Float64Array(n);
  }

  give(data: FeedData): void {
    if ((data instanceof Float32Array || data instanceof Float64Array) && this.free.length < 8) this.free.push(data);
  }
}

// Build the feeds for one chunk (float tensors from `pool` when given).
export function featurize(chunk: SourceChunk, plan: RunPlan, pool?: FeedPool): Features {
  const n = chunk.rows;
  let errors: (string | undefined)[] | undefined;
  const fail = (row: number, message: string) => {
    errors ??= new Array(n);
    errors[row] ??= message;
  };
  // Float inputs are written straight into their row-major tensor; other types column by column.
  const direct = plan.tensors.map((t) =>
    t.type === 'float32' || t.type === 'float64' ? (pool ? pool.take(t.type, n * t.columns.length) : t.type === 'float32' ? new Float32Array(n * t.columns.length) : new Float64Array(n * t.columns.length)) : undefined,
  );
  const converted = plan.tensors.map((t, i) => {
    const target = direct[i];
    if (target) {
      t.columns.forEach((c, k) => convertFloats(chunk, c.name, c.missing, fail, target, k, t.columns.length));
      return [];
    }
    return t.columns.map((c) => convertColumn(chunk, t, c.name, c.missing, fail));
  });
  let keep: Uint32Array | undefined;
  const rejects: Reject[] = [];
  if (errors) {
    const kept: number[] = [];
    for (let r = 0; r < n; r++) {
      const e = errors[r];
      if (e === undefined) kept.push(r);
      else rejects.push({ line: chunk.lines[r], error: e, fields: chunk.record(r) });
    }
    keep = Uint32Array.from(kept);
  }
  const rows = keep ? keep.length : n;
  const feeds = plan.tensors.map((t, i) => {
    const target = direct[i];
    if (!target) return toFeed(t, converted[i], rows, keep);
    const feed = keptRows(t, target, rows, keep);
    if (feed.data !== target) pool?.give(target);
    return feed;
  });
  return { rows, keep, feeds, rejects };
}

// A row-major float tensor with only the kept rows (compacted into a new array when rows were dropped).
function keptRows(t: TensorPlan, data: Float32Array | Float64Array, rows: number, keep: Uint32Array | undefined): Feed {
  const width = t.columns.length;
  const dims = t.rank === 1 ? [rows] : [rows, width];
  if (!keep) return { input: t.input, type: t.type, data, dims };
  const out = data instanceof Float32Array ? new Float32Array(rows * width) : new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(data.subarray(keep[r] * width, keep[r] * width + width), r * width);
  return { input: t.input, type: t.type, data: out, dims };
}

// One numeric source column into column `k` of a row-major float tensor of `width` columns.
function convertFloats(chunk: SourceChunk, name: string, missing: MissingPolicy, fail: (row: number, msg: string) => void, out: Float32Array | Float64Array, k: number, width: number): void {
  const col = chunk.numbers.get(name);
  if (!col) throw new Error(`internal: column ${name} was not read as numbers`);
  const { values, status } = col;
  const n = chunk.rows;
  const fill = missing.kind === 'fill' ? missing.value : NaN;
  for (let r = 0, o = k; r < n; r++, o += width) {
    const s = status[r];
    if (s === 0) out[o] = values[r];
    else if (s === MISSING && missing.kind !== 'reject') out[o] = fill;
    else fail(r, s === INVALID ? notNumber(name, chunk, r) : emptyMessage(name, cellText(chunk, name, r), 'reject'));
  }
}

// One source column as the tensor's element type; bad cells are reported through `fail`.
function convertColumn(chunk: SourceChunk, t: TensorPlan, name: string, missing: MissingPolicy, fail: (row: number, msg: string) => void): Converted {
  const n = chunk.rows;
  const type = t.type;
  if (type === 'string') {
    const text = chunk.texts.get(name) as string[];
    const out = new Array<string>(n);
    for (let r = 0; r < n; r++) {
      const cell = text[r];
      if (!isMissingText(cell)) out[r] = cell;
      else if (missing.kind === 'reject') fail(r, emptyMessage(name, cell, 'reject'));
      else out[r] = missing.kind === 'fill' ? String(missing.value) : '';
    }
    return out;
  }
  if (type === 'int64' || type === 'uint64') return convertBigInt(chunk, name, type, missing, fail);
  if (type === 'bool') {
    const text = chunk.texts.get(name) as string[];
    const out = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const cell = text[r];
      const v = trimCell(cell).toLowerCase();
      if (TRUE_TEXT.has(v)) out[r] = 1;
      else if (FALSE_TEXT.has(v)) out[r] = 0;
      else if (!isMissingText(cell)) fail(r, `column '${name}': ${quoteCell(cell)} is not a boolean (true/false, 1/0, yes/no)`);
      else if (missing.kind === 'fill') out[r] = missing.value !== 0 ? 1 : 0;
      else fail(r, emptyMessage(name, cell, missing.kind, 'bool'));
    }
    return out;
  }
  const col = chunk.numbers.get(name);
  if (!col) throw new Error(`internal: column ${name} was not read as numbers`);
  const { values, status } = col;
  const [lo, hi] = INT_RANGE[type];
  const out = newIntArray(type, n);
  for (let r = 0; r < n; r++) {
    const s = status[r];
    let v = values[r];
    if (s === MISSING) {
      if (missing.kind !== 'fill') {
        fail(r, emptyMessage(name, cellText(chunk, name, r), missing.kind, type));
        continue;
      }
      v = missing.value;
    } else if (s === INVALID) {
      fail(r, notNumber(name, chunk, r));
      continue;
    }
    if (!Number.isInteger(v) || v < lo || v > hi) fail(r, `column '${name}': ${quoteCell(cellText(chunk, name, r))} is not a whole number in ${type} range [${lo}, ${hi}]`);
    else out[r] = v;
  }
  return out;
}

function convertBigInt(chunk: SourceChunk, name: string, type: 'int64' | 'uint64', missing: MissingPolicy, fail: (row: number, msg: string) => void): Converted {
  const n = chunk.rows;
  const text = chunk.texts.get(name) as string[];
  const out = type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
  const [lo, hi] = type === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  for (let r = 0; r < n; r++) {
    const cell = text[r];
    const s = trimCell(cell);
    let v: bigint;
    if (INTEGER_TEXT.test(s)) v = BigInt(s);
    else if (/^[+-]?\d+\.0*$/.test(s)) v = BigInt(s.slice(0, s.indexOf('.')));
    else if (isMissingText(cell)) {
      if (missing.kind !== 'fill') {
        fail(r, emptyMessage(name, cell, missing.kind, type));
        continue;
      }
      v = BigInt(missing.value);
    } else {
      fail(r, `column '${name}': ${quoteCell(cell)} is not a whole number (model input is ${type})`);
      continue;
    }
    if (v < lo || v > hi) fail(r, `column '${name}': ${quoteCell(s)} is out of ${type} range`);
    else out[r] = v;
  }
  return out;
}

function newIntArray(type: string, n: number): Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array {
  switch (type) {
    case 'int32':
      return new Int32Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint16':
      return new Uint16Array(n);
    default:
      return new Uint8Array(n);
  }
}

// The message for an empty/NA cell the policy does not fill.
function emptyMessage(name: string, cell: string, policy: MissingPolicy['kind'], type?: FeedType): string {
  const what = trimCell(cell) === '' ? 'empty value' : `missing value ${quoteCell(cell)}`;
  if (policy === 'reject') return `column '${name}': ${what} (features.missing: reject)`;
  const article = type?.startsWith('int') ? 'an' : 'a';
  return `column '${name}': ${what}; ${article} ${type} input cannot hold NaN, so the row is rejected (set features.missing for '${name}' to a number to fill it)`;
}

function notNumber(name: string, chunk: SourceChunk, r: number): string {
  return `column '${name}': ${quoteCell(cellText(chunk, name, r))} is not a number`;
}

function cellText(chunk: SourceChunk, name: string, r: number): string {
  const i = chunk.header.indexOf(name);
  return chunk.record(r)[i] ?? '';
}

// Columns → one feed, row-major [rows, columns] (or [rows]), kept rows only.
function toFeed(t: TensorPlan, cols: Converted[], rows: number, keep: Uint32Array | undefined): Feed {
  const width = cols.length;
  const dims = t.rank === 1 ? [rows] : [rows, width];
  if (width === 1 && !keep) return { input: t.input, type: t.type, data: cols[0], dims };
  const first = cols[0];
  const out: Converted = Array.isArray(first) ? new Array<string>(rows * width) : new (first.constructor as new (n: number) => Exclude<Converted, string[]>)(rows * width);
  const dst = out as unknown as { [i: number]: unknown };
  for (let c = 0; c < width; c++) {
    const src = cols[c] as ArrayLike<unknown>;
    for (let r = 0; r < rows; r++) dst[r * width + c] = src[keep ? keep[r] : r];
  }
  return { input: t.input, type: t.type, data: out, dims };
}

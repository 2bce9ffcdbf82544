// The one chunk builder every reader fills: cells are written by field (header position) and row index — the
// row being built (row readers: CSV, JSON Lines), or a run of rows for columnar readers (Parquet) — then rows
// are accepted in order, or the current one rejected. Only the columns a run needs are kept: numbers as
// doubles with a status, texts as UTF-8 bytes (passthrough cells reach the writer without ever being strings).
//
// Typed values get the same meaning as CSV text wherever the two can be compared: a string is read as a CSV
// cell would be (parseNumberCell: `NA` and '' are missing, `1e3` is a number), a number is a number, null or
// absent is missing. The rest, decided here once:
//   boolean            → 1/0 for numeric inputs, `true`/`false` as text (so bool inputs read it)
//   NaN                → missing (pandas reads NaN as missing), text ''
//   ±Infinity          → ±Infinity, text `inf`/`-inf`
//   bigint (int64)     → the nearest double for numeric inputs, exact digits as text (int64 inputs read text)
//   object, array      → not a number (the row is rejected if a numeric input reads it), JSON text
//   Date, binary       → not a number; ISO 8601 text, hex text
// A rejected row raised later (by the featurizer) shows the row's original fields: those the reader gave with
// the row, else what `fields` rebuilds (the CSV reader re-splits a row's bytes), else the row rebuilt from the
// columns (with the texts of string cells in number-only columns, kept aside for that).
import type { ColumnNeed, NumberColumn, Reject, SourceChunk } from './chunk.js';
import { INVALID, MISSING, OK, parseNumberCell, type CellStatus } from './numbers.js';
import type { PackedText } from './packed.js';

/** A text column as UTF-8 bytes, one cell per row in row order. Row r's cell is written at offsets[r] and may
 *  be written again until row r is accepted (a rejected row's cells are overwritten by the next row's). */
export class PackedColumn {
  bytes = Buffer.allocUnsafeSlow(1 << 16);
  readonly offsets: Uint32Array;

  constructor(capacity: number) {
    this.offsets = new Uint32Array(capacity + 1);
  }

  // Row r's cell: bytes [a, b) of src, UTF-8 already (short cells byte by byte: a copy call costs more).
  putBytes(r: number, src: Uint8Array, a: number, b: number): void {
    const at = this.offsets[r];
    const end = at + (b - a);
    if (end > this.bytes.length) this.grow(end);
    if (b - a <= 32) {
      const dst = this.bytes;
      for (let i = a, j = at; i < b; i++, j++) dst[j] = src[i];
    } else this.bytes.set(src.subarray(a, b), at);
    this.offsets[r + 1] = end;
  }

  putString(r: number, s: string): void {
    const at = this.offsets[r];
    if (at + s.length * 3 > this.bytes.length) this.grow(at + s.length * 3);
    this.offsets[r + 1] = at + this.bytes.write(s, at, 'utf8');
  }

  // Row r's cell as a string.
  text(r: number): string {
    return this.bytes.toString('utf8', this.offsets[r], this.offsets[r + 1]);
  }

  // The first n cells.
  packed(n: number): PackedText {
    return { bytes: this.bytes.subarray(0, this.offsets[n]), offsets: this.offsets.subarray(0, n + 1) };
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.bytes.length * 2));
    this.bytes.copy(next, 0, 0, this.bytes.length);
    this.bytes = next;
  }
}

// The typed columns of one chunk, reused from chunk to chunk: a chunk's storage goes back to its pool when
// the consumer releases the chunk, so a long run allocates a handful of these instead of one per chunk
// (garbage buffers outside the JS heap are collected late and inflate memory).
class Storage {
  readonly lines: Float64Array;
  readonly numbers: Float64Array[];
  readonly statuses: Uint8Array[];
  readonly texts: PackedColumn[];

  constructor(capacity: number, numberColumns: number, textColumns: number) {
    this.lines = new Float64Array(capacity);
    this.numbers = Array.from({ length: numberColumns }, () => new Float64Array(capacity));
    this.statuses = Array.from({ length: numberColumns }, () => new Uint8Array(capacity));
    this.texts = Array.from({ length: textColumns }, () => new PackedColumn(capacity));
  }
}

/** Free storages of one reader (all its chunks have the same capacity and columns). */
export class StoragePool {
  private readonly free: Storage[] = [];

  take(capacity: number, numberColumns: number, textColumns: number): Storage {
    const s = this.free.pop();
    return s && s.lines.length === capacity && s.numbers.length === numberColumns && s.texts.length === textColumns ? s : new Storage(capacity, numberColumns, textColumns);
  }

  give(s: Storage): void {
    if (this.free.length < 4) this.free.push(s);
  }
}

export interface BuilderOptions {
  /** Storage reused across the chunks of one reader. */
  pool?: StoragePool;
  /** The original fields of accepted row i when the reader gave none with the row (CSV: the row's bytes split again). */
  fields?: (row: number) => string[];
  /** Called when the consumer releases the chunk (a reader's own per-chunk buffers go back to it). */
  onRelease?: () => void;
}

// Rows read so far, column by column, until the chunk is full. `numberAt[f]` / `textAt[f]` are the columns
// fed by field f (undefined when field f is not needed): fast readers write cells into them directly.
export class ChunkBuilder {
  rows = 0;
  readonly lines: Float64Array;
  readonly numberAt: (NumberColumn | undefined)[];
  readonly textAt: (PackedColumn | undefined)[];
  readonly rejects: Reject[] = [];
  private readonly numbers = new Map<string, NumberColumn>();
  private readonly texts = new Map<string, PackedColumn>();
  /** The original fields of accepted rows whose reader gave them (sparse). */
  private readonly records: string[][] = [];
  /** Texts of cells the columns cannot rebuild (strings in number-only columns), by row * width + field. */
  private readonly kept = new Map<number, string>();
  private readonly width: number;
  private readonly storage: Storage;
  private readonly parsed = { status: OK as CellStatus };

  constructor(
    readonly header: string[],
    /** Needed columns with their field index in the header. */
    needs: (ColumnNeed & { index: number })[],
    readonly capacity: number,
    private readonly o: BuilderOptions = {},
  ) {
    const numberNeeds = needs.filter((n) => n.number);
    const textNeeds = needs.filter((n) => n.text);
    this.width = header.length;
    this.storage = o.pool ? o.pool.take(capacity, numberNeeds.length, textNeeds.length) : new Storage(capacity, numberNeeds.length, textNeeds.length);
    this.lines = this.storage.lines;
    this.numberAt = new Array(header.length).fill(undefined);
    this.textAt = new Array(header.length).fill(undefined);
    numberNeeds.forEach((n, k) => {
      const col = { values: this.storage.numbers[k], status: this.storage.statuses[k] };
      this.numbers.set(n.name, col);
      this.numberAt[n.index] = col;
    });
    textNeeds.forEach((n, k) => {
      const col = this.storage.texts[k];
      this.texts.set(n.name, col);
      this.textAt[n.index] = col;
    });
  }

  get full(): boolean {
    return this.rows >= this.capacity;
  }

  /** Whether field f is read as numbers. */
  needsNumber(f: number): boolean {
    return this.numberAt[f] !== undefined;
  }

  // One row of text fields (a CSV record): checks the field count, parses numbers, keeps texts, accepts it.
  addRecord(fields: string[], line: number): void {
    if (fields.length !== this.width) {
      this.reject(line, `expected ${this.width} fields, got ${fields.length}`, fields);
      return;
    }
    const i = this.rows;
    for (let f = 0; f < fields.length; f++) {
      const num = this.numberAt[f];
      if (num) {
        num.values[i] = parseNumberCell(fields[f], this.parsed);
        num.status[i] = this.parsed.status;
      }
      const text = this.textAt[f];
      if (text) text.putString(i, fields[f]);
    }
    this.accept(line, fields);
  }

  // Field f of row i is missing (null, absent, NaN).
  missing(f: number, i: number): void {
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = NaN;
      num.status[i] = MISSING;
    }
    this.textAt[f]?.putString(i, '');
  }

  // A number (float or integer); `source` is its text when String(v) would not give it back.
  number(f: number, i: number, v: number, source?: string): void {
    if (Number.isNaN(v)) {
      this.missing(f, i);
      return;
    }
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = v;
      num.status[i] = OK;
    }
    this.textAt[f]?.putString(i, source ?? numberText(v));
  }

  // An exact integer: `v` its nearest double, `exact` its digits when |v| may exceed 2^53.
  integer(f: number, i: number, v: number, exact: () => string): void {
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = v;
      num.status[i] = OK;
    }
    this.textAt[f]?.putString(i, Number.isSafeInteger(v) ? String(v) : exact());
  }

  // A string: read as a CSV cell would be.
  text(f: number, i: number, s: string): void {
    if (!this.numberAt[f]) this.textParsed(f, i, s, NaN, INVALID);
    else this.textParsed(f, i, s, parseNumberCell(s, this.parsed), this.parsed.status);
  }

  // A string whose number reading is known (a Parquet dictionary entry parsed once).
  textParsed(f: number, i: number, s: string, value: number, status: CellStatus): void {
    const num = this.numberAt[f];
    const text = this.textAt[f];
    if (num) {
      num.values[i] = value;
      num.status[i] = status;
      if (!text) this.kept.set(i * this.width + f, s);
    }
    text?.putString(i, s);
  }

  // A value that is not a number for numeric inputs (dates, objects), with its text.
  other(f: number, i: number, s: string): void {
    this.textParsed(f, i, s, NaN, INVALID);
  }

  bool(f: number, i: number, b: boolean): void {
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = b ? 1 : 0;
      num.status[i] = OK;
    }
    this.textAt[f]?.putString(i, b ? 'true' : 'false');
  }

  // Any decoded value (JSON, or a Parquet type without a dedicated path).
  value(f: number, i: number, v: unknown): void {
    switch (typeof v) {
      case 'number':
        this.number(f, i, v);
        return;
      case 'string':
        this.text(f, i, v);
        return;
      case 'boolean':
        this.bool(f, i, v);
        return;
      case 'bigint':
        this.integer(f, i, Number(v), () => String(v));
        return;
      case 'undefined':
        this.missing(f, i);
        return;
      default:
        if (v === null) this.missing(f, i);
        else this.other(f, i, otherText(v));
    }
  }

  // The row whose cells were just written at index `rows` is complete; `line` is its physical line (text) or
  // row number (Parquet), `record` its original fields when the reader has them.
  accept(line: number, record?: string[]): void {
    if (record) this.records[this.rows] = record;
    this.lines[this.rows++] = line;
  }

  // Drop the cells written for the current row and record it as rejected.
  reject(line: number, error: string, fields: string[]): void {
    if (this.kept.size > 0) for (let f = 0; f < this.width; f++) this.kept.delete(this.rows * this.width + f);
    this.rejects.push({ line, error, fields });
  }

  // The finished chunk (columns cut to the rows read). Its release() returns the storage to the pool.
  build(): SourceChunk {
    const n = this.rows;
    const packed = new Map<string, PackedText>();
    for (const [name, col] of this.texts) packed.set(name, col.packed(n));
    const numbers = new Map<string, NumberColumn>();
    for (const [name, c] of this.numbers) numbers.set(name, { values: c.values.subarray(0, n), status: c.status.subarray(0, n) });
    const { storage, o } = this;
    return {
      rows: n,
      lines: this.lines.subarray(0, n),
      numbers,
      texts: new TextsOf(packed),
      packed,
      rejects: this.rejects,
      record: (i) => this.records[i] ?? o.fields?.(i) ?? this.fieldsOf(i),
      header: this.header,
      release: () => {
        o.pool?.give(storage);
        o.onRelease?.();
      },
    };
  }

  // The original fields of row r, rebuilt from the columns.
  private fieldsOf(row: number): string[] {
    const out = new Array<string>(this.width);
    for (let f = 0; f < this.width; f++) {
      const text = this.textAt[f];
      if (text) {
        out[f] = text.text(row);
        continue;
      }
      const kept = this.kept.get(row * this.width + f);
      if (kept !== undefined) {
        out[f] = kept;
        continue;
      }
      const num = this.numberAt[f];
      out[f] = num && num.status[row] === OK ? numberText(num.values[row]) : '';
    }
    return out;
  }
}

// Strings of packed text columns, made per column when a stage first asks for it (string and int64 model
// inputs); passthrough-only columns are never made into strings. Read before the chunk is released.
class TextsOf extends Map<string, string[]> {
  constructor(private readonly packed: Map<string, PackedText>) {
    super();
  }

  override get(name: string): string[] | undefined {
    let t = super.get(name);
    if (t) return t;
    const p = this.packed.get(name);
    if (!p) return undefined;
    const buf = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
    t = Array.from({ length: p.offsets.length - 1 }, (_, i) => buf.toString('utf8', p.offsets[i], p.offsets[i + 1]));
    super.set(name, t);
    return t;
  }

  override has(name: string): boolean {
    return this.packed.has(name);
  }

  override get size(): number {
    return this.packed.size;
  }

  override *entries(): MapIterator<[string, string[]]> {
    for (const name of this.packed.keys()) yield [name, this.get(name) as string[]];
  }

  override [Symbol.iterator](): MapIterator<[string, string[]]> {
    return this.entries();
  }

  override keys(): MapIterator<string> {
    return this.packed.keys();
  }

  override *values(): MapIterator<string[]> {
    for (const [, v] of this.entries()) yield v;
  }

  override forEach(f: (value: string[], key: string, map: Map<string, string[]>) => void): void {
    for (const [k, v] of this.entries()) f(v, k, this);
  }
}

// A number as cell text: what String gives, with infinities as our writers write them.
function numberText(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Number.isNaN(v) ? '' : String(v);
}

// Text of a value that is neither a number, a string nor a boolean (a value with toJSON, such as a JSON
// number that keeps its source text, is written as toJSON gives it).
function otherText(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : String(x)) : x)) ?? '';
}

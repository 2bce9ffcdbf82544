// Typed values (JSON Lines, Parquet) → the cells of a chunk, with the same meaning as CSV text wherever the
// two can be compared: a string is read as a CSV cell would be (parseNumberCell: `NA` and '' are missing,
// `1e3` is a number), a number is a number, null or absent is missing. The rest, decided here once:
//   boolean            → 1/0 for numeric inputs, `true`/`false` as text (so bool inputs read it)
//   NaN                → missing (pandas reads NaN as missing), text ''
//   ±Infinity          → ±Infinity, text `inf`/`-inf`
//   bigint (int64)     → the nearest double for numeric inputs, exact digits as text (int64 inputs read text)
//   object, array      → not a number (the row is rejected if a numeric input reads it), JSON text
//   Date, binary       → not a number; ISO 8601 text, hex text
// Readers write cells by field and row index (the row being built, or a run of rows for columnar readers),
// then accept rows in order or reject the current one. Only the cells a run needs as
// text are kept as text; for rejected rows the original fields are rebuilt from the columns (and from the
// texts of string cells in numeric columns, kept aside because the number column cannot hold them).
import { trimColumns, type ColumnNeed, type NumberColumn, type Reject, type SourceChunk } from '../pipeline/chunk.js';
import { INVALID, MISSING, OK, parseNumberCell, type CellStatus } from './numbers.js';

/** A JSON number whose text is not what String(value) gives (`1.50`, `1e2`, 20-digit ids): both kept. */
export class JsonNumber {
  constructor(
    readonly value: number,
    readonly source: string,
  ) {}
}

// The rows of one chunk, filled cell by cell from typed values. Builds the SourceChunk itself (like
// ChunkBuilder, without a record per row: a rejected row's fields are rebuilt from the columns).
export class ValueRows {
  rows = 0;
  readonly lines: Float64Array;
  readonly numberAt: (NumberColumn | undefined)[];
  readonly textAt: (string[] | undefined)[];
  readonly rejects: Reject[] = [];
  private readonly numbers = new Map<string, NumberColumn>();
  private readonly texts = new Map<string, string[]>();
  /** Texts of cells the columns cannot rebuild (strings in number-only columns), by row * width + field. */
  private readonly kept = new Map<number, string>();
  private readonly width: number;
  private readonly parsed = { status: OK as CellStatus };

  constructor(
    readonly header: string[],
    needs: (ColumnNeed & { index: number })[],
    readonly capacity: number,
  ) {
    this.width = header.length;
    this.lines = new Float64Array(capacity);
    this.numberAt = new Array(header.length).fill(undefined);
    this.textAt = new Array(header.length).fill(undefined);
    for (const n of needs) {
      if (n.number) {
        const col = { values: new Float64Array(capacity), status: new Uint8Array(capacity) };
        this.numbers.set(n.name, col);
        this.numberAt[n.index] = col;
      }
      if (n.text) {
        const col = new Array<string>(capacity);
        this.texts.set(n.name, col);
        this.textAt[n.index] = col;
      }
    }
  }

  get full(): boolean {
    return this.rows >= this.capacity;
  }

  /** Whether field f is read as numbers. */
  needsNumber(f: number): boolean {
    return this.numberAt[f] !== undefined;
  }

  // Field f of the current row is missing (null, absent, NaN).
  missing(f: number, i: number): void {
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = NaN;
      num.status[i] = MISSING;
    }
    const text = this.textAt[f];
    if (text) text[i] = '';
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
    const text = this.textAt[f];
    if (text) text[i] = source ?? numberText(v);
  }

  // An exact integer: `v` its nearest double, `exact` its digits when |v| may exceed 2^53.
  integer(f: number, i: number, v: number, exact: () => string): void {
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = v;
      num.status[i] = OK;
    }
    const text = this.textAt[f];
    if (text) text[i] = Number.isSafeInteger(v) ? String(v) : exact();
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
    if (text) text[i] = s;
  }

  // A value that is not a number for numeric inputs (dates, objects), with its text.
  other(f: number, i: number, s: string): void {
    this.textParsed(f, i, s, NaN, INVALID);
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
        else if (v instanceof JsonNumber) this.number(f, i, v.value, v.source);
        else this.other(f, i, otherText(v));
    }
  }

  bool(f: number, i: number, b: boolean): void {
    const num = this.numberAt[f];
    if (num) {
      num.values[i] = b ? 1 : 0;
      num.status[i] = OK;
    }
    const text = this.textAt[f];
    if (text) text[i] = b ? 'true' : 'false';
  }

  // The current row is complete; `line` is its line (JSON Lines) or row number (Parquet).
  accept(line: number): void {
    this.lines[this.rows++] = line;
  }

  // Drop the cells written for the current row and record it as rejected.
  reject(line: number, error: string, fields: string[]): void {
    if (this.kept.size > 0) for (let f = 0; f < this.width; f++) this.kept.delete(this.rows * this.width + f);
    this.rejects.push({ line, error, fields });
  }

  // The finished chunk (arrays trimmed to the rows read).
  build(): SourceChunk {
    const n = this.rows;
    const { numbers, texts } = trimColumns(this.numbers, this.texts, n);
    return { rows: n, lines: this.lines.subarray(0, n), numbers, texts, rejects: this.rejects, record: (i) => this.fieldsOf(i), header: this.header };
  }

  // The original fields of row r, rebuilt from the columns.
  private fieldsOf(row: number): string[] {
    const out = new Array<string>(this.width);
    for (let f = 0; f < this.width; f++) {
      const text = this.textAt[f];
      if (text) {
        out[f] = text[row] ?? '';
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

// A number as cell text: what String gives, with infinities as our writers write them.
export function numberText(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Number.isNaN(v) ? '' : String(v);
}

// Text of a value that is neither a number, a string nor a boolean.
export function otherText(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : String(x)) : x instanceof JsonNumber ? x.value : x)) ?? '';
}

// The unit every stage passes on: up to batch_size rows as columns, with the physical source line of each
// row and the rows rejected while building it. Readers fill a ChunkBuilder; featurize/assemble consume
// SourceChunk. No stage holds one object per row.
import { INVALID, MISSING, OK, parseNumberCell, type CellStatus } from '../io/numbers.js';

export interface Reject {
  /** Physical line in the source where the row starts (1-based). */
  line: number;
  error: string;
  /** The row's original fields (as far as they could be split). */
  fields: string[];
}

export interface NumberColumn {
  values: Float64Array;
  /** OK, MISSING or INVALID per row. */
  status: Uint8Array;
}

// Which source columns a run needs, and as what.
export interface ColumnNeed {
  name: string;
  /** Parsed as numbers (for numeric model inputs). */
  number: boolean;
  /** Kept as text (passthrough, string/int64/bool inputs, rejects). */
  text: boolean;
}

export interface SourceChunk {
  /** Accepted rows in this chunk. */
  rows: number;
  /** Physical line of each accepted row. */
  lines: Float64Array;
  numbers: Map<string, NumberColumn>;
  texts: Map<string, string[]>;
  /** Rows the reader rejected (ragged, bad quotes), in line order. */
  rejects: Reject[];
  /** Original fields of accepted row i (for rejects raised later, e.g. by the featurizer). */
  record(i: number): string[];
  /** The header of the source (column names in file order). */
  header: string[];
}

/** Where a fast reader's row lies, so it can be split into fields again if it is rejected later. */
export interface RowBytes {
  buf: Buffer;
  start: number;
  end: number;
}

// Rows read so far, column by column, until the chunk is full. Readers write cells by header position:
// `numberAt[f]` / `textAt[f]` are the columns fed by field f (undefined when field f is not needed).
export class ChunkBuilder {
  rows = 0;
  readonly lines: Float64Array;
  readonly numbers = new Map<string, NumberColumn>();
  readonly texts = new Map<string, string[]>();
  readonly numberAt: (NumberColumn | undefined)[];
  readonly textAt: (string[] | undefined)[];
  readonly rejects: Reject[] = [];
  /** Per row: its fields (generic readers) or the buffer holding its bytes (fast readers, with starts/ends). */
  private readonly records: (string[] | Buffer)[] = [];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly parsed = { status: OK as CellStatus };

  constructor(
    readonly header: string[],
    /** Needed columns with their field index in the header. */
    needs: (ColumnNeed & { index: number })[],
    readonly capacity: number,
    /** Splits the bytes of a row kept by a fast reader back into fields. */
    private readonly split: (row: RowBytes) => string[] = () => [],
  ) {
    this.lines = new Float64Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
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

  // One record from a generic reader: checks the field count, parses numbers, keeps texts.
  addRecord(fields: string[], line: number): void {
    if (fields.length !== this.header.length) {
      this.reject(line, `expected ${this.header.length} fields, got ${fields.length}`, fields);
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
      if (text) text[i] = fields[f];
    }
    this.accept(line, fields);
  }

  // The row whose cells were just written at index `rows` is complete.
  accept(line: number, record: string[]): void {
    this.lines[this.rows++] = line;
    this.records.push(record);
  }

  // The same for a fast reader's row: bytes [start, end) of `buf`.
  acceptBytes(line: number, buf: Buffer, start: number, end: number): void {
    const i = this.rows++;
    this.lines[i] = line;
    this.starts[i] = start;
    this.ends[i] = end;
    this.records.push(buf);
  }

  reject(line: number, error: string, fields: string[]): void {
    this.rejects.push({ line, error, fields });
  }

  // The finished chunk (arrays trimmed to the rows read).
  build(): SourceChunk {
    const n = this.rows;
    const numbers = new Map<string, NumberColumn>();
    for (const [k, c] of this.numbers) numbers.set(k, { values: c.values.subarray(0, n), status: c.status.subarray(0, n) });
    const texts = new Map<string, string[]>();
    for (const [k, c] of this.texts) texts.set(k, c.length === n ? c : c.slice(0, n));
    const { records, split, starts, ends } = this;
    return {
      rows: n,
      lines: this.lines.subarray(0, n),
      numbers,
      texts,
      rejects: this.rejects,
      record: (i) => {
        const r = records[i];
        return Array.isArray(r) ? r : split({ buf: r, start: starts[i], end: ends[i] });
      },
      header: this.header,
    };
  }
}

export { OK, MISSING, INVALID };

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

// Rows read so far, column by column, until the chunk is full.
export class ChunkBuilder {
  rows = 0;
  readonly lines: Float64Array;
  readonly numbers = new Map<string, NumberColumn>();
  readonly texts = new Map<string, string[]>();
  readonly rejects: Reject[] = [];
  private readonly records: string[][] = [];
  private readonly parsed = { status: OK as CellStatus };

  constructor(
    readonly header: string[],
    /** Needed columns with their field index in the header. */
    private readonly needs: (ColumnNeed & { index: number })[],
    readonly capacity: number,
  ) {
    this.lines = new Float64Array(capacity);
    for (const n of needs) {
      if (n.number) this.numbers.set(n.name, { values: new Float64Array(capacity), status: new Uint8Array(capacity) });
      if (n.text) this.texts.set(n.name, []);
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
    const i = this.rows++;
    this.lines[i] = line;
    this.records.push(fields);
    for (const n of this.needs) {
      const cell = fields[n.index];
      if (n.number) {
        const col = this.numbers.get(n.name) as NumberColumn;
        col.values[i] = parseNumberCell(cell, this.parsed);
        col.status[i] = this.parsed.status;
      }
      if (n.text) (this.texts.get(n.name) as string[]).push(cell);
    }
  }

  reject(line: number, error: string, fields: string[]): void {
    this.rejects.push({ line, error, fields });
  }

  // The finished chunk (arrays trimmed to the rows read).
  build(): SourceChunk {
    const n = this.rows;
    const numbers = new Map<string, NumberColumn>();
    for (const [k, c] of this.numbers) numbers.set(k, { values: c.values.subarray(0, n), status: c.status.subarray(0, n) });
    const records = this.records;
    return {
      rows: n,
      lines: this.lines.subarray(0, n),
      numbers,
      texts: this.texts,
      rejects: this.rejects,
      record: (i) => records[i],
      header: this.header,
    };
  }
}

export { OK, MISSING, INVALID };

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
  /** The consumer is done with the chunk: its buffers may be reused (optional). */
  release?(): void;
}

/** Where a fast reader's row lies, so it can be split into fields again if it is rejected later. */
export interface RowBytes {
  buf: Buffer;
  start: number;
  end: number;
}

// The typed columns of one chunk, reused from chunk to chunk: a chunk's storage goes back to its pool when
// the consumer releases the chunk, so a long run allocates a handful of these instead of one per chunk
// (garbage buffers outside the JS heap are collected late and inflate memory).
class Storage {
  readonly lines: Float64Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly numbers: Float64Array[];
  readonly statuses: Uint8Array[];
  /** Bytes of the rows a fast reader accepted (so its input blocks can be reused at once). */
  arena = Buffer.allocUnsafeSlow(1 << 16);

  constructor(capacity: number, numberColumns: number) {
    this.lines = new Float64Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.numbers = Array.from({ length: numberColumns }, () => new Float64Array(capacity));
    this.statuses = Array.from({ length: numberColumns }, () => new Uint8Array(capacity));
  }
}

/** Free storages of one reader (all its chunks have the same capacity and columns). */
export class StoragePool {
  private readonly free: Storage[] = [];

  take(capacity: number, numberColumns: number): Storage {
    const s = this.free.pop();
    return s && s.lines.length === capacity && s.numbers.length === numberColumns ? s : new Storage(capacity, numberColumns);
  }

  give(s: Storage): void {
    if (this.free.length < 4) this.free.push(s);
  }
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
  /** Per row: its fields (generic readers), or null for a fast reader's row kept in the arena. */
  private readonly records: (string[] | null)[] = [];
  private readonly storage: Storage;
  private arenaUsed = 0;
  private readonly parsed = { status: OK as CellStatus };

  constructor(
    readonly header: string[],
    /** Needed columns with their field index in the header. */
    needs: (ColumnNeed & { index: number })[],
    readonly capacity: number,
    /** Splits the bytes of a row kept by a fast reader back into fields. */
    private readonly split: (row: RowBytes) => string[] = () => [],
    private readonly pool?: StoragePool,
  ) {
    const numberNeeds = needs.filter((n) => n.number);
    this.storage = pool ? pool.take(capacity, numberNeeds.length) : new Storage(capacity, numberNeeds.length);
    this.lines = this.storage.lines;
    this.numberAt = new Array(header.length).fill(undefined);
    this.textAt = new Array(header.length).fill(undefined);
    numberNeeds.forEach((n, k) => {
      const col = { values: this.storage.numbers[k], status: this.storage.statuses[k] };
      this.numbers.set(n.name, col);
      this.numberAt[n.index] = col;
    });
    for (const n of needs) {
      if (!n.text) continue;
      const col = new Array<string>(capacity);
      this.texts.set(n.name, col);
      this.textAt[n.index] = col;
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

  // The same for a fast reader's row: bytes [start, end) of the block it is reading. The block is not kept:
  // call adopt() before it is reused.
  acceptBytes(line: number, start: number, end: number): void {
    const i = this.rows++;
    this.lines[i] = line;
    this.storage.starts[i] = start;
    this.storage.ends[i] = end;
    this.records.push(null);
  }

  // Copy bytes [from, to) of `block` — the rows accepted from it since row `firstRow` — into the arena.
  adopt(block: Buffer, from: number, to: number, firstRow: number): void {
    const st = this.storage;
    const need = this.arenaUsed + (to - from);
    if (need > st.arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, st.arena.length * 2));
      st.arena.copy(grown, 0, 0, this.arenaUsed);
      st.arena = grown;
    }
    block.copy(st.arena, this.arenaUsed, from, to);
    const delta = this.arenaUsed - from;
    for (let r = firstRow; r < this.rows; r++) {
      st.starts[r] += delta;
      st.ends[r] += delta;
    }
    this.arenaUsed = need;
  }

  reject(line: number, error: string, fields: string[]): void {
    this.rejects.push({ line, error, fields });
  }

  // The finished chunk (arrays trimmed to the rows read). Its release() returns the storage to the pool.
  build(): SourceChunk {
    const n = this.rows;
    const { numbers, texts } = trimColumns(this.numbers, this.texts, n);
    const { records, split, storage, pool } = this;
    return {
      rows: n,
      lines: this.lines.subarray(0, n),
      numbers,
      texts,
      rejects: this.rejects,
      record: (i) => records[i] ?? split({ buf: storage.arena, start: storage.starts[i], end: storage.ends[i] }),
      header: this.header,
      release: () => pool?.give(storage),
    };
  }
}

// Columns cut to the first n rows (views of the number columns, the text arrays as they are when full).
export function trimColumns(numbers: Map<string, NumberColumn>, texts: Map<string, string[]>, n: number): Pick<SourceChunk, 'numbers' | 'texts'> {
  const outNumbers = new Map<string, NumberColumn>();
  for (const [k, c] of numbers) outNumbers.set(k, { values: c.values.subarray(0, n), status: c.status.subarray(0, n) });
  const outTexts = new Map<string, string[]>();
  for (const [k, c] of texts) outTexts.set(k, c.length === n ? c : c.slice(0, n));
  return { numbers: outNumbers, texts: outTexts };
}

export { OK, MISSING, INVALID };

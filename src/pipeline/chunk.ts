// The unit every stage passes on: up to batch_size rows as columns, with the physical source line of each
// row and the rows rejected while building it. Readers fill a ChunkBuilder; featurize/assemble consume
// SourceChunk. No stage holds one object per row.
import { INVALID, MISSING, OK, parseNumberCell, type CellStatus } from '../io/numbers.js';
import type { PackedText } from './packed.js';

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
  /** Text columns as UTF-8 bytes (CSV reader), valid until release(); `texts` makes strings of them on demand. */
  packed?: Map<string, PackedText>;
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
  readonly texts: PackedColumn[];
  /** Bytes of the rows a fast reader accepted (so its input blocks can be reused at once). */
  arena = Buffer.allocUnsafeSlow(1 << 16);

  constructor(capacity: number, numberColumns: number, textColumns: number) {
    this.lines = new Float64Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.numbers = Array.from({ length: numberColumns }, () => new Float64Array(capacity));
    this.statuses = Array.from({ length: numberColumns }, () => new Uint8Array(capacity));
    this.texts = Array.from({ length: textColumns }, () => new PackedColumn(capacity));
  }
}

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

// Rows read so far, column by column, until the chunk is full. Readers write cells by header position:
// `numberAt[f]` / `textAt[f]` are the columns fed by field f (undefined when field f is not needed). Text
// cells are kept as UTF-8 bytes: passthrough columns go to the writer without ever being strings.
export class ChunkBuilder {
  rows = 0;
  readonly lines: Float64Array;
  readonly numbers = new Map<string, NumberColumn>();
  readonly texts = new Map<string, PackedColumn>();
  readonly numberAt: (NumberColumn | undefined)[];
  readonly textAt: (PackedColumn | undefined)[];
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
    const textNeeds = needs.filter((n) => n.text);
    this.storage = pool ? pool.take(capacity, numberNeeds.length, textNeeds.length) : new Storage(capacity, numberNeeds.length, textNeeds.length);
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
      if (text) text.putString(i, fields[f]);
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
    const packed = new Map<string, PackedText>();
    for (const [name, col] of this.texts) packed.set(name, col.packed(n));
    const { records, split, storage, pool } = this;
    return {
      rows: n,
      lines: this.lines.subarray(0, n),
      numbers: trimNumbers(this.numbers, n),
      texts: new TextsOf(packed),
      packed,
      rejects: this.rejects,
      record: (i) => records[i] ?? split({ buf: storage.arena, start: storage.starts[i], end: storage.ends[i] }),
      header: this.header,
      release: () => pool?.give(storage),
    };
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

// Columns cut to the first n rows (views of the number columns, the text arrays as they are when full).
export function trimColumns(numbers: Map<string, NumberColumn>, texts: Map<string, string[]>, n: number): Pick<SourceChunk, 'numbers' | 'texts'> {
  const outTexts = new Map<string, string[]>();
  for (const [k, c] of texts) outTexts.set(k, c.length === n ? c : c.slice(0, n));
  return { numbers: trimNumbers(numbers, n), texts: outTexts };
}

// Number columns cut to the first n rows (views).
function trimNumbers(numbers: Map<string, NumberColumn>, n: number): Map<string, NumberColumn> {
  const out = new Map<string, NumberColumn>();
  for (const [k, c] of numbers) out.set(k, { values: c.values.subarray(0, n), status: c.status.subarray(0, n) });
  return out;
}

export { OK, MISSING, INVALID };

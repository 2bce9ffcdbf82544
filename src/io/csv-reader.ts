// CSV/TSV → chunks. The file is read in blocks and cut into units of whole lines; each unit is parsed by
// csv-parse (the reference path). Line numbers are physical lines counted here from the bytes (csv-parse's
// own counter miscounts CRLF inside quoted fields). A record csv-parse cannot parse (bad quotes) becomes a
// reject for the physical line it starts on, and parsing resumes on the next line: csv-parse's own
// skip_records_with_error resumes in the wrong state and swallows the following good rows.
//
// Fast path: a unit without any quote character (the common case) cannot hold a quoted field, so its lines
// are its records and its fields are split by the delimiter byte; those units are parsed here straight from
// the bytes into the chunk's typed columns (csv-parse alone reads ~33 MB/s, this ~10× that). Everything about
// the result — rows, fields, numbers, line numbers, rejects — is the same as csv-parse's, proven by the
// differential tests in test/io/csv-fast.test.ts. Units with a quote character still go to csv-parse.
import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse/sync';
import { SbError } from '../errors.js';
import { ChunkBuilder, StoragePool } from '../table/builder.js';
import type { ColumnNeed, SourceChunk } from '../table/chunk.js';
import { parseNumberCell, type CellStatus } from '../table/numbers.js';
import { resolveColumns, type ReadContext } from '../table/reader.js';
import { FALLBACK, scanDecimalField, scanned } from './fast-number.js';
import { quoteCell } from '../util/quote.js';

export interface CsvReadOptions {
  delimiter: string;
  /** Empty string: no quoting. */
  quote: string;
  header: boolean | string[];
  encoding: 'utf8' | 'latin1';
  relaxQuotes: boolean;
  /** false: parse every unit with csv-parse (the reference path; used by the differential tests). */
  fastPath?: boolean;
}

/** A record longer than this is treated as broken (an unclosed quote), not buffered further. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

const LF = 10;
const CR = 13;

/** Where a text reader stands between two blocks of its source (filled in by the reader, read by the source
 *  of a piece that ends where another reader started: io/table-reader.ts). */
export interface TextProgress {
  /** Every byte so far was parsed into rows: the reader stands at the start of a record. */
  settled(): boolean;
  /** The physical line the next byte is on. */
  line(): number;
}

// Chunks of rows from a byte stream of CSV text.
export async function* readCsv(source: AsyncIterable<Uint8Array>, options: CsvReadOptions, ctx: ReadContext, progress?: TextProgress): AsyncGenerator<SourceChunk> {
  const state = new CsvState(options, ctx);
  let carry: Buffer = Buffer.alloc(0);
  let want = 0;
  if (progress) {
    // Nothing carried over means no record (an open quoted field) waits for more bytes. A record still open at
    // the last parse is parsed again only once the carried bytes have doubled, so it may have closed in the
    // bytes since: parse them once more before answering, or a piece whose last block closes such a record
    // would be taken for one ending inside it.
    progress.settled = () => {
      if (carry.length > 0 && want > 0 && !state.done) {
        const cut = unitEnd(carry);
        if (cut > 0) {
          const used = state.feed(carry.subarray(0, cut), false);
          carry = Buffer.from(carry.subarray(used));
          want = used < cut ? carry.length * 2 : 0;
        }
      }
      return carry.length === 0 && !state.done;
    };
    progress.line = () => state.nextLine;
  }
  for await (const block of source) {
    let data = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    if (carry.length > 0 && want === 0) {
      // Finish the carried partial line with the head of the block, then read the rest of the block where it
      // is (copying every block whole would double the bytes allocated per block).
      const cut = firstLineEnd(data);
      if (cut > 0) {
        const head = Buffer.concat([carry, data.subarray(0, cut)]);
        const used = state.feed(head, false);
        carry = used < head.length ? head.subarray(used) : Buffer.alloc(0);
        data = data.subarray(cut);
        if (carry.length > 0) want = carry.length * 2;
      }
    }
    carry = carry.length === 0 ? data : Buffer.concat([carry, data]);
    if (state.done) {
      yield* state.drain();
      return;
    }
    if (carry.length >= want || carry.length > MAX_RECORD_BYTES) {
      const cut = unitEnd(carry);
      if (cut > 0) {
        const used = state.feed(carry.subarray(0, cut), false);
        carry = Buffer.from(carry.subarray(used));
        // An open quoted record: wait until the buffer has doubled before parsing it again.
        want = used < cut ? carry.length * 2 : 0;
      } else {
        want = carry.length * 2;
      }
      if (carry.length > MAX_RECORD_BYTES) {
        // Either one line longer than the limit, or a quote left open for that long: the latter is a broken
        // record (rejected, parsing resumes on its next line); the former cannot be split safely.
        const end = unitEnd(carry);
        if (end === 0) state.lineTooLong();
        carry = Buffer.from(carry.subarray(state.feed(carry.subarray(0, end), false, true)));
        want = 0;
      }
    }
    // The source reuses its block buffer: keep a copy of what is carried over.
    if (carry.buffer === block.buffer) carry = Buffer.from(carry);
    yield* state.drain();
    if (state.done) return;
  }
  if (!state.done) state.feed(carry, true);
  yield* state.drain();
  state.finish();
  yield* state.drain();
}

// Offset just past the first line break of `buf` (a CR at the very end does not count: its LF may follow).
function firstLineEnd(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === LF) return i + 1;
    if (b === CR) return i + 1 < buf.length ? (buf[i + 1] === LF ? i + 2 : i + 1) : 0;
  }
  return 0;
}

// Offset just past the last line break of `buf`; a trailing CR is held back (its LF may follow).
function unitEnd(buf: Uint8Array): number {
  // A final LF first: otherwise the CR of a trailing CRLF would be taken as the cut, splitting the pair.
  if (buf.length > 0 && buf[buf.length - 1] === LF) return buf.length;
  for (let i = buf.length - 2; i >= 0; i--) {
    const b = buf[i];
    if (b === LF || b === CR) return i + 1;
  }
  return 0;
}

// Where the fast path's accepted rows lie: bytes [starts[r], ends[r]) of `bytes` for row r of one chunk,
// copied out of the input block (which the source reuses) so a row rejected later can be split into its
// fields again. Goes back to its reader's free list when the chunk is released.
class RowArena {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  bytes = Buffer.allocUnsafeSlow(1 << 16);
  used = 0;

  constructor(readonly capacity: number) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  // Copy bytes [from, to) of `block` — rows [firstRow, rows) accepted from it — into the arena.
  adopt(block: Buffer, from: number, to: number, firstRow: number, rows: number): void {
    const need = this.used + (to - from);
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    block.copy(this.bytes, this.used, from, to);
    const delta = this.used - from;
    for (let r = firstRow; r < rows; r++) {
      this.starts[r] += delta;
      this.ends[r] += delta;
    }
    this.used = need;
  }
}

// Free arenas and chunk storage of this thread, shared by its readers: a reader of several pieces of a file
// (pipeline/pieces.ts) opens a reader per piece, and each new reader's buffers (~30 MB for a 16 MiB piece of
// the bench's CSV, grown as its first rows come) were garbage nobody collected soon: two readers of 18 pieces
// peaked at 380 MB against 277 MB for two pieces (`npm run bench`, lr).
const FREE_ARENAS: RowArena[] = [];
const STORAGE = new StoragePool();

// Parsing state across units: header, line counter, the chunk being filled.
class CsvState {
  done = false;
  private header?: string[];
  private builder?: ChunkBuilder;
  /** The row bytes of the chunk being filled, and free ones. */
  private arena?: RowArena;
  private readonly arenas = FREE_ARENAS;
  private readonly pool = STORAGE;
  private readonly ready: SourceChunk[] = [];
  private line: number;
  private seen = 0;
  private first: boolean;
  private readonly parseOptions: Record<string, unknown>;
  /** Delimiter and quote as single bytes when the fast path applies, else -1. */
  private readonly delimiterByte: number;
  private readonly quoteByte: number;
  private readonly cell = { status: 0 as number };

  constructor(
    private readonly o: CsvReadOptions,
    private readonly ctx: ReadContext,
  ) {
    this.parseOptions = {
      delimiter: o.delimiter,
      quote: o.quote === '' ? false : o.quote,
      escape: o.quote === '' ? false : o.quote,
      relax_column_count: true,
      relax_quotes: o.relaxQuotes,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      encoding: o.encoding,
      max_record_size: MAX_RECORD_BYTES,
    };
    const single = (t: string) => (t.length === 1 && t.charCodeAt(0) < 0x80 && t !== '\r' && t !== '\n' ? t.charCodeAt(0) : -1);
    // The byte-level number scanner ends a number at the delimiter: one that can occur inside a number
    // (a digit, `.`, `-`, `+`, `e`) leaves those files to csv-parse.
    this.delimiterByte = /^[\d.+\-eE]$/.test(o.delimiter) ? -1 : single(o.delimiter);
    this.quoteByte = o.quote === '' ? -2 : single(o.quote);
    if (Array.isArray(o.header)) this.setHeader(o.header.map(String));
    this.line = ctx.from?.line ?? 1;
    this.first = ctx.from === undefined;
  }

  /** The physical line after the bytes parsed so far. */
  get nextLine(): number {
    return this.line;
  }

  private fastPathFor(buf: Buffer, from: number): boolean {
    return this.header !== undefined && this.quoteFree(buf, from);
  }

  // The fast path is on, can split this file's fields by bytes, and `buf` has no quote character after `from`.
  private quoteFree(buf: Buffer, from: number): boolean {
    if (this.o.fastPath === false || this.delimiterByte < 0 || this.quoteByte === -1) return false;
    return this.quoteByte === -2 || buf.indexOf(this.quoteByte, from) === -1;
  }

  // Parse one unit of whole lines; returns how many bytes were used (less than the unit when a quoted
  // record is still open and more input may close it). `forceEnd`: treat an open quote as broken.
  feed(unit: Buffer, final: boolean, forceEnd = false): number {
    let buf = unit;
    let base = 0;
    if (this.first && unit.length > 0) {
      this.first = false;
      if (this.o.encoding === 'utf8' && unit[0] === 0xef && unit[1] === 0xbb && unit[2] === 0xbf) base = 3;
    }
    // Invalid UTF-8 fails the input at its line only after the lines before it were read, so the outcome
    // (an earlier header error, a limit reached first) does not depend on where the blocks happen to end.
    const bad = this.o.encoding === 'utf8' && !isUtf8(buf.subarray(base)) ? this.firstBadLine(buf, base) : undefined;
    if (bad) buf = buf.subarray(0, bad.offset);
    if (!this.header && !this.done && this.quoteFree(buf, base)) {
      // The header line alone through csv-parse, then the rest of the unit on the fast path.
      const end = headerEnd(buf, base);
      if (end > base && end < buf.length) {
        this.referenceUnit(buf.subarray(0, end), base, true, false);
        base = end;
      }
    }
    const pos = base;
    if (!this.done && this.fastPathFor(buf, pos)) {
      this.line = this.fastUnit(buf, pos, this.line);
      if (bad && !this.done) this.failEncoding(bad.line);
      return buf.length;
    }
    const used = this.referenceUnit(buf, pos, final, forceEnd);
    if (used < buf.length) return used;
    if (bad && !this.done) this.failEncoding(bad.line);
    return buf.length;
  }

  // Parse `buf` from `pos` with csv-parse (the reference path). Returns buf.length, or where an unclosed
  // quoted record starts when more input may close it.
  private referenceUnit(buf: Buffer, from: number, final: boolean, forceEnd: boolean): number {
    const lines = new LineCursor(buf, this.line);
    let pos = from;
    lines.offset = pos; // `this.line` is the line at `from`
    while (pos < buf.length && !this.done) {
      const records: { fields: string[]; end: number }[] = [];
      let error: (Error & { code?: string }) | undefined;
      try {
        parse(buf.subarray(pos), {
          ...this.parseOptions,
          on_record: (fields: string[], info: { bytes: number }) => {
            records.push({ fields, end: pos + info.bytes });
            return null;
          },
        });
      } catch (err) {
        error = err as Error & { code?: string };
      }
      for (const r of records) {
        if (this.done) break;
        const start = lines.skipBreaks();
        this.deliver(r.fields, start);
        lines.moveTo(r.end);
      }
      if (this.done) break;
      if (!error) {
        pos = buf.length;
        break;
      }
      const recStart = records.length > 0 ? records[records.length - 1].end : pos;
      lines.moveTo(recStart);
      const startLine = lines.skipBreaks();
      const startOffset = lines.offset;
      if (error.code === 'CSV_QUOTE_NOT_CLOSED' && !final && !forceEnd) {
        this.line = startLine;
        return startOffset;
      }
      const lineEnd = nextBreak(buf, startOffset);
      const raw = buf.subarray(startOffset, lineEnd).toString(this.o.encoding);
      this.rejectRaw(startLine, this.where(error) + this.quoteMessage(error), raw.split(this.o.delimiter));
      lines.moveTo(lineEnd);
      lines.skipOneBreak();
      pos = lines.offset;
    }
    lines.moveTo(Math.min(pos, buf.length));
    this.line = lines.line;
    return buf.length;
  }

  // Completed chunks, oldest first.
  *drain(): Generator<SourceChunk> {
    while (this.ready.length > 0) yield this.ready.shift() as SourceChunk;
  }

  // End of input: flush the last partial chunk; a file without any record has no header.
  finish(): void {
    if (!this.header) {
      throw new SbError('INPUT_FAILED', 'the input is empty: no header line (write the column names on the first line, or set input.csv.header)', { file: this.ctx.file });
    }
    this.flush();
  }

  // Parse a quote-free unit from `pos` straight into the chunk columns; returns the line after the unit.
  private fastUnit(buf: Buffer, pos: number, line: number): number {
    const len = buf.length;
    const delim = this.delimiterByte;
    const width = (this.header as string[]).length;
    const cell = this.cell;
    const encoding = this.o.encoding;
    const utf8 = encoding === 'utf8';
    // Accepted rows keep no reference to `buf` (the source reuses it): each builder's run of rows from this
    // unit is copied into the builder's arena when the builder changes and when the unit ends.
    let seg: ChunkBuilder | undefined;
    let segArena: RowArena | undefined;
    let segFrom = 0;
    let segRow = 0;
    const adopt = (to: number) => {
      if (seg && segArena && seg.rows > segRow) segArena.adopt(buf, segFrom, to, segRow, seg.rows);
    };
    while (pos < len && !this.done) {
      const c0 = buf[pos];
      if (c0 === LF) {
        line++;
        pos++;
        continue;
      }
      if (c0 === CR) {
        line++;
        pos += buf[pos + 1] === LF ? 2 : 1;
        continue;
      }
      const builder = this.ensureBuilder();
      if (builder !== seg) {
        adopt(pos);
        seg = builder;
        segArena = this.arena;
        segFrom = pos;
        segRow = builder.rows;
      }
      const numberAt = builder.numberAt;
      const textAt = builder.textAt;
      const row = builder.rows;
      const rowStart = pos;
      let field = 0;
      for (;;) {
        // `pos` is at the start of a field: parse it (numbers in the same pass) and find its end.
        const num = field < width ? numberAt[field] : undefined;
        let end = pos;
        if (num !== undefined) {
          scanDecimalField(buf, pos, len, delim);
          end = scanned.end;
          let v = scanned.value;
          let st = scanned.status;
          if (st === FALLBACK) {
            v = parseNumberCell(buf.toString(encoding, pos, end), cell as { status: CellStatus });
            st = cell.status;
          }
          num.values[row] = v;
          num.status[row] = st;
        } else {
          while (end < len) {
            const c = buf[end];
            if (c === delim || c === LF || c === CR) break;
            end++;
          }
        }
        const text = field < width ? textAt[field] : undefined;
        // UTF-8 input reaching the fast path is valid UTF-8 (see feed): its bytes are the cell's UTF-8 text.
        if (text !== undefined) {
          if (utf8) text.putBytes(row, buf, pos, end);
          else text.putString(row, buf.toString(encoding, pos, end));
        }
        field++;
        pos = end;
        if (pos >= len || buf[pos] !== delim) break;
        pos++;
      }
      if (field === width) {
        const arena = segArena as RowArena;
        arena.starts[row] = rowStart;
        arena.ends[row] = pos;
        builder.accept(line);
      } else builder.reject(line, `expected ${width} fields, got ${field}`, this.splitRow(buf, rowStart, pos));
      this.counted();
      if (pos < len) {
        pos += buf[pos] === CR && buf[pos + 1] === LF ? 2 : 1;
        line++;
      }
    }
    adopt(pos);
    return line;
  }

  // The fields of a quote-free row: split by the delimiter, as csv-parse would.
  private splitRow(buf: Buffer, start: number, end: number): string[] {
    return buf.toString(this.o.encoding, start, end).split(this.o.delimiter);
  }

  private deliver(fields: string[], line: number): void {
    if (!this.header) {
      if (this.o.header === false) {
        this.setHeader(fields.map((_, i) => String(i + 1)));
      } else {
        this.setHeader(fields, line);
        return;
      }
    }
    this.ensureBuilder().addRecord(fields, line);
    this.counted();
  }

  private rejectRaw(line: number, error: string, fields: string[]): void {
    if (!this.header && this.o.header !== false) {
      throw new SbError('INPUT_FAILED', `the header line cannot be parsed: ${error}`, { file: this.ctx.file, line });
    }
    if (!this.header) this.setHeader(fields.map((_, i) => String(i + 1)));
    this.ensureBuilder().reject(line, error, fields);
    this.counted();
  }

  private counted(): void {
    this.seen++;
    if (this.builder?.full) this.flush();
    if (this.ctx.limit !== undefined && this.seen >= this.ctx.limit) {
      this.flush();
      this.done = true;
    }
  }

  private flush(): void {
    const b = this.builder;
    if (b && (b.rows > 0 || b.rejects.length > 0)) this.ready.push(b.build());
    this.builder = undefined;
  }

  lineTooLong(): never {
    throw new SbError('INPUT_FAILED', `a line longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB without a line break; is this a CSV file?`, {
      file: this.ctx.file,
      line: this.line,
    });
  }

  private ensureBuilder(): ChunkBuilder {
    if (this.builder) return this.builder;
    const free = this.arenas.pop();
    const arena = free && free.capacity === this.ctx.batchSize ? free : new RowArena(this.ctx.batchSize);
    arena.used = 0;
    this.arena = arena;
    this.builder = new ChunkBuilder(this.header as string[], this.indexed, this.ctx.batchSize, {
      pool: this.pool,
      fields: (r) => this.splitRow(arena.bytes, arena.starts[r], arena.ends[r]),
      onRelease: () => {
        if (this.arenas.length < 4) this.arenas.push(arena);
      },
    });
    return this.builder;
  }

  private indexed: (ColumnNeed & { index: number })[] = [];

  private setHeader(names: string[], line?: number): void {
    this.header = names;
    this.indexed = resolveColumns(names, this.ctx.needs, this.ctx.file, line);
  }

  // `column 'x': ` (or `field 3: ` before the header or past its end) for the field csv-parse stopped in.
  private where(err: Error & { index?: unknown }): string {
    if (typeof err.index !== 'number') return '';
    const name = this.header?.[err.index];
    return name !== undefined ? `column ${quoteCell(name)}: ` : `field ${err.index + 1}: `;
  }

  private quoteMessage(err: Error & { code?: string }): string {
    switch (err.code) {
      case 'CSV_QUOTE_NOT_CLOSED':
        return 'a quoted field opened on this line is never closed';
      case 'INVALID_OPENING_QUOTE':
        return 'quote character inside an unquoted field: quote the whole field, or set input.csv.relax_quotes: true';
      case 'CSV_INVALID_CLOSING_QUOTE':
        return `text after a closing quote: ${err.message.replace(/^Invalid Closing Quote: /, '').replace(/ at line \d+ instead of.*$/, '')} (a quote inside a quoted field must be doubled)`;
      case 'CSV_MAX_RECORD_SIZE':
        return `record longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB`;
      default:
        return err.message;
    }
  }

  // Offset and line of the first physical line of `buf` (from `base`) that is not valid UTF-8.
  private firstBadLine(buf: Buffer, base: number): { offset: number; line: number } {
    let start = base;
    let line = this.line;
    while (start < buf.length) {
      const end = nextBreak(buf, start);
      if (!isUtf8(buf.subarray(start, end))) break;
      start = end < buf.length && buf[end] === CR && buf[end + 1] === LF ? end + 2 : end + 1;
      line++;
    }
    return { offset: Math.min(start, buf.length), line };
  }

  private failEncoding(line: number): never {
    throw new SbError('INPUT_FAILED', 'bytes that are not valid UTF-8: set input.csv.encoding: latin1 if the file is Latin-1/Windows-1252, or convert it to UTF-8', {
      file: this.ctx.file,
      line,
    });
  }
}

// Offset of the next CR or LF at or after `from` (or the end).
function nextBreak(buf: Uint8Array, from: number): number {
  for (let i = from; i < buf.length; i++) if (buf[i] === LF || buf[i] === CR) return i;
  return buf.length;
}

// Offset just after the first line of `buf` from `from` that is not empty (the header's), or -1.
function headerEnd(buf: Uint8Array, from: number): number {
  let i = from;
  while (i < buf.length && (buf[i] === LF || buf[i] === CR)) i++;
  if (i === buf.length) return -1;
  const end = nextBreak(buf, i);
  if (end >= buf.length) return -1;
  return buf[end] === CR && buf[end + 1] === LF ? end + 2 : end + 1;
}

// Walks a unit forward, counting physical lines (LF, CRLF and lone CR each end one line).
class LineCursor {
  offset = 0;
  constructor(
    private readonly buf: Uint8Array,
    public line: number,
  ) {}

  moveTo(target: number): void {
    const b = this.buf;
    for (let i = this.offset; i < target; i++) {
      if (b[i] === LF || (b[i] === CR && b[i + 1] !== LF)) this.line++;
    }
    this.offset = Math.max(this.offset, target);
  }

  // Skip blank lines; returns the line the next record starts on.
  skipBreaks(): number {
    const b = this.buf;
    while (this.offset < b.length && (b[this.offset] === LF || b[this.offset] === CR)) this.moveTo(this.offset + 1);
    return this.line;
  }

  skipOneBreak(): void {
    const b = this.buf;
    if (b[this.offset] === CR && b[this.offset + 1] === LF) this.moveTo(this.offset + 2);
    else if (b[this.offset] === CR || b[this.offset] === LF) this.moveTo(this.offset + 1);
  }
}

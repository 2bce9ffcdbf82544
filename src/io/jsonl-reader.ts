// JSON Lines → chunks. One JSON object per line (LF or CRLF); a row's line is its physical line; blank lines
// are skipped. Columns are keys; `a.b` reads key `b` of the object under `a` (a key literally named `a.b`
// wins). Values become cells as table/builder.ts says (null or an absent key is missing). A line that is not valid
// JSON, not an object, or not valid UTF-8 is a rejected row (its text in the first field), and reading goes
// on with the next line. A needed key that none of the first batch of objects has fails the input (a typo
// would otherwise reject every row as missing), with a did-you-mean.
import { isUtf8 } from 'node:buffer';
import { SbError } from '../errors.js';
import { ChunkBuilder, StoragePool } from '../table/builder.js';
import type { SourceChunk } from '../table/chunk.js';
import type { ReadContext } from '../table/reader.js';
import { didYouMean } from '../util/suggest.js';
import { shownNames } from '../util/quote.js';
import { MAX_RECORD_BYTES, type TextProgress } from './csv-reader.js';
import { JsonNumber, JsonSyntaxError, parseJson } from './json-line.js';

const LF = 10;
const CR = 13;

/** One line's text → its value; throws JsonSyntaxError when the text is not JSON. */
export type LineParser = (text: string) => unknown;

// Chunks of rows from a byte stream of JSON Lines. `parse` is parseJson; bench/libraries.ts puts library
// parsers there to measure them in the same reader.
export async function* readJsonl(source: AsyncIterable<Uint8Array>, ctx: ReadContext, progress?: TextProgress, parse: LineParser = parseJson): AsyncGenerator<SourceChunk> {
  const state = new JsonlState(ctx, parse);
  let carry: Buffer = Buffer.alloc(0);
  if (progress) {
    // Still checking the keys of the first batch: that batch does not end here, so neither may the reading.
    progress.settled = () => carry.length === 0 && !state.done && !state.checkingKeys;
    progress.line = () => state.nextLine;
  }
  for await (const block of source) {
    carry = carry.length === 0 ? Buffer.from(block.buffer, block.byteOffset, block.byteLength) : Buffer.concat([carry, block]);
    const cut = carry.lastIndexOf(LF) + 1;
    if (cut > 0) {
      state.feed(carry.subarray(0, cut));
      carry = Buffer.from(carry.subarray(cut));
    }
    if (carry.length > MAX_RECORD_BYTES) state.lineTooLong();
    // The source reuses its block buffer: keep a copy of what is carried over.
    if (carry.buffer === block.buffer) carry = Buffer.from(carry);
    yield* state.drain();
    if (state.done) return;
  }
  if (!state.done && carry.length > 0) state.feed(carry);
  state.finish();
  yield* state.drain();
}

// Chunk storage of this thread, shared by its readers (one per piece of a file read by several readers): see
// csv-reader.ts.
const STORAGE = new StoragePool();

class JsonlState {
  done = false;
  private line: number;
  private first: boolean;
  private seen = 0;
  private rows?: ChunkBuilder;
  private readonly pool = STORAGE;
  private readonly ready: SourceChunk[] = [];
  private readonly header: string[];
  private readonly paths: string[][];
  private readonly needs;
  /** Until the first chunk is out: which needed keys some object had, and the keys seen (for did-you-mean). */
  private checking = true;
  private readonly found: boolean[];
  private readonly keys = new Set<string>();
  private objects = 0;

  constructor(
    private readonly ctx: ReadContext,
    private readonly parse: LineParser,
  ) {
    this.header = ctx.needs.map((n) => n.name);
    this.needs = ctx.needs.map((n, index) => ({ ...n, index }));
    this.paths = this.header.map((name) => name.split('.'));
    this.found = this.header.map(() => false);
    this.line = ctx.from?.line ?? 1;
    this.first = ctx.from === undefined;
    // A piece in the middle of a file: its first batch is not the file's (the first piece checks the keys).
    if (ctx.from) this.checking = false;
  }

  /** The physical line after the lines read so far. */
  get nextLine(): number {
    return this.line;
  }

  /** The first batch's keys are still being checked (see check()). */
  get checkingKeys(): boolean {
    return this.checking;
  }

  // Whole lines (the last one may lack its LF only at the end of input).
  feed(unit: Buffer): void {
    let pos = 0;
    if (this.first) {
      this.first = false;
      if (unit[0] === 0xef && unit[1] === 0xbb && unit[2] === 0xbf) pos = 3;
    }
    const valid = isUtf8(unit.subarray(pos));
    while (pos < unit.length && !this.done) {
      let end = unit.indexOf(LF, pos);
      if (end === -1) end = unit.length;
      const next = end + 1;
      if (end > pos && unit[end - 1] === CR) end--;
      if (!isBlank(unit, pos, end)) {
        if (!valid && !isUtf8(unit.subarray(pos, end))) this.rejectLine(unit.toString('utf8', pos, end), 'bytes that are not valid UTF-8 (JSON Lines must be UTF-8)');
        else this.row(unit.toString('utf8', pos, end));
      }
      this.line++;
      pos = next;
    }
  }

  private row(text: string): void {
    let value: unknown;
    try {
      value = this.parse(text);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      this.rejectLine(text, `not valid JSON: ${err.message}`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.rejectLine(text, `the line is ${kindOf(value)}, not a JSON object`);
      return;
    }
    const obj = value as Record<string, unknown>;
    const rows = this.ensureRows();
    for (let f = 0; f < this.paths.length; f++) {
      const v = lookup(obj, this.header[f], this.paths[f]);
      if (this.checking && v !== ABSENT) this.found[f] = true;
      if (v instanceof JsonNumber) rows.number(f, rows.rows, v.value, v.source);
      else rows.value(f, rows.rows, v === ABSENT ? undefined : v);
    }
    if (this.checking) {
      this.objects++;
      if (this.keys.size < 1000) for (const k of Object.keys(obj)) this.keys.add(k);
    }
    rows.accept(this.line);
    this.counted();
  }

  private rejectLine(text: string, error: string): void {
    this.ensureRows().reject(this.line, error, [text]);
    this.counted();
  }

  private counted(): void {
    this.seen++;
    if (this.rows?.full) this.flush();
    if (this.ctx.limit !== undefined && this.seen >= this.ctx.limit) {
      this.flush();
      this.done = true;
    }
  }

  private ensureRows(): ChunkBuilder {
    this.rows ??= new ChunkBuilder(this.header, this.needs, this.ctx.batchSize, { pool: this.pool });
    return this.rows;
  }

  private flush(): void {
    const r = this.rows;
    this.rows = undefined;
    if (!r || (r.rows === 0 && r.rejects.length === 0)) return;
    this.check();
    this.ready.push(r.build());
  }

  // After the first batch: a needed key no object had is a mistake in the job, not missing data.
  private check(): void {
    if (!this.checking) return;
    this.checking = false;
    if (this.objects === 0) return;
    const f = this.found.indexOf(false);
    if (f === -1) return;
    const name = this.header[f];
    const keys = [...this.keys];
    throw new SbError('INPUT_FAILED', `key '${name}' is in none of the first ${this.objects} objects${didYouMean(name, keys)} (keys: ${shownNames(keys)})`, { file: this.ctx.file });
  }

  *drain(): Generator<SourceChunk> {
    while (this.ready.length > 0) yield this.ready.shift() as SourceChunk;
  }

  finish(): void {
    this.flush();
  }

  lineTooLong(): never {
    throw new SbError('INPUT_FAILED', `a line longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB; is this a JSON Lines file (one object per line)?`, { file: this.ctx.file, line: this.line });
  }
}

const ABSENT = Symbol('absent');

// The value at a column name: the key itself, else the dotted path through nested objects.
function lookup(obj: Record<string, unknown>, name: string, path: string[]): unknown {
  if (name in obj) return obj[name];
  if (path.length === 1) return ABSENT;
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(key in (cur as object))) return ABSENT;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function isBlank(buf: Buffer, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== CR) return false;
  }
  return true;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a number';
}

// One large text input read by several reader threads at once. The file is cut at line starts
// (io/split.ts, readerCuts) into pieces of ~PIECE_BYTES, taken by the readers in turn (with two: the first,
// third, fifth... piece by one, the others by the other), each reader in a thread of its own
// (prepareInWorker) reading its pieces one after another, and the chunks are taken in file order: all of the
// first piece's, then the second's... so the model and the writer see the rows in the order one reader would
// give them. A reader may run its next piece whole ahead: while the pieces before it are taken from the
// others, it reads that one (one piece per reader, each only a few chunks ahead, made the readers take turns).
//
// What one reader would give is the contract, byte for byte, and three things make it so:
// - Where a piece starts. A line start may lie inside a quoted CSV field that holds a line break. A piece
//   ends where the next one starts only if its reader stands at a record start there (every byte parsed
//   into rows); the first piece starts at the start of the file, so each start is proven by the reader
//   before it. Otherwise that reader reads on, exactly as one reader would from its own (proven) start, to
//   the next piece's start at which it stands at a record start (which that proves), or to the end of the
//   file; the pieces it read through are dropped (their readers read them all the same: they cannot know),
//   and the pieces from there on are used. A quoted field across a cut usually costs a piece's work (more
//   when a dropped piece's reader, out of step with the quotes, reads far past its piece), never a wrong
//   row. Should a dropped piece's reader fail (it may have started inside a quoted field), one new reader
//   reads the rest of the file from the last proven start.
// - Line numbers. A reader starting mid-file counts lines from 1; the lines of the pieces before it (known
//   once they are read) are added to its rejects' lines and its errors'.
// - Chunks. One reader ends a chunk after every batch_size accepted rows; errors.max_rejected (a count) is
//   checked after each chunk, and a failure keeps what the chunks before it hold. The pieces' chunks are cut
//   and joined again on that grid, so every chunk handed on is the one a single reader would have made
//   (the same rows, the same rejects), and a failure inside a chunk drops that chunk's rows as one reader
//   would.
// The file's sha256 (run record, ledger) is taken here, by reading the file once more in order: no piece
// sees all of it.
//
// A Parquet file is shared among its readers the same way, by row groups: each row group goes to the reader
// with the fewest rows so far (equal groups go round in turn), and a reader may run a whole row group ahead. Exactly one reader's chunks come out
// without a re-cut: a Parquet reader ends a chunk at every row group's end and numbers rows from the start
// of the file (io/parquet/read.ts), also when it reads only some of the row groups.
import os from 'node:os';
import { SbError } from '../errors.js';
import type { CsvOptions, TextFormat } from '../job/config.js';
import type { PieceSpec } from '../io/table-reader.js';
import { readerCuts } from '../io/split.js';
import { assertUnchanged, changedWhileRead, openSource, type SourceStat, type SourceStream } from '../storage/source.js';
import type { LoadedModel } from '../model/session.js';
import { CALL_ROWS, type RunSpec } from '../model/tensors.js';
import type { RunPlan } from './plan.js';
import type { PackedText } from '../table/packed.js';
import type { Feed, FeedData } from './featurize.js';
import { AHEAD, lowerBound, prepareInWorker, type ChunkGrid, type Prepared, type PreparedChunk, type PrepareEnd, type PrepareSpec } from './prepare.js';

/** Each reader beyond the first needs at least this many bytes of the file: a reader thread costs ~0.1 s
 *  to start and ~10 MB. */
const MIN_PIECE_BYTES = 32 * 1024 * 1024;

/** CPU time one reader spends on a byte of text: 1.8–2.3 s for the bench's 282 MB CSV of floats (`npm run
 *  bench`, "reader alone", three runs on a quiet 2-core machine). */
const READ_MS_PER_BYTE = 2.0e3 / 282e6;

/** CPU time one reader spends on a Parquet value (one row of one column the job reads), in a thread that has
 *  read a row group or two: per value, not per byte, as the cost follows the values and not the compressed
 *  bytes. Measured one thread, no model, 2-core machine at load ~2: 3M rows × 30 float32 (PLAIN, Snappy)
 *  21 ns; 3M × 4 doubles (PLAIN, Snappy) 29–32 ns (~5 ns a compressed byte); flights-3m's int64 delay and
 *  distance (dictionary, ZSTD) 47–52 ns (~40 ns a compressed byte); with its timestamp and a string read as
 *  text too, 93–96 ns. */
const PARQUET_READ_MS_PER_VALUE = 50e-6;

/** The reading each reader of a Parquet file beyond the first needs. A new reader costs ~0.1 s of CPU to start,
 *  0.1–0.4 s more for its first row groups than for later ones (the runs above read cold: 24, 41, 106–116 and
 *  124 ns a value), ~25 MB, and per column it reads a 1 MiB window and a decoded page. Measured on the 2-core
 *  bench machine at load 1.2–2.5, 1M rows × 30 float32 (1.5 s by the figure above, 0.63 s warm) with the
 *  bench's lr: a second reader took 1.89–1.97 s against 1.88–2.19 s (CSV result, profiled) and 1.33–1.37 s
 *  against 1.46–1.52 s (label only, no profile), for +0.3 s of CPU and +120 MB: less than ~1 s of reading is
 *  not worth a reader. */
const MIN_PARQUET_PIECE_MS = 1000;

/** The model's CPU time per row, timed on a few calls; undefined when it could not be timed. */
export type ModelCost = number | undefined;

// How many readers for an input of `bytes` with lines of `lineBytes`: the configured number; else as many as
// keep the cores busy (keepBusy), at most one per MIN_PIECE_BYTES.
export function readerCount(bytes: number, lineBytes: number, modelMsPerRow: ModelCost, configured?: number, cores = os.availableParallelism()): number {
  if (configured !== undefined) return Math.max(1, configured);
  const model = modelMsPerRow === undefined ? undefined : (bytes / Math.max(1, lineBytes)) * modelMsPerRow;
  return keepBusy(Math.floor(bytes / MIN_PIECE_BYTES), bytes * READ_MS_PER_BYTE, model, cores);
}

// How many readers for a Parquet input of `rows` rows in `groups` row groups, `columns` of its columns read:
// the configured number, else as many as keep the cores busy (keepBusy), each with MIN_PARQUET_PIECE_MS of
// reading; never more than its row groups.
export function parquetReaderCount(rows: number, columns: number, groups: number, modelMsPerRow: ModelCost, configured?: number, cores = os.availableParallelism()): number {
  const read = rows * Math.max(1, columns) * PARQUET_READ_MS_PER_VALUE;
  const n = configured ?? keepBusy(Math.floor(read / MIN_PARQUET_PIECE_MS), read, modelMsPerRow === undefined ? undefined : rows * modelMsPerRow, cores);
  return Math.max(1, Math.min(n, groups));
}

// Readers that keep the cores busy. One core is the main thread's: it takes the chunks in order, assembles,
// profiles and writes the results (~1 s of CPU per 1M rows of the bench's lr, about half the reading), and
// with the readers and the model on every core it became the bound: on 2 cores the lr took 2.3–2.5 s with
// two readers against 2.4–2.6 s with one, for ~100 MB more (`npm run bench`). Of the C − 1 other cores,
// reading takes R (`readMs`) of the CPU and the model M (`modelMs`; undefined: not timed), so reading is
// never the slower half with ceil((C − 1) × R / (R + M)) readers (a light model: one per core but the
// main thread's; a model that costs several times the reading: one) — at least one, at most `bySize`.
function keepBusy(bySize: number, readMs: number, modelMs: number | undefined, cores: number): number {
  const others = Math.max(1, cores - 1);
  const most = Math.max(1, Math.min(others, bySize));
  if (modelMs === undefined) return most;
  return Math.max(1, Math.min(most, Math.ceil((others * readMs) / (readMs + modelMs))));
}

// The model's CPU time per row (its call time × the cores its threads may use: one for a tree ensemble with
// copies, model/threads.ts), on calls of made-up rows
// (the second call of two: the first one allocates); undefined for a model with an input that is not a float
// tensor, or when a call fails.
export async function modelCost(model: LoadedModel, plan: Pick<RunPlan, 'tensors'>, spec: RunSpec, cores = os.availableParallelism()): Promise<ModelCost> {
  if (plan.tensors.some((t) => t.type !== 'float32' && t.type !== 'float64')) return undefined;
  const rows = CALL_ROWS;
  // Values spread like standardized features: a tree model takes many paths, as on real rows.
  const feeds = () =>
    plan.tensors.map((t) => {
      const data = t.type === 'float32' ? new Float32Array(rows * t.columns.length) : new Float64Array(rows * t.columns.length);
      for (let i = 0; i < data.length; i++) data[i] = (((i * 2654435761) >>> 0) / 2 ** 31 - 1) * 2;
      return { input: t.input, type: t.type, data, dims: t.rank === 1 ? [rows] : [rows, t.columns.length] };
    });
  try {
    await model.thread.score(feeds(), rows, spec);
    const timed = await model.thread.score(feeds(), rows, spec);
    return (timed.ms * (model.copies ? 1 : cores)) / rows;
  } catch {
    return undefined;
  }
}

/** Text pieces for several readers: the file cut at line starts into pieces of about this size (at least one
 *  per reader), taken by the readers in turn. A reader runs its next piece whole ahead of the consumer while
 *  the pieces before it are taken from the others, so its chunks stay few: one piece per reader would leave
 *  each reader only a few chunks ahead, and the readers would take turns (282 MB of CSV, no model: 2.95 s
 *  with one reader, 3.22 s with two in one piece each). */
const PIECE_BYTES = 16 * 1024 * 1024;

/** How `spec`'s text file is read by several readers (prepareInPieces). */
export interface PiecePlan {
  pieces: PieceSpec[];
  readers: number;
  /** Chunks a reader may run ahead of the consumer: a whole piece's and AHEAD more. */
  ahead: number;
}

// The pieces of `spec`'s file for `readers(lineBytes)` readers, or a string saying why it is read by one.
export async function planPieces(spec: PrepareSpec, listed: number, readers: number | ((lineBytes: number) => number | Promise<number>)): Promise<PiecePlan | string> {
  const source = openSource(spec.file, spec.display);
  let n = typeof readers === 'number' ? readers : 0;
  let line = 1;
  let cuts;
  let seen;
  let bytes = listed;
  try {
    // The file as it is now (it may have grown since it was listed): every reader checks it is still so.
    seen = await source.stat();
    bytes = seen?.size ?? listed;
    const wanted = async (lineBytes: number) => {
      if (typeof readers !== 'number') n = await readers(lineBytes);
      line = Math.max(1, lineBytes);
      const count = n < 2 ? 1 : Math.max(n, Math.ceil(bytes / PIECE_BYTES));
      // A JSON Lines reader checks the keys of its first batch before it may hand off, so the first piece
      // holds a batch and a half (else its reader would read on through the others' pieces).
      const first = spec.format === 'jsonl' ? 1.5 * spec.batchSize * line : 0;
      return Array.from({ length: count - 1 }, (_, k) => Math.floor(((k + 1) * bytes) / count)).filter((at) => at >= first);
    };
    cuts = await readerCuts(source, bytes, spec.format, spec.csv as CsvOptions & { delimiter: string }, wanted);
  } finally {
    await source.close();
  }
  if (typeof cuts === 'string') return cuts;
  if (n < 2) return 'one reader';
  if (cuts.starts.length < 2) return 'no line starts where the cuts fall';
  const pieces = piecesOf(cuts.starts, cuts.header, bytes, seen);
  const longest = pieces.reduce((m, p) => Math.max(m, p.end - p.start), 0);
  return { pieces, readers: Math.min(n, pieces.length), ahead: aheadOf(spec, Math.ceil(longest / line)) };
}

/** Later pieces' starts a piece's reader may stop at when it reads past its end (beyond them: the file's end). */
const HANDOFF_STOPS = 8;

// Pieces of a file of `bytes` starting at `starts` (the first at 0): each but the last hands off to the next,
// or, when its reader stands inside a record there, to one of the next pieces; each reader checks that the
// file is still as `seen`. None hashes its bytes: prepareInPieces hashes the whole file once (~80 ms of CPU
// saved per reader and 282 MB).
export function piecesOf(starts: number[], header: string[] | undefined, bytes: number, seen?: SourceStat): PieceSpec[] {
  return starts.map((start, k) => {
    const last = k === starts.length - 1;
    const piece: PieceSpec = { start, end: last ? bytes : starts[k + 1], seen, unhashed: true };
    if (k > 0) Object.assign(piece, { line: 1, header });
    if (!last) piece.handoff = { fileBytes: bytes, stops: starts.slice(k + 2, k + 2 + HANDOFF_STOPS) };
    return piece;
  });
}

/** Whether an input of this format can be cut at line starts for several readers (Parquet is shared by row
 *  groups: planRowGroups). */
export function splittable(format: TextFormat): boolean {
  return format === 'csv' || format === 'tsv' || format === 'jsonl';
}

// Read `spec`'s file as `pieces` by `count` readers (`open`: a reader thread each), piece k by reader
// k mod count, each reader at most `ahead` chunks ahead; the chunks come out as one reader's would.
export function prepareInPieces(spec: PrepareSpec, pieces: PieceSpec[], open: (spec: PrepareSpec, ahead: number) => Prepared = prepareInWorker, count = pieces.length, ahead = AHEAD): Prepared {
  const n = Math.max(1, Math.min(count, pieces.length));
  const { readers, its, whole } = startReaders(spec, pieces[0]?.seen, n, (r) => open({ ...spec, pieces: pieces.filter((_, k) => k % n === r) }, ahead));
  let current = 0;
  /** Pieces whose rows were used (a spilled piece's reader read through the ones after it). */
  let used = 0;
  let lastEnd: PrepareEnd | undefined;
  /** The one reader reading the rest of the file, once a dropped piece's reader failed (readRest()). */
  let alone: { reader: Prepared; from: number } | undefined;

  // The chunks of piece k from its reader, up to the chunk that ends the piece (its end).
  const piece = (k: number) => untilEnd(its[k % n], `piece ${k + 1}`);

  // The chunks of `chunks` (one piece's, or the rest of the file's) with their lines made the file's; returns
  // the piece's end.
  async function* numbered(chunks: AsyncGenerator<PreparedChunk, PrepareEnd>, before: number): AsyncGenerator<PreparedChunk, PrepareEnd> {
    try {
      for (let r = await chunks.next(); ; r = await chunks.next()) {
        if (r.done) return r.value;
        if (before > 0) for (const x of r.value.rejects) x.line += before;
        yield r.value;
      }
    } catch (err) {
      if (err instanceof SbError && err.context.line !== undefined && before > 0) {
        throw new SbError(err.code, err.message, { ...err.context, line: err.context.line + before });
      }
      throw err;
    }
  }

  // The pieces' chunks in file order, their lines made the file's. A piece that starts before `from` (where
  // the piece used before it ended: its reader read on through it) is read by its reader all the same, and
  // dropped.
  async function* inOrder(): AsyncGenerator<PreparedChunk> {
    let before = 0;
    let from = 0;
    for (let k = 0; k < pieces.length; k++) {
      current = k % n;
      if (pieces[k].start < from) {
        try {
          for await (const chunk of piece(k)) readers[current].recycle(chunk);
          continue;
        } catch {
          // Its reader, started inside a quoted field, failed on what it took for records (or on an error it
          // will meet again in order): one reader reads the rest of the file from `from` instead.
          yield* readRest(from, pieces[k], before);
          return;
        }
      }
      const end: PrepareEnd = yield* numbered(piece(k), before);
      lastEnd = end;
      used++;
      before += (end.line ?? 1) - 1;
      from = end.spilled ? (end.through ?? Infinity) : pieces[k].end;
      if (from >= (pieces[k].handoff?.fileBytes ?? Infinity)) {
        // This piece's reader read on to the end of the file: no later piece is used.
        await Promise.all(readers.map((r) => r.close()));
        return;
      }
    }
    // Each reader is done (a reader thread stops once its end is taken).
    for (const it of its) await it.next();
  }

  // The file from `start` (a record start) to its end, by one new reader; the others stop.
  async function* readRest(start: number, like: PieceSpec, before: number): AsyncGenerator<PreparedChunk> {
    await Promise.all(readers.map((r) => r.close()));
    const last = pieces[pieces.length - 1];
    const reader = open({ ...spec, pieces: [{ start, end: last.end, line: 1, header: like.header, seen: like.seen, unhashed: true }] }, ahead);
    readers.push(reader);
    alone = { reader, from: start };
    const it = reader.chunks[Symbol.asyncIterator]();
    current = readers.length - 1;
    lastEnd = yield* numbered(untilEnd(it, 'the rest of the file'), before);
    used++;
    await it.next();
  }

  // One reader's chunks: batch_size accepted rows each (the last one fewer).
  async function* regrid(): AsyncGenerator<PreparedChunk> {
    const size = spec.batchSize;
    let held: PreparedChunk[] = [];
    let accepted = 0;
    for await (const chunk of inOrder()) {
      let rest = chunk;
      if (held.length === 0 && rest.grid.accepted === size) {
        yield scaled(rest, n);
        continue;
      }
      while (accepted + rest.grid.accepted >= size) {
        const [head, tail] = cut(rest, size - accepted);
        held.push(head);
        yield scaled(join(held), n);
        held = [];
        accepted = 0;
        rest = tail;
      }
      if (rest.grid.accepted > 0 || rest.rejects.length > 0) {
        held.push(rest);
        accepted += rest.grid.accepted;
      }
    }
    if (held.length > 0) yield scaled(join(held), n);
    // The end (bytes, sha256) is read once the chunks are done.
    await whole.done;
  }

  const it = regrid();
  // Bytes read so far: the pieces' readers', or the file up to where one reader took the rest over and its.
  const bytes = () => (alone ? alone.from + alone.reader.bytes() : readers.reduce((sum, r) => sum + r.bytes(), 0));
  return {
    chunks: it,
    bytes,
    end: () => ({ bytes: whole.bytes(), sha256: whole.sha256(), line: lastEnd?.line, readers: used }),
    close: closer(it, readers, whole),
    // A file read by several readers, not a stream: its next chunk is never long in coming.
    ready: () => true,
    recycle: (chunk) => {
      // Only arrays of their own go back to a reader's pool (a piece's tail is a view into a larger one).
      if (chunk.feeds.every((f) => ArrayBuffer.isView(f.data) && f.data.byteOffset === 0 && f.data.byteLength === f.data.buffer.byteLength)) readers[current].recycle(chunk);
    },
  };
}

// The chunks of one piece from its reader's chunks (`it`), up to the chunk that ends the piece: its end.
async function* untilEnd(it: AsyncIterator<PreparedChunk>, what: string): AsyncGenerator<PreparedChunk, PrepareEnd> {
  for (;;) {
    const next = await it.next();
    if (next.done) throw new Error(`internal: the reader of ${what} stopped before its end`);
    if (next.value.pieceEnd) return next.value.pieceEnd;
    yield next.value;
  }
}

/** A Parquet file's row groups shared among reader threads. */
export interface GroupShare {
  /** Rows of each row group of the file. */
  rows: number[];
  /** The row groups each reader reads, ascending; each group is one reader's. */
  readers: number[][];
  /** Bytes of the file. */
  bytes: number;
  /** The file as the plan saw it: each reader checks it is still so. */
  seen?: SourceStat;
}

// The row groups of `spec`'s Parquet file shared among `readers(rows, groups)` readers, or a string saying
// why it is read by one.
export async function planRowGroups(spec: PrepareSpec, readers: (rows: number, groups: number) => number | Promise<number>): Promise<GroupShare | string> {
  const source = openSource(spec.file, spec.display);
  if (!source.readAt) {
    await source.close();
    return 'it can only be read in order';
  }
  // The footer's modules only (~40 ms to load, against ~100 ms for the whole reader's): this thread reads no rows.
  const [{ parquetBytes }, { parquetRowGroups }] = await Promise.all([import('../io/parquet/bytes.js'), import('../io/parquet/listing.js')]);
  const seen = await source.stat();
  const bytes = await parquetBytes(source);
  const { rows } = await parquetRowGroups(bytes, spec.display);
  if (rows.length < 2) return rows.length === 1 ? 'one row group' : 'no row groups';
  const n = Math.min(rows.length, await readers(rows.reduce((a, b) => a + b, 0), rows.length));
  if (n < 2) return 'one reader';
  return { rows, readers: shareGroups(rows, n), bytes: bytes.size, seen };
}

// Row groups (of `rows` rows each) for n readers: in file order, each to the reader with the fewest rows so
// far (the first on a tie). The groups are taken in file order, so what a reader reads while the others'
// groups are taken is its next group: this keeps each reader's rows near 1/n of the rows read by then,
// wherever the large groups fall.
export function shareGroups(rows: number[], n: number): number[][] {
  const share: number[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  rows.forEach((r, g) => {
    const k = load.indexOf(Math.min(...load));
    share[k].push(g);
    load[k] += r;
  });
  return share.filter((groups) => groups.length > 0);
}

/** Bytes of chunks a reader of several pieces or row groups may hold ahead of the consumer. */
const AHEAD_BYTES = 32 * 1024 * 1024;

// Chunks a reader may run ahead to read `rows` rows (its next piece or row group) while the others' are
// taken, and AHEAD more, within AHEAD_BYTES of chunks (estimated at 8 bytes a feature value, 16 a passthrough
// cell); never fewer than one reader's.
function aheadOf(spec: PrepareSpec, rows: number): number {
  const perRow = 8 * spec.plan.tensors.reduce((n, t) => n + t.columns.length, 0) + 16 * spec.plan.passthrough.length;
  return Math.max(AHEAD, Math.min(AHEAD + Math.ceil(rows / spec.batchSize), Math.floor(AHEAD_BYTES / Math.max(1, spec.batchSize * perRow))));
}

// Chunks each reader of `share` may run ahead: its next row group whole (the largest one), so that it is
// ready when the groups before it have been taken, within AHEAD_BYTES of chunks (estimated at 8 bytes a
// feature value, 16 a passthrough cell); never fewer than one reader's.
function aheadFor(spec: PrepareSpec, share: GroupShare): number {
  return aheadOf(spec, share.rows.reduce((a, b) => Math.max(a, b), 0));
}

// Read `spec`'s Parquet file by the readers of `share`, one reader thread each (`open`), the chunks coming out
// in file order, as one reader's.
export function prepareInRowGroups(spec: PrepareSpec, share: GroupShare, open: (spec: PrepareSpec, ahead: number) => Prepared = prepareInWorker): Prepared {
  const ahead = aheadFor(spec, share);
  const { readers, its, whole } = startReaders(spec, share.seen, share.readers.length, (r) => open({ ...spec, piece: { start: 0, end: share.bytes, groups: share.readers[r], seen: share.seen } }, ahead));
  const owner: number[] = [];
  share.readers.forEach((groups, k) => groups.forEach((g) => (owner[g] = k)));
  let current = 0;
  // A reader whose rows do not fall where the footer read before said: the file was replaced meanwhile.
  const changed = () => changedWhileRead(spec.display);

  // Each row group's chunks from its reader, in file order.
  async function* inOrder(): AsyncGenerator<PreparedChunk> {
    for (let g = 0; g < share.rows.length; g++) {
      current = owner[g];
      for (let left = share.rows[g]; left > 0; ) {
        const next = await its[current].next();
        if (next.done || next.value.rowsIn > left) throw changed();
        left -= next.value.rowsIn;
        yield scaled(next.value, readers.length);
      }
    }
    for (const it of its) if (!(await it.next()).done) throw changed();
    // The end (bytes, sha256) is read once the chunks are done.
    await whole.done;
  }

  const it = inOrder();
  return {
    chunks: it,
    // A Parquet reader's bytes are how far into the file its rows reach: the current group's reader tells.
    bytes: () => readers[current].bytes(),
    end: () => ({ bytes: whole.bytes(), sha256: whole.sha256(), readers: readers.length }),
    close: closer(it, readers, whole),
    ready: () => true,
    recycle: (chunk) => readers[current].recycle(chunk),
  };
}

// n readers of `spec`'s file (`open(r)`), their chunks, and the file read whole as the plan saw it (`seen`);
// if one reader cannot start, those started are stopped before the error goes on.
function startReaders(spec: PrepareSpec, seen: SourceStat | undefined, n: number, open: (r: number) => Prepared) {
  const readers: Prepared[] = [];
  try {
    for (let r = 0; r < n; r++) readers.push(open(r));
  } catch (err) {
    for (const r of readers) void r.close().catch(() => undefined);
    throw err;
  }
  return { readers, its: readers.map((r) => r.chunks[Symbol.asyncIterator]()), whole: readWhole(spec, seen) };
}

// Stop the chunks, the readers and the whole-file read, once.
function closer(it: AsyncGenerator<PreparedChunk>, readers: Prepared[], whole: WholeRead): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    await it.return(undefined);
    await Promise.all(readers.map((r) => r.close()));
    await whole.close();
  };
}

/** The file read once more, in order, on this thread: its sha256 and byte count (no piece sees all of it). */
interface WholeRead {
  /** Settles when the file was read to its end. */
  done: Promise<void>;
  bytes(): number;
  sha256(): string | undefined;
  close(): Promise<void>;
}

// The whole of `spec`'s file as the plan saw it (`seen`): its bytes up to the size planned, the file checked to
// be still as `seen` before and after, so the sha256 and the byte count are those of the bytes the readers
// read (an append while the pieces are read fails the input rather than hash bytes no row came from).
function readWhole(spec: PrepareSpec, seen: SourceStat | undefined): WholeRead {
  const source = openSource(spec.file, spec.display);
  const whole: SourceStream = source.open(seen ? { start: 0, end: seen.size } : undefined);
  const it = whole[Symbol.asyncIterator]();
  const done = (async () => {
    if (seen) await assertUnchanged(source, seen);
    for (let r = await it.next(); !r.done; r = await it.next());
    if (seen) await assertUnchanged(source, seen);
  })();
  // Awaited at the end of the chunks; a run that stops before has no use for its outcome.
  done.catch(() => undefined);
  return {
    done,
    bytes: () => whole.bytesRead,
    sha256: () => whole.sha256(),
    close: async () => {
      await it.return?.(undefined);
    },
  };
}

// The reading time of a chunk as it counts for the model-thread choice: readers read at the same time.
function scaled(chunk: PreparedChunk, readers: number): PreparedChunk {
  if (chunk.readMs !== undefined) chunk.readMs /= readers;
  return chunk;
}

/** Values per row of a feed. */
function widthOf(feed: Feed): number {
  return feed.dims.length > 1 ? feed.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
}

// `chunk` cut after its n-th accepted row, as one reader ends a chunk: the first n accepted rows with the
// rejects placed before or on them (copies), and the rest (views into `chunk`).
function cut(chunk: PreparedChunk, n: number): [PreparedChunk, PreparedChunk] {
  const g = chunk.grid;
  let r = 0;
  while (r < g.at.length && g.at[r] < n) r++;
  let fromReader = 0;
  for (let i = 0; i < r; i++) fromReader += g.fromReader[i];
  const kept = g.keep ? lowerBound(g.keep, n) : n;
  const share = g.accepted > 0 ? n / g.accepted : 0;
  const head: PreparedChunk = {
    rowsIn: n + fromReader,
    rows: kept,
    feeds: chunk.feeds.map((f) => ({ ...f, data: rowsOf(f.data, 0, kept * widthOf(f), true), dims: [kept, ...f.dims.slice(1)] })),
    passthrough: chunk.passthrough.map((p) => packedRows(p, 0, kept)),
    rejects: chunk.rejects.slice(0, r),
    header: chunk.header,
    readMs: chunk.readMs === undefined ? undefined : chunk.readMs * share,
    grid: { accepted: n, at: g.at.slice(0, r), fromReader: g.fromReader.slice(0, r), keep: g.keep?.slice(0, kept) },
  };
  const left = chunk.rows - kept;
  const tail: PreparedChunk = {
    rowsIn: chunk.rowsIn - head.rowsIn,
    rows: left,
    feeds: chunk.feeds.map((f) => ({ ...f, data: rowsOf(f.data, kept * widthOf(f), chunk.rows * widthOf(f), false), dims: [left, ...f.dims.slice(1)] })),
    passthrough: chunk.passthrough.map((p) => packedRows(p, kept, chunk.rows)),
    rejects: chunk.rejects.slice(r),
    header: chunk.header,
    readMs: chunk.readMs === undefined ? undefined : chunk.readMs * (1 - share),
    grid: { accepted: g.accepted - n, at: g.at.slice(r).map((a) => a - n), fromReader: g.fromReader.slice(r), keep: g.keep?.slice(kept).map((k) => k - n) },
  };
  return [head, tail];
}

// Fragments of consecutive rows as one chunk (copied into arrays of its own).
function join(parts: PreparedChunk[]): PreparedChunk {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const feeds = first.feeds.map((f, i) => {
    const datas = parts.map((p) => p.feeds[i].data);
    return { ...f, data: concatData(datas), dims: [rows, ...f.dims.slice(1)] };
  });
  const passthrough = first.passthrough.map((_, i) => concatPacked(parts.map((p) => p.passthrough[i])));
  let base = 0;
  const at: number[] = [];
  const fromReader: number[] = [];
  const keep: number[] = [];
  const anyKeep = parts.some((p) => p.grid.keep);
  for (const p of parts) {
    for (const a of p.grid.at) at.push(a + base);
    fromReader.push(...p.grid.fromReader);
    if (anyKeep) {
      if (p.grid.keep) for (const k of p.grid.keep) keep.push(k + base);
      else for (let k = 0; k < p.grid.accepted; k++) keep.push(k + base);
    }
    base += p.grid.accepted;
  }
  const readMs = parts.every((p) => p.readMs === undefined) ? undefined : parts.reduce((s, p) => s + (p.readMs ?? 0), 0);
  const grid: ChunkGrid = { accepted: base, at: Uint32Array.from(at), fromReader: Uint8Array.from(fromReader), keep: anyKeep ? Uint32Array.from(keep) : undefined };
  return { rowsIn: parts.reduce((n, p) => n + p.rowsIn, 0), rows, feeds, passthrough, rejects: parts.flatMap((p) => p.rejects), header: first.header, readMs, grid };
}

// Values [from, to) of a feed: a copy, or a view.
function rowsOf(data: FeedData, from: number, to: number, copy: boolean): FeedData {
  if (Array.isArray(data)) return data.slice(from, to);
  return copy ? data.slice(from, to) : data.subarray(from, to);
}

function concatData(datas: FeedData[]): FeedData {
  const first = datas[0];
  if (Array.isArray(first)) return (datas as string[][]).flat();
  const total = datas.reduce((n, d) => n + d.length, 0);
  const out = new (first.constructor as new (n: number) => Exclude<FeedData, string[]>)(total);
  let o = 0;
  for (const d of datas) {
    (out as unknown as { set(a: ArrayLike<unknown>, at: number): void }).set(d as ArrayLike<unknown>, o);
    o += d.length;
  }
  return out;
}

// Cells [from, to) of a packed column, copied into buffers of their own (they move between threads).
function packedRows(p: PackedText, from: number, to: number): PackedText {
  const a = p.offsets[from];
  const bytes = Buffer.allocUnsafeSlow(p.offsets[to] - a);
  bytes.set(p.bytes.subarray(a, p.offsets[to]));
  const offsets = new Uint32Array(to - from + 1);
  for (let i = from; i <= to; i++) offsets[i - from] = p.offsets[i] - a;
  return { bytes, offsets };
}

function concatPacked(parts: PackedText[]): PackedText {
  const size = parts.reduce((n, p) => n + p.bytes.length, 0);
  const rows = parts.reduce((n, p) => n + p.offsets.length - 1, 0);
  const bytes = Buffer.allocUnsafeSlow(size);
  const offsets = new Uint32Array(rows + 1);
  let pos = 0;
  let row = 0;
  for (const p of parts) {
    bytes.set(p.bytes, pos);
    const n = p.offsets.length - 1;
    for (let i = 1; i <= n; i++) offsets[row + i] = pos + p.offsets[i];
    pos += p.bytes.length;
    row += n;
  }
  return { bytes, offsets };
}

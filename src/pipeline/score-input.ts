// The streaming run of one input: prepared chunks (read → parse → featurize, in a worker thread for large
// files) → model → assemble → write, counting rows so that rows_in = rows_out + rows_rejected, and stopping
// after the chunk in which errors.max_rejected (as a count) is exceeded.
import type { JobConfig, RejectLimit, TextFormat } from '../job/config.js';
import { SbError } from '../errors.js';
import type { TableWriter } from '../table/writer.js';
import { delimiterOf } from '../io/formats.js';
import { callModel, modelThreads } from '../model/threads.js';
import type { Scored } from '../model/model-worker.js';
import type { LoadedModel } from '../model/session.js';
import type { RunSpec } from '../model/tensors.js';
import { STOP_GRACE_MS, unlessStopped } from '../util/abandon.js';
import { assemble } from './assemble.js';
import type { Reject } from '../table/chunk.js';
import type { RunPlan } from './plan.js';
import type { PieceSpec, QuerySpec } from '../io/table-reader.js';
import { prepareHere, prepareInWorker, type Prepared, type PreparedChunk, type PrepareSpec } from './prepare.js';
import { modelCost, parquetReaderCount, planPieces, planRowGroups, prepareInPieces, prepareInRowGroups, readerCount, splittable } from './pieces.js';
import { readsInThread } from './reader-thread.js';
import { describeRejects, type RejectsSink } from './rejects.js';
import type { ChunkProfiler } from './profile-stage.js';
import { fastPathEnabled } from '../util/fast-path.js';
import { counted } from '../util/display.js';

export interface ScoreContext {
  job: JobConfig;
  plan: RunPlan;
  model: LoadedModel;
  runSpec: RunSpec;
  writer: TableWriter;
  rejects: RejectsSink;
  limit?: number;
  /** A shard's piece of the file; absent: the whole file. */
  piece?: PieceSpec;
  /** Read this query's rows instead of the file. */
  query?: QuerySpec;
  /** Aborted when the run must stop: it stops at the next chunk, and gives up on a read that has not come
   *  back STOP_GRACE_MS later (a FIFO that nobody writes). */
  signal?: AbortSignal;
  /** Profiles the features and predictions of each scored chunk (see profile-stage.ts). */
  profile?: ChunkProfiler;
  /** Called after each chunk with the rows and bytes of this input so far. */
  onProgress?: (rows: number, bytes: number) => void;
}

export interface InputCounts {
  rowsIn: number;
  rowsOut: number;
  rowsRejected: number;
  bytes: number;
  sha256?: string;
  /** A query read by watermark to its end: the largest value of the watermark column read. */
  watermark?: string;
}

/** An input failure with the counts reached before it. */
export class InputFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly counts: InputCounts,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

// Score one input into ctx.writer. Throws InputFailure (wrapping the cause) when the input fails.
export async function scoreInput(file: string, display: string, format: TextFormat, ctx: ScoreContext, bytes?: number): Promise<InputCounts> {
  const counts: InputCounts = { rowsIn: 0, rowsOut: 0, rowsRejected: 0, bytes: 0 };
  const firstRejects: (Reject & { file: string })[] = [];
  const writtenBefore = ctx.writer.rows;
  const csv = ctx.job.input.csv;
  const spec: PrepareSpec = {
    file,
    display,
    format,
    csv: { ...csv, delimiter: csv.delimiter ?? delimiterOf(format), fastPath: fastPathEnabled() },
    plan: { needs: ctx.plan.needs, tensors: ctx.plan.tensors, passthrough: ctx.plan.passthrough },
    batchSize: ctx.job.batchSize,
    limit: ctx.limit,
    piece: ctx.piece,
    storage: ctx.job.storage,
    query: ctx.query,
  };
  // A query's rows are decoded and built into chunks in the reader thread too (all of a query is read,
  // whatever its size; a sample of a few rows is not worth a thread), and so is standard input, by one reader.
  const inThread = ctx.query ? ctx.limit === undefined : readsInThread(file, bytes, ctx.limit);
  const prepared = !inThread ? prepareHere(spec) : ctx.query || file === '-' ? prepareInWorker(spec) : await prepareLarge(spec, format, bytes ?? 0, ctx);
  const threads = modelThreads(ctx.model, inThread);
  const chunks = prepared.chunks[Symbol.asyncIterator]();
  const signal = ctx.signal;
  let readLeft = false;
  const stillReading = () => {
    readLeft = true;
    return new SbError('INTERRUPTED', `reading ${display} had not come back ${STOP_GRACE_MS / 1000} s later and was left running; no partial results were kept`);
  };
  // The model scores chunks while this thread writes the one before them: each chunk's call starts as soon as
  // the chunk is read, and chunks are finished (assembled, profiled, written, counted) in input order once
  // the next one's call has started, when the next one is already read (a reader thread ahead of the model,
  // the usual case for a large input). At most threads.parallel calls are in flight beyond the chunk being
  // finished: one, or one per model thread when chunks are scored in parallel (model/threads.ts).
  type Scoring = { chunk: PreparedChunk; scored?: Promise<Scored> };
  const inFlight: Scoring[] = [];
  const finish = async ({ chunk, scored: call }: Scoring) => {
    if (call) {
      const scored = await call;
      // The feeds' typed arrays went to the model thread and came back with the outputs.
      chunk.feeds.forEach((f, i) => (f.data = scored.feeds[i] ?? f.data));
      const writing = performance.now();
      const result = assemble(chunk, scored.outputs, ctx.plan);
      // Before the feeds go back to the reader for reuse.
      ctx.profile?.add(chunk.feeds, result);
      prepared.recycle(chunk);
      await ctx.writer.write(result);
      threads.observe({ read: chunk.readMs, model: scored.ms, write: performance.now() - writing, rows: chunk.rows });
    }
    await ctx.rejects.add(display, chunk.header, chunk.rejects);
    for (const r of chunk.rejects.slice(0, 3 - firstRejects.length)) firstRejects.push({ ...r, file: display });
    counts.rowsIn += chunk.rowsIn;
    counts.rowsOut += chunk.rows;
    counts.rowsRejected += chunk.rejects.length;
    counts.bytes = prepared.bytes();
    ctx.onProgress?.(counts.rowsIn, counts.bytes);
    checkRejectLimit(ctx.job.errors.maxRejected, counts, ctx, firstRejects, false);
  };
  try {
    // The chunks in flight are finished before the input ends or fails on the read side, as they were before
    // the next chunk was read: the counts of a failed input include them.
    const finishInFlight = async () => {
      for (let first = inFlight.shift(); first; first = inFlight.shift()) await finish(first);
    };
    for (;;) {
      // The chunks in flight are finished, oldest first, while the next one is not there yet (a stream's rows
      // are written as soon as they are scored, not once more rows came), and all of them when their rejects
      // take a count over the limit (the input fails once they are finished, whatever comes after them).
      const rejected = inFlight.reduce((n, s) => n + s.chunk.rejects.length, counts.rowsRejected);
      if (overCount(ctx.job.errors.maxRejected, rejected)) await finishInFlight();
      while (inFlight.length > 0 && !prepared.ready?.()) await finish(inFlight.shift() as Scoring);
      let next: IteratorResult<PreparedChunk>;
      try {
        next = await unlessStopped(chunks.next(), signal && { signal, graceMs: STOP_GRACE_MS, error: stillReading }, `reading ${display}`);
        if (!next.done && signal?.aborted) throw new SbError('INTERRUPTED', 'no partial results were kept');
      } catch (err) {
        if (!readLeft) await finishInFlight();
        throw err;
      }
      if (next.done) break;
      const chunk = next.value;
      const scored = chunk.rows > 0 ? callModel(ctx.model, threads, chunk.feeds, chunk.rows, ctx.runSpec) : undefined;
      // Its failure is met when the chunk is finished (or not at all, once the input failed before it).
      scored?.catch(() => undefined);
      inFlight.push({ chunk, scored });
      if (inFlight.length > threads.parallel) await finish(inFlight.shift() as Scoring);
    }
    await finishInFlight();
    const end = prepared.end();
    counts.bytes = end.bytes;
    counts.sha256 = end.sha256;
    counts.watermark = end.watermark;
    checkRejectLimit(ctx.job.errors.maxRejected, counts, ctx, firstRejects, true);
    const written = ctx.writer.rows - writtenBefore;
    if (counts.rowsIn !== written + counts.rowsRejected) {
      throw new SbError('RECONCILE', `counts do not reconcile: ${counts.rowsIn} rows read, ${written} written, ${counts.rowsRejected} rejected`, { file: display });
    }
    return counts;
  } catch (err) {
    counts.bytes = prepared.bytes();
    throw new InputFailure(err, counts);
  } finally {
    // Calls still in flight (the input failed on a chunk before them) end before the reader and the second
    // session go; they are bounded by the run's stop like every call.
    await Promise.all(inFlight.map((s) => s.scored?.catch(() => undefined)));
    // The second session goes whatever happens (a model thread left inside a call refuses, and keeps it).
    const release = () => threads.release().catch(() => undefined);
    // A read that never came back cannot be stopped either: closing would wait for it.
    if (readLeft) void prepared.close().catch(() => undefined).finally(release);
    else await prepared.close().finally(release);
  }
}

// A large input: read by several reader threads when it can be (pieces.ts), else by one.
async function prepareLarge(spec: PrepareSpec, format: TextFormat, bytes: number, ctx: ScoreContext): Promise<Prepared> {
  // --limit reads the first rows only; a shard's piece is already a part of the file.
  if (ctx.piece || ctx.limit !== undefined) return prepareInWorker(spec);
  const configured = ctx.job.input.readers;
  const cost = () => (configured === undefined ? modelCost(ctx.model, ctx.plan, ctx.runSpec) : Promise.resolve(undefined));
  if (format === 'parquet') {
    // The model is timed only for a file with row groups to share.
    const readers = async (rows: number, groups: number) => parquetReaderCount(rows, spec.plan.needs.length, groups, await cost(), configured);
    const share = await planRowGroups(spec, readers).catch(() => 'the file could not be planned');
    return typeof share === 'string' ? prepareInWorker(spec) : prepareInRowGroups(spec, share);
  }
  if (!splittable(format)) return prepareInWorker(spec);
  // The model is timed only for a file that can be cut (not gzip data, nor a header line with a quote), and
  // only when its cost can change the count: untimed, the count is the most readers the cores and size allow.
  const count = async (lineBytes: number) => {
    const most = readerCount(bytes, lineBytes, undefined, configured);
    return most > 1 ? readerCount(bytes, lineBytes, await cost(), configured) : most;
  };
  const plan = await planPieces(spec, bytes, count).catch(() => 'the file could not be planned');
  return typeof plan === 'string' ? prepareInWorker(spec) : prepareInPieces(spec, plan.pieces, prepareInWorker, plan.readers, plan.ahead);
}

// Above the limit: a count fails after the chunk that exceeded it, a percentage once all rows are known.
function checkRejectLimit(limit: RejectLimit, counts: InputCounts, ctx: ScoreContext, first: (Reject & { file: string })[], final: boolean): void {
  const n = counts.rowsRejected;
  const over = limit.kind === 'count' ? overCount(limit, n) : final && n > (limit.percent / 100) * counts.rowsIn;
  if (!over) return;
  const allowed = limit.kind === 'count' ? String(limit.count) : `${limit.percent}% = ${Math.floor((limit.percent / 100) * counts.rowsIn)} rows`;
  const where = ctx.rejects.target ? `; all rejects in ${ctx.rejects.target}` : '; set errors.rejects to keep them';
  const seen = final ? `${n} of ${counted(counts.rowsIn, 'row')}` : `${counted(n, 'row')} (reading stopped)`;
  throw new SbError('REJECT_LIMIT', `too many rejected rows: ${seen}, errors.max_rejected is ${allowed}; first: ${describeRejects(first)}${where}`);
}

// Whether `rejected` rows are more than a count limit allows (a percentage is known only at the end).
function overCount(limit: RejectLimit, rejected: number): boolean {
  return limit.kind === 'count' && rejected > limit.count;
}

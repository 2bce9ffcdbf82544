// ONNX Runtime's threads while a reader thread parses the input (large inputs, pipeline/prepare.ts).
//
// ONNX Runtime's default is one intra-op thread per core. With the reader thread on one of those cores, that
// oversubscribes them: for a model about as quick as parsing, its second thread only takes turns with the
// reader, which is then the slower half and slows down further. For a model clearly slower than parsing,
// the second thread runs while the reader waits for room, and pays. So a large input starts on a second
// session with one thread fewer than cores, times a few chunks, and goes back to the model's own session
// (all cores) when the model and the writing — this thread's share of a chunk — take more than MARGIN × the
// reader's time for a chunk. While timing, it also tries calls of SLICE rows against whole-chunk calls
// and keeps the quicker (an MLP's activations for 1024 rows stay in the CPU's caches).
// Measured on the 2-core bench machine, chunks of 8192 rows of 30 floats, (model + writing) ÷ reading on one
// thread: mlp 0.7–1.2, gbr ~0.9, rf 1.5–2.4. One thread made the mlp run ~15% faster end to end, and rf's
// ~20% slower (`npm run bench`, README "Performance").
// Every choice is checked bit for bit on the first chunk it is tried on (ChunkCall.check): results never
// depend on timings.
// The model's own session serves throughout with model.threads set, on one core, and for models above
// MAX_COPY_BYTES: a second session holds a second copy of the model.
import os from 'node:os';
import type * as ort from 'onnxruntime-node';
import type { Feed } from '../pipeline/featurize.js';
import { runModel, sameOutputs, type Outputs, type RunSpec } from './runner.js';
import type { LoadedModel } from './session.js';

/** Chunks run before timing starts (the JIT and ONNX Runtime's allocator settle), then chunks timed with
 *  whole-chunk calls, then chunks timed with calls of SLICE rows. */
const SETTLE = 2;
const WHOLE = 4;
const SLICED = 4;
/** Rows per call tried against whole chunks: few enough for a layer's activations to stay in the CPU's caches
 *  (1024 rows × 256 floats = 1 MB); kept when ≥ 5% quicker a row. */
const SLICE = 1024;
/** Rows the thread check runs on both sessions. */
const CHECK_ROWS = 1024;
/** The model's side must be this much slower than reading before the reader's core is shared. */
const MARGIN = 1.5;
/** Models up to this size get the second session: the bench's rf (a 1.9 MB file of 100 trees) peaked ~20 MB
 *  higher with two, its mlp (0.3 MB) ~2 MB. */
const MAX_COPY_BYTES = 1024 * 1024;

export interface ChunkTimes {
  /** The reader thread's time for the chunk (ms); undefined when it did not say. */
  read?: number;
  model: number;
  write: number;
  rows: number;
  /** Every output had the chunk's rows as its first dimension (so calls on slices can be stacked). */
  batchFirst: boolean;
}

export interface CallSpec {
  session: ort.InferenceSession;
  /** Rows per model call; undefined: all rows in one call. */
  slice?: number;
}

export interface ChunkCall extends CallSpec {
  /** The first chunk a choice is tried on is also checked (untimed): `a` (undefined: this chunk's call) and
   *  `b` on the first `rows` rows (undefined: all). A choice is kept only when both give the same outputs bit
   *  for bit, so that no choice made from timings can change a result; otherwise the chunk takes `b`'s. */
  check?: { a?: CallSpec; b: CallSpec; rows?: number };
}

export interface ModelThreads {
  /** How to call the model on the next chunk. */
  next(): Promise<ChunkCall>;
  /** Whether the two calls of next()'s check gave the same outputs. */
  compared(same: boolean): void;
  /** A chunk's times (model: the call from next(), not the comparison); decides once enough chunks were timed. */
  observe(t: ChunkTimes): void;
  release(): Promise<void>;
}

// The sessions for one input. `readerThread`: the input is parsed in a reader thread.
export function modelThreads(model: LoadedModel, readerThread: boolean, cores = os.availableParallelism()): ModelThreads {
  if (!readerThread || model.threads !== undefined || cores < 2 || model.bytes > MAX_COPY_BYTES) {
    return { next: async () => ({ session: model.session }), compared: () => undefined, observe: () => undefined, release: async () => undefined };
  }
  // Created while the reader thread starts; should ONNX Runtime refuse a second session, the model's own serves.
  let fewer: Promise<ort.InferenceSession | undefined> | undefined = model.withThreads(cores - 1).catch(() => undefined);
  let seen = 0;
  let decided = false;
  let sliceable = true;
  let chosen: number | undefined;
  let checking: 'threads' | 'slice' | undefined;
  const sum = { read: 0, write: 0, wholeMs: 0, wholeRows: 0, slicedMs: 0, slicedRows: 0 };
  const release = async () => {
    const s = fewer;
    fewer = undefined; // from now on the model's own session serves
    await (await s)?.release();
  };
  const decide = () => {
    decided = true;
    const whole = sum.wholeMs / sum.wholeRows;
    const sliced = sliceable && sum.slicedRows > 0 ? sum.slicedMs / sum.slicedRows : Infinity;
    if (sliced < 0.95 * whole) chosen = SLICE;
    const work = Math.min(whole, sliced) * (sum.wholeRows + sum.slicedRows) + sum.write;
    if (work > MARGIN * sum.read) void release().catch(() => undefined);
  };
  return {
    async next() {
      const session = (fewer && (await fewer)) ?? model.session;
      const slice = decided ? chosen : sliceable && seen >= SETTLE + WHOLE ? SLICE : undefined;
      checking = undefined;
      if (decided) return { session, slice };
      if (seen === SETTLE && session !== model.session) {
        // On CHECK_ROWS rows, so that the model's own session does not grow its memory to a whole chunk.
        checking = 'threads';
        return { session, check: { a: { session }, b: { session: model.session }, rows: CHECK_ROWS } };
      }
      if (seen === SETTLE + WHOLE && slice !== undefined) {
        checking = 'slice';
        return { session, slice, check: { b: { session } } };
      }
      return { session, slice };
    },
    compared(same) {
      if (same) return;
      if (checking === 'threads') void release().catch(() => undefined);
      if (checking === 'slice') sliceable = false;
    },
    observe(t) {
      if (decided) return;
      sliceable &&= t.batchFirst;
      if (++seen <= SETTLE) return;
      if (t.read === undefined || t.rows === 0) {
        decided = true; // nothing to compare: keep what it has
        return;
      }
      sum.read += t.read;
      sum.write += t.write;
      if (seen <= SETTLE + WHOLE) {
        sum.wholeMs += t.model;
        sum.wholeRows += t.rows;
      } else {
        sum.slicedMs += t.model;
        sum.slicedRows += t.rows;
      }
      if (seen === SETTLE + WHOLE + SLICED) decide();
    },
    release,
  };
}

// Score one chunk as `threads` says, with the check it asks for; `ms` is the time of the chosen call alone.
export async function callModel(threads: ModelThreads, feeds: Feed[], rows: number, spec: RunSpec): Promise<{ outputs: Outputs; ms: number }> {
  const call = await threads.next();
  const started = performance.now();
  let outputs = await runModel(call.session, feeds, rows, { ...spec, slice: call.slice });
  const ms = performance.now() - started;
  const check = call.check;
  if (check) {
    const n = Math.min(check.rows ?? rows, rows);
    const a = check.a ? await runModel(check.a.session, feeds, n, { ...spec, slice: check.a.slice }) : outputs;
    const b = await runModel(check.b.session, feeds, n, { ...spec, slice: check.b.slice });
    const same = sameOutputs(a, b);
    threads.compared(same);
    if (!same) outputs = n === rows ? b : await runModel(check.b.session, feeds, rows, { ...spec, slice: check.b.slice });
  }
  return { outputs, ms };
}

// ONNX Runtime's threads for one input: while a reader thread parses it (large inputs, standard input:
// pipeline/prepare.ts), and, for a small tree ensemble, also while this thread parses it.
//
// ONNX Runtime's default is one intra-op thread per core. With the reader thread on one of those cores, that
// oversubscribes them: for a model about as quick as parsing, its second thread only takes turns with the
// reader, which is then the slower half and slows down further. For a model clearly slower than parsing,
// the second thread runs while the reader waits for room, and pays. So a large input starts on a second
// session with one thread fewer than cores, times a few chunks, and goes back to the model's own session
// (all cores) when the model and the writing take more than MARGIN × the reader's time for a chunk.
// Measured on the 2-core bench machine, chunks of 8192 rows of 30 floats, (model + writing) ÷ reading on one
// thread: mlp 0.7–1.2, gbr ~0.9, rf 1.5–2.4. One thread made the mlp run ~5% faster end to end (~15% before
// the model ran beside the writer), and the rf ~10% slower (README "Performance").
// The choice is checked bit for bit on the first chunk scored with it, before any of its outputs are kept: a
// chunk scored on a session whose outputs were never compared with the own session's would make results
// depend on the file's size and the batch size (tree ensembles differ on every row between 1 and 2 threads).
// The model's own session serves throughout with model.threads set, on one core, and for models above
// MAX_COPY_BYTES (session.ts): a second session holds a second copy of the model.
// A small tree ensemble (session.ts, MAX_TREE_COPY_BYTES) is different: every session of it has one thread,
// whose outputs are the same whatever the machine's cores, and the cores are used by more model threads, each
// with a copy of the session: a large input's chunks are scored in parallel, one chunk per thread; an input
// read on this thread (scored one chunk at a time) has each chunk's calls shared among them.
import os from 'node:os';
import type { ModelThread } from './model-thread.js';
import type { Scored } from './model-worker.js';
import type { LoadedModel, ModelCopies } from './session.js';
import { CALL_ROWS, callRows, concatRows, rowsOf, type NamedTensor, type RunSpec } from './tensors.js';

/** Chunks run before timing starts (the JIT and ONNX Runtime's allocator settle), then chunks timed. */
const SETTLE = 2;
const TIMED = 4;
/** Rows the thread check runs on both sessions: one call. */
const CHECK_ROWS = CALL_ROWS;
/** The model's side must be this much slower than reading before the reader's core is shared. */
const MARGIN = 1.5;
/** Model threads at most that score one input's chunks at once (each holds a copy of the model, and a chunk). */
const MAX_CALL_THREADS = 8;

export interface ChunkTimes {
  /** The reader thread's time for the chunk (ms); undefined when it did not say. */
  read?: number;
  model: number;
  write: number;
  rows: number;
}

interface ChunkCall {
  session: 'own' | 'fewer';
  /** The first chunk on fewer threads is also scored on the own session (its first `rows` rows); the
   *  choice is kept only when both give the same outputs bit for bit, otherwise the chunk takes the own
   *  session's. */
  check?: { rows: number };
  /** The model thread that makes the call: a copy's, for calls in parallel; absent: the model's own thread. */
  thread?: ModelThread;
  /** The model threads that share the chunk's calls (scoreShared), when there are more than one. */
  share?: ModelThread[];
}

export interface ModelThreads {
  /** Calls that may be in flight at once, one per model thread: the run keeps that many chunks scoring. */
  readonly parallel: number;
  /** How to call the model on the next chunk, of `calls` model calls (tensors.ts, callRows). */
  next(calls?: number): Promise<ChunkCall>;
  /** The call next() gave was answered, or failed. */
  answered(call: ChunkCall): void;
  /** Whether the two calls of next()'s check gave the same outputs. */
  compared(same: boolean): void;
  /** A chunk's times (model: the call from next(), not the comparison); decides once enough chunks were timed. */
  observe(t: ChunkTimes): void;
  release(): Promise<void>;
}

// The sessions for one input. `readerThread`: the input is parsed in a reader thread.
export function modelThreads(model: LoadedModel, readerThread: boolean, cores = os.availableParallelism()): ModelThreads {
  if (model.copies && cores >= 2) {
    const pool = copyPool(model, model.copies, Math.min(cores, MAX_CALL_THREADS));
    return readerThread ? parallelCalls(pool) : sharedCalls(pool);
  }
  if (!readerThread || !model.copyable || cores < 2) {
    return { parallel: 1, next: async () => ({ session: 'own' }), answered: () => undefined, compared: () => undefined, observe: () => undefined, release: async () => undefined };
  }
  // Opened while the reader thread starts; should ONNX Runtime refuse a second session, the own one serves.
  let fewer: Promise<boolean> | undefined = model.thread.openFewer(cores - 1).catch(() => false);
  let seen = 0;
  let decided = false;
  let checked = false;
  /** Settled once the check's answer is in: calls asked for meanwhile wait for it (the run asks for the next
   *  chunk's call before the previous one is answered). */
  let checking: Promise<void> | undefined;
  let checkAnswered = () => {};
  const sum = { read: 0, work: 0 };
  const release = async () => {
    const opened = fewer;
    fewer = undefined; // from now on the own session serves
    if (await opened) await model.thread.closeFewer();
  };
  return {
    parallel: 1,
    async next() {
      let session: 'own' | 'fewer';
      // A check given out while this call waited for the second session is waited for too (two calls may wait
      // for it to open: the first one read, and the next one, asked for before the first is answered).
      for (let waited = checking; ; waited = checking) {
        await waited;
        session = fewer && (await fewer) ? 'fewer' : 'own';
        if (checking === waited) break;
      }
      if (session === 'fewer' && !checked) {
        checked = true;
        checking = new Promise<void>((resolve) => (checkAnswered = resolve));
        return { session, check: { rows: CHECK_ROWS } };
      }
      return { session };
    },
    answered: () => undefined,
    compared(same) {
      // release() gives the own session back at once, before a call waiting for this answer is given one.
      if (!same) void release().catch(() => undefined);
      checkAnswered();
    },
    observe(t) {
      if (decided || ++seen <= SETTLE) return;
      if (t.read === undefined || t.rows === 0) {
        decided = true; // nothing to compare: keep what it has
        return;
      }
      sum.read += t.read;
      sum.work += t.model + t.write;
      if (seen < SETTLE + TIMED) return;
      decided = true;
      if (sum.work > MARGIN * sum.read) void release().catch(() => undefined);
    },
    release,
  };
}

/** The model's own thread and the copies loaded so far, of at most `count` threads in all. */
interface CopyPool {
  readonly ready: ModelThread[];
  /** Whether another copy may start: fewer than `count` threads, and none loading. */
  canStart(): boolean;
  start(): void;
}

function copyPool(model: LoadedModel, copies: ModelCopies, count: number): CopyPool {
  const ready: ModelThread[] = [model.thread];
  let started = 0;
  let loading = false;
  return {
    ready,
    canStart: () => !loading && started < count - 1,
    start() {
      loading = true;
      const loaded = copies.take(++started)[started - 1];
      // A copy that cannot be loaded is not used (nor another started): the others serve.
      loaded.then(
        (t) => {
          ready.push(t);
          loading = false;
        },
        () => undefined,
      );
    },
  };
}

// The pool's threads, each scoring one chunk at a time: a call goes to the thread with the fewest calls in
// flight (the own one on a tie), among those whose copy is loaded. The first copy starts with the input (it
// loads while the reader thread starts); each further one only when every loaded thread has a call in flight
// and no copy is loading, so a short input starts one copy at most, and a model quicker than reading few.
// Every session is the same model on one thread, so which thread scores a chunk never changes its outputs.
function parallelCalls(pool: CopyPool): ModelThreads {
  const { ready } = pool;
  const inFlight = new Map<ModelThread, number>();
  const calls = (t: ModelThread) => inFlight.get(t) ?? 0;
  pool.start();
  return {
    // One call in flight per loaded thread: chunks are not queued for a copy that is not there yet.
    get parallel() {
      return ready.length;
    },
    async next() {
      if (pool.canStart() && ready.every((t) => calls(t) > 0)) pool.start();
      const thread = ready.reduce((best, t) => (calls(t) < calls(best) ? t : best));
      inFlight.set(thread, calls(thread) + 1);
      return { session: 'own', thread };
    },
    answered(call) {
      if (call.thread) inFlight.set(call.thread, calls(call.thread) - 1);
    },
    compared: () => undefined,
    observe: () => undefined,
    // The copies are kept for the job's next input, and stopped with the model.
    release: async () => undefined,
  };
}

// The pool's threads sharing each chunk's calls, for an input read on this thread: it is scored one chunk at
// a time, and this thread waits for the call, so the cores are the model's. A copy starts when a chunk has more
// calls than there are loaded threads, none loading, but not on the first chunk (an input of one chunk could
// not use it, and its end would wait for the copy to load).
function sharedCalls(pool: CopyPool): ModelThreads {
  const { ready } = pool;
  let chunks = 0;
  return {
    parallel: 1,
    async next(calls = 1) {
      if (chunks++ > 0 && pool.canStart() && calls > ready.length) pool.start();
      return ready.length > 1 ? { session: 'own', share: [...ready] } : { session: 'own' };
    },
    answered: () => undefined,
    compared: () => undefined,
    observe: () => undefined,
    release: async () => undefined,
  };
}

// Score one chunk as `threads` says, with the check it asks for.
export async function callModel(model: LoadedModel, threads: ModelThreads, feeds: NamedTensor[], rows: number, spec: RunSpec): Promise<Scored> {
  const call = await threads.next(Math.ceil(rows / callRows(spec)));
  let scored: Scored;
  try {
    scored = call.share ? await scoreShared(call.share, feeds, rows, spec) : await (call.thread ?? model.thread).score(feeds, rows, spec, call.session, call.check);
  } catch (err) {
    // A failed check counts as outputs that differ: calls waiting for its answer go to the own session.
    if (call.check) threads.compared(false);
    throw err;
  } finally {
    threads.answered(call);
  }
  if (scored.same !== undefined) threads.compared(scored.same);
  return scored;
}

// One chunk's calls shared among threads, in runs of whole calls (callRows each), so that every row is scored
// in the call it would have on one thread: the first thread scores the chunk's first run on its own arrays
// (they come back with its outputs), each other one a copy of its run's rows. The outputs are put back
// together in row order; a run that fails fails the chunk, once every run has come back.
async function scoreShared(threads: ModelThread[], feeds: NamedTensor[], rows: number, spec: RunSpec): Promise<Scored> {
  const size = callRows(spec);
  const calls = Math.ceil(rows / size);
  const used = Math.min(threads.length, calls);
  const start = (i: number) => Math.min(rows, Math.floor((calls * i) / used) * size);
  // Copied before the first call moves the chunk's arrays to its thread.
  const inputs = threads.slice(0, used).map((_, i) => (i === 0 ? feeds : feeds.map((f) => rowsOf(f, start(i), start(i + 1)))));
  const runs = inputs.map((part, i) => threads[i].score(part, start(i + 1) - start(i), spec));
  const settled = await Promise.allSettled(runs);
  const parts = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  return {
    outputs: Object.fromEntries(spec.fetch.map((name) => [name, concatRows(parts.map((p) => p.outputs[name]))])),
    ms: Math.max(...parts.map((p) => p.ms)),
    feeds: parts[0].feeds,
  };
}

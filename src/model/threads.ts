// ONNX Runtime's threads while a reader thread parses the input (large inputs, pipeline/prepare.ts).
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
// whose outputs are the same whatever the machine's cores, and a large input is scored by more model threads
// at once, each with a copy of the session, one chunk each: parallel calls instead of threads within a call.
import os from 'node:os';
import type { ModelThread } from './model-thread.js';
import type { Scored } from './model-worker.js';
import type { LoadedModel, ModelCopies } from './session.js';
import { CALL_ROWS, type NamedTensor, type RunSpec } from './tensors.js';

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
}

export interface ModelThreads {
  /** Calls that may be in flight at once, one per model thread: the run keeps that many chunks scoring. */
  readonly parallel: number;
  /** How to call the model on the next chunk. */
  next(): Promise<ChunkCall>;
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
  if (readerThread && model.copies && cores >= 2) return parallelCalls(model, model.copies, Math.min(cores, MAX_CALL_THREADS));
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

// Up to `count` model threads, the own one and copies, each scoring one chunk at a time: a call goes to the
// thread with the fewest calls in flight (the own one on a tie), among those whose copy is loaded. The first
// copy starts with the input (it loads while the reader thread starts); each further one only when every
// loaded thread has a call in flight and no copy is loading, so a short input starts one copy at most, and
// a model quicker than reading few. Every session is the same model on one thread, so which thread scores a
// chunk never changes its outputs.
function parallelCalls(model: LoadedModel, copies: ModelCopies, count: number): ModelThreads {
  const ready: ModelThread[] = [model.thread];
  let started = 0;
  let loading = false;
  const inFlight = new Map<ModelThread, number>();
  const calls = (t: ModelThread) => inFlight.get(t) ?? 0;
  const more = () => {
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
  };
  more();
  return {
    // One call in flight per loaded thread: chunks are not queued for a copy that is not there yet.
    get parallel() {
      return ready.length;
    },
    async next() {
      if (!loading && started < count - 1 && ready.every((t) => calls(t) > 0)) more();
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

// Score one chunk as `threads` says, with the check it asks for.
export async function callModel(model: LoadedModel, threads: ModelThreads, feeds: NamedTensor[], rows: number, spec: RunSpec): Promise<Scored> {
  const call = await threads.next();
  let scored: Scored;
  try {
    scored = await (call.thread ?? model.thread).score(feeds, rows, spec, call.session, call.check);
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

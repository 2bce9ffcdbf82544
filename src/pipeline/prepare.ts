// The reading half of an input's run: bytes → chunks → model feeds, with every reject (reader and
// featurizer) and the passthrough cells of the kept rows. Pure data in and out, so it runs either here or in
// a worker thread (prepare-worker.ts) while this thread runs the model and writes results: parsing is the
// largest cost of a run (see README "Performance"), so overlapping it with the rest is what pays.
import { SbError, type ErrorCode, type ErrorContext } from '../errors.js';
import { openTableReader, type PieceSpec, type ReaderEnd, type ReaderSpec } from '../io/table-reader.js';
import type { Reject, SourceChunk } from '../table/chunk.js';
import { selectPacked, type PackedText } from '../table/packed.js';
import { featurize, FeedPool, type Feed } from './featurize.js';
import type { RunPlan } from './plan.js';
import { takeReaderThread } from './reader-thread.js';
import { readsStdin, relayStdin, type RelayTaken } from './stdin-relay.js';
import type { ByteSource } from '../storage/source.js';
import type { StorageSettings } from '../storage/scope.js';

export interface PreparedChunk {
  /** Data rows read (accepted by the reader + rejected by it). */
  rowsIn: number;
  /** Rows fed to the model. */
  rows: number;
  feeds: Feed[];
  /** One packed column per passthrough column, kept rows only. */
  passthrough: PackedText[];
  /** Reader and featurizer rejects, in line order. */
  rejects: Reject[];
  header: string[];
  /** Set by the reader thread: the time it took to read and featurize this chunk (ms). */
  readMs?: number;
  /** Where the rows and rejects fall among the rows the reader accepted (pieces.ts cuts chunks by it). */
  grid: ChunkGrid;
  /** Only in a reader of several pieces (PrepareSpec.pieces): a chunk of no rows after each piece's chunks,
   *  saying how that piece ended. */
  pieceEnd?: PrepareEnd;
}

/** A chunk's rows in the order the reader met them: `accepted` rows (the featurizer keeps those not in its
 *  rejects), each reject placed before accepted row `at[i]` (a reader's reject: a row it could not split) or
 *  on it (the featurizer's: a cell the model input cannot take). */
export interface ChunkGrid {
  accepted: number;
  at: Uint32Array;
  /** 1: the reader's reject; 0: the featurizer's. */
  fromReader: Uint8Array;
  /** Accepted row of each kept row; undefined: every accepted row is kept. */
  keep?: Uint32Array;
}

/** The input to read (its reader's spec, the columns it needs taken from `plan`) and how to featurize it. */
export interface PrepareSpec extends Omit<ReaderSpec, 'needs'> {
  plan: Pick<RunPlan, 'needs' | 'tensors' | 'passthrough'>;
  /** Text: pieces of the file read one after another, each as `piece` is (pieces.ts), each followed by a
   *  chunk of no rows with its `pieceEnd`. */
  pieces?: PieceSpec[];
  /** The job's storage settings: a reader thread opens its own store client with them. */
  storage?: StorageSettings;
}

/** What the whole input came to, once every chunk was read. */
export interface PrepareEnd extends ReaderEnd {
  /** A query read by watermark: the largest value read. */
  watermark?: string;
  /** Pieces whose rows were used (pieces.ts). */
  readers?: number;
}

export interface Prepared {
  chunks: AsyncIterable<PreparedChunk>;
  /** Bytes read so far. */
  bytes(): number;
  /** Valid after the chunks are exhausted. */
  end(): PrepareEnd;
  /** Stop early (errors, interruption) and release the reader. */
  close(): Promise<void>;
  /** The consumer is done with a chunk's feeds (the model has run): their buffers may be reused. */
  recycle(chunk: PreparedChunk): void;
  /** Whether the next chunk (or the end) can be taken without waiting for the input: a reader thread has it
   *  queued, or the input is a file read by several. Absent: unknown (read in this thread, on demand). */
  ready?(): boolean;
}

// Each reject's place among the accepted rows of `chunk` (their lines ascend: a row starts on a line of its own).
function gridOf(chunk: SourceChunk, rejects: Reject[], keep: Uint32Array | undefined): ChunkGrid {
  const at = new Uint32Array(rejects.length);
  const fromReader = new Uint8Array(rejects.length);
  rejects.forEach((r, i) => {
    const lo = lowerBound(chunk.lines, r.line, chunk.rows);
    at[i] = lo;
    fromReader[i] = lo < chunk.rows && chunk.lines[lo] === r.line ? 0 : 1;
  });
  return { accepted: chunk.rows, at, fromReader, keep };
}

// The first index below `end` of sorted `xs` whose value is not below `x` (`end` if none).
export function lowerBound(xs: ArrayLike<number>, x: number, end = xs.length): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Read, parse and featurize in this thread (`source`: the input's bytes come from there, not from its path).
export function prepareHere(spec: PrepareSpec, pool = new FeedPool(), source?: ByteSource): Prepared {
  if (spec.pieces) return prepareSeries(spec, spec.pieces, pool);
  const reader = openTableReader({ ...spec, needs: spec.plan.needs }, source);
  async function* prepared(): AsyncGenerator<PreparedChunk> {
    for await (const chunk of reader.chunks) {
      const f = featurize(chunk, spec.plan as RunPlan, pool);
      const passthrough = spec.plan.passthrough.map((name) => selectPacked(chunk.packed.get(name) as PackedText, f.keep));
      const rejects = chunk.rejects.length === 0 ? f.rejects : f.rejects.length === 0 ? chunk.rejects : [...chunk.rejects, ...f.rejects].sort((a, b) => a.line - b.line);
      const grid = gridOf(chunk, rejects, f.keep);
      chunk.release?.();
      yield { rowsIn: chunk.rows + chunk.rejects.length, rows: f.rows, feeds: f.feeds, passthrough, rejects, header: chunk.header, grid };
    }
  }
  const it = prepared();
  return {
    chunks: it,
    bytes: () => reader.bytes(),
    end: () => reader.end(),
    close: async () => {
      await it.return(undefined);
    },
    recycle: (chunk) => {
      for (const f of chunk.feeds) pool.give(f.data);
    },
  };
}

// `pieces` read one after another, each followed by a chunk of no rows with its end. A piece whose reader
// read on past its end (spilled) does not end the series: whether the next pieces are used is for the
// consumer to say (pieces.ts), which knows which readers started at a record start (this one may not have);
// it stops the readers once no later piece can be used.
function prepareSeries(spec: PrepareSpec, pieces: PieceSpec[], pool: FeedPool): Prepared {
  let current: Prepared | undefined;
  let before = 0;
  let last: PrepareEnd = { bytes: 0 };
  async function* all(): AsyncGenerator<PreparedChunk> {
    for (const piece of pieces) {
      current = prepareHere({ ...spec, pieces: undefined, piece }, pool);
      yield* current.chunks;
      last = current.end();
      before += last.bytes;
      current = undefined;
      const grid = { accepted: 0, at: new Uint32Array(0), fromReader: new Uint8Array(0) };
      yield { rowsIn: 0, rows: 0, feeds: [], passthrough: [], rejects: [], header: [], grid, pieceEnd: last };
    }
  }
  const it = all();
  return {
    chunks: it,
    bytes: () => before + (current?.bytes() ?? 0),
    end: () => last,
    close: async () => {
      await it.return(undefined);
    },
    recycle: (chunk) => {
      for (const f of chunk.feeds) pool.give(f.data);
    },
  };
}

/** Chunks the worker may run ahead of the consumer. */
export const AHEAD = 3;

type FromWorker =
  | RelayTaken
  | { kind: 'chunk'; chunk: PreparedChunk; bytes: number }
  | { kind: 'end'; end: PrepareEnd }
  | { kind: 'error'; error: { code?: ErrorCode; message: string; context?: ErrorContext; stack?: string } };

// Read, parse and featurize in a worker thread, at most `ahead` chunks ahead of the consumer. Standard input
// is read here and its bytes relayed to the worker (stdin-relay.ts).
export function prepareInWorker(spec: PrepareSpec, ahead = AHEAD): Prepared {
  const worker = takeReaderThread();
  const queue: Exclude<FromWorker, RelayTaken>[] = [];
  let wake: (() => void) | undefined;
  let bytes = 0;
  let end: PrepareEnd | undefined;
  let exited = false;
  let relay: ReturnType<typeof relayStdin> | undefined;
  const push = (m: FromWorker) => {
    if (m.kind === 'stdin-taken') return relay?.taken(m.buffer);
    queue.push(m);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ kind: 'error', error: { message: err.message, stack: err.stack } }));
  worker.on('exit', () => {
    exited = true;
    wake?.();
  });
  async function* prepared(): AsyncGenerator<PreparedChunk> {
    try {
      for (;;) {
        while (queue.length === 0) {
          if (exited) throw new Error('the reader thread stopped unexpectedly');
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        const m = queue.shift() as (typeof queue)[number];
        if (m.kind === 'end') {
          end = m.end;
          return;
        }
        if (m.kind === 'error') {
          if (m.error.code) throw new SbError(m.error.code, m.error.message, m.error.context);
          const e = new Error(m.error.message);
          e.stack = m.error.stack;
          throw e;
        }
        bytes = m.bytes;
        worker.postMessage('next');
        yield m.chunk;
      }
    } finally {
      relay?.stop();
      await worker.terminate();
    }
  }
  try {
    worker.postMessage({ start: spec });
    for (let i = 0; i < ahead; i++) worker.postMessage('next');
  } catch (err) {
    void worker.terminate();
    throw err;
  }
  if (readsStdin(spec)) relay = relayStdin(spec.display, worker, (error) => push({ kind: 'error', error }));
  const it = prepared();
  return {
    chunks: it,
    bytes: () => bytes,
    end: () => end ?? { bytes },
    close: async () => {
      relay?.stop();
      // The thread first: a read it waits on (standard input that stopped coming) would hold `it` inside it.
      await worker.terminate();
      await it.return(undefined);
    },
    ready: () => queue.length > 0 || exited,
    recycle: (chunk) => {
      const buffers = chunk.feeds.flatMap((f) => (f.data instanceof Float32Array || f.data instanceof Float64Array ? [f.data] : []));
      if (buffers.length > 0 && !exited) worker.postMessage({ recycle: buffers }, buffers.map((b) => b.buffer as ArrayBuffer));
    },
  };
}

// Transferable buffers of a chunk (typed-array feeds, packed texts), so posting it moves them.
export function transferList(chunk: PreparedChunk): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (a: ArrayBufferView) => {
    if (a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  };
  for (const f of chunk.feeds) if (!Array.isArray(f.data)) add(f.data);
  for (const p of chunk.passthrough) {
    add(p.bytes);
    add(p.offsets);
  }
  return out;
}

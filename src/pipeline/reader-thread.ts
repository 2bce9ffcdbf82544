// The reader thread (prepare-worker.ts): spawned on demand, or ahead of time ("warm") by a command that
// knows a large input is coming. A worker thread takes ~0.2 s to start and load its modules; started while
// this thread is still loading ONNX Runtime and the model, that time is no longer spent waiting for the
// first chunk. Light on purpose (no reader modules): the CLI loads it before the rest of a run.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

// The worker's script: next to this file in the build; tests that run the TypeScript sources use the build.
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'prepare-worker.js');
  const built = path.resolve(path.dirname(here), '../../dist/src/pipeline/prepare-worker.js');
  if (!existsSync(built)) throw new Error(`the worker needs the build (${built}): run npm run build`);
  return built;
}

// The worker's young generation. A chunk's cell texts live until the chunk is packed; with 4 MB they outlived
// the young generation, were promoted, and the old generation swung by ~20 MB between collections, so a 10M-row
// run peaked ~13% above a 1M-row one. With 8 MB they die young: 10M rows peak within ~5% of 1M rows
// (`npm run bench`, flat memory), for ~6 MB more at every size.
const WORKER_YOUNG_MB = 8;

/** Inputs at least this big are read in a reader thread, in parallel with the model and the writer. */
export const WORKER_MIN_BYTES = 8 * 1024 * 1024;

// Whether an input file is read in a reader thread: one of at least WORKER_MIN_BYTES, or standard input (its
// size is unknown until it ends), unless only its first rows are read (--limit).
export function readsInThread(file: string, bytes: number | undefined, limit: number | undefined): boolean {
  return file === '-' ? limit === undefined : (bytes ?? 0) >= WORKER_MIN_BYTES;
}

let warm: Worker | undefined;
let warmExited = false;

/** A reader thread waiting for its input (a `{ start: PrepareSpec }` message): the warm one, or a new one. */
export function takeReaderThread(): Worker {
  // A warm thread that already stopped (it could not start) is replaced: its events are past.
  const w = warm && !warmExited ? warm : spawn();
  warm = undefined;
  w.ref();
  return w;
}

/** Start a reader thread now for the next takeReaderThread() (it does not keep the process alive). */
export function warmReaderThread(): Worker {
  if (warm && !warmExited) return warm;
  const w = spawn();
  warm = w;
  warmExited = false;
  w.unref();
  // 'exit' comes a turn after 'error': a thread that failed is not handed out in between.
  const stopped = () => {
    if (warm === w) warmExited = true;
  };
  w.once('error', stopped);
  w.once('exit', stopped);
  return w;
}

/** Stop the warm reader thread if nothing took it. */
export async function dropWarmReaderThread(): Promise<void> {
  const w = warm;
  warm = undefined;
  await w?.terminate();
}

function spawn(): Worker {
  const w = new Worker(workerFile(), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
  // An error of a thread nobody took yet is not the run's: the run that takes a thread listens from then on.
  w.on('error', () => undefined);
  return w;
}

// Before a run loads its modules, ONNX Runtime and its model (~0.3 s): start the model thread, which loads
// ONNX Runtime meanwhile (model/model-thread.ts); and if one of the inputs is large enough to be read in a
// reader thread, start that thread too, so that it is ready when the first input opens instead of taking its
// own ~0.2 s then (pipeline/reader-thread.ts). A guess from a listing of the inputs: a wrong guess costs an
// idle thread, dropped after the run; errors are left to the run, which reports them.
import { resolveInputs } from '../io/inputs.js';
import { isLocal } from '../storage/backends.js';
import { resolveJobPath, type JobConfig } from '../job/config.js';
import { dropWarmModelThread, warmModelThread } from '../model/model-thread.js';
import { dropWarmReaderThread, warmReaderThread, WORKER_MIN_BYTES } from '../pipeline/reader-thread.js';

export async function warmUp(job: JobConfig, o: { input?: string; dryRun?: boolean }): Promise<void> {
  warmModelThread();
  if (o.dryRun || o.input === '-') return;
  const patterns = o.input ? [resolveJobPath(process.cwd(), o.input)] : job.input.patterns;
  // Objects are listed once, by the run: a listing costs requests. Their reader thread starts then.
  if (!patterns.every(isLocal)) return;
  try {
    const inputs = await resolveInputs(patterns, job.input.format);
    if (inputs.some((i) => (i.bytes ?? 0) >= WORKER_MIN_BYTES)) warmReaderThread();
  } catch {
    // The run lists its inputs again and says what is wrong.
  }
}

/** After the run: stop the warm threads that nothing took. */
export async function coolDown(): Promise<void> {
  await Promise.all([dropWarmReaderThread(), dropWarmModelThread()]);
}

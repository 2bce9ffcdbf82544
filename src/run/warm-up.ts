// Before a run loads its modules, ONNX Runtime and its model (~0.3 s): start the model thread, which loads
// ONNX Runtime meanwhile (model/model-thread.ts). (The run itself lists its inputs and starts a reader thread
// for a large one while its model loads: run-job.ts.)
import { dropWarmModelThread, warmModelThread } from '../model/model-thread.js';
import { dropWarmReaderThread } from '../pipeline/reader-thread.js';

export function warmUp(): void {
  warmModelThread();
}

/** After the run: stop the warm threads that nothing took. */
export async function coolDown(): Promise<void> {
  await Promise.all([dropWarmReaderThread(), dropWarmModelThread()]);
}

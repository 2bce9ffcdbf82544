// Worker thread entry: runs prepareHere() on workerData and posts each chunk when the consumer has asked
// for one (it asks AHEAD at first, then one per chunk it takes), so memory stays bounded.
import { parentPort, workerData } from 'node:worker_threads';
import { SbError } from '../errors.js';
import { FeedPool } from './featurize.js';
import { prepareHere, transferList, type PrepareSpec } from './prepare.js';

const port = parentPort;
if (!port) throw new Error('prepare-worker.js runs as a worker thread');

let credits = 0;
let wake: (() => void) | undefined;
const pool = new FeedPool();
// 'next' asks for one more chunk; { recycle } hands back the float tensors of a chunk the model is done with.
port.on('message', (m: 'next' | { recycle: (Float32Array | Float64Array)[] }) => {
  if (m === 'next') {
    credits++;
    wake?.();
  } else for (const b of m.recycle) pool.give(b);
});

const prepared = prepareHere(workerData as PrepareSpec, pool);
try {
  for await (const chunk of prepared.chunks) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    port.postMessage({ kind: 'chunk', chunk, bytes: prepared.bytes() }, transferList(chunk));
  }
  port.postMessage({ kind: 'end', end: prepared.end() });
} catch (err) {
  const e = err as Error;
  port.postMessage({ kind: 'error', error: err instanceof SbError ? { code: err.code, message: err.message, context: err.context } : { message: e.message, stack: e.stack } });
}

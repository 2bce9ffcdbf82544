// Worker thread entry (see reader-thread.ts): waits for its input ({ start: PrepareSpec }), then runs
// prepareHere() on it and posts each chunk when the consumer has asked for one (it asks a few at first, then
// one per chunk it takes), so memory stays bounded. An object store input is read through this thread's own
// client, made from the job's storage settings the input comes with.
import { parentPort } from 'node:worker_threads';
import { SbError } from '../errors.js';
import { FeedPool } from './featurize.js';
import { prepareHere, transferList, type PrepareSpec } from './prepare.js';
import { withStorage } from '../storage/scope.js';
import { readsStdin, relayedStdin, type RelayMessage } from './stdin-relay.js';

const port = parentPort;
if (!port) throw new Error('prepare-worker.js runs as a worker thread');

let credits = 0;
let wake: (() => void) | undefined;
const pool = new FeedPool();
let stdin: ReturnType<typeof relayedStdin> | undefined;
// { start } gives the input; 'next' asks for one more chunk; { recycle } hands back the float tensors of a
// chunk the model is done with; standard input's bytes come as relay messages (stdin-relay.ts).
port.on('message', (m: 'next' | { start: PrepareSpec } | { recycle: (Float32Array | Float64Array)[] } | RelayMessage) => {
  if (m === 'next') {
    credits++;
    wake?.();
  } else if ('start' in m) {
    // Standard input's first bytes may come right after this message.
    if (readsStdin(m.start)) stdin = relayedStdin(m.start.display, port);
    void withStorage(m.start.storage ?? {}, () => prepare(m.start));
  } else if ('recycle' in m) for (const b of m.recycle) pool.give(b);
  else stdin?.receive(m);
});

async function prepare(spec: PrepareSpec): Promise<void> {
  const p = port as NonNullable<typeof port>;
  try {
    const prepared = prepareHere(spec, pool, stdin?.source);
    // Each chunk carries the time it took to read (not counting the wait for the consumer's credit).
    let started = performance.now();
    for await (const chunk of prepared.chunks) {
      chunk.readMs = performance.now() - started;
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      credits--;
      p.postMessage({ kind: 'chunk', chunk, bytes: prepared.bytes() }, transferList(chunk));
      started = performance.now();
    }
    p.postMessage({ kind: 'end', end: prepared.end() });
  } catch (err) {
    const e = err as Error;
    p.postMessage({ kind: 'error', error: err instanceof SbError ? { code: err.code, message: err.message, context: err.context } : { message: e.message, stack: e.stack } });
  }
}

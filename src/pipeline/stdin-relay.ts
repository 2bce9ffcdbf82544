// Standard input read in a reader thread (prepare.ts): this thread reads it, as it would to parse it here,
// and posts its bytes to the reader thread, which parses them. (A reader thread's own `process.stdin`, fed
// through its parent's `worker.stdin`, waits for the thread's answer after each 64 KiB: that took the lr's
// run over 1M rows from standard input from 3.6 s parsed here to 4.3 s.) The bytes are copied into blocks of
// RELAY_BLOCK that go back and forth: at most RELAY_BLOCKS are with the reader at once. A block is posted as
// soon as bytes are in it while fewer are out, so a stream's rows are not held back, and once full otherwise.
import type { MessagePort, Worker } from 'node:worker_threads';
import { SbError, type ErrorCode, type ErrorContext } from '../errors.js';
import { openSource, type ByteSource } from '../storage/source.js';
import { sourceStream } from '../storage/stream.js';

/** Bytes per block, and blocks with the reader at once, at most. */
const RELAY_BLOCK = 1024 * 1024;
const RELAY_BLOCKS = 4;

// Whether a reader's input is this process's standard input (a query has no file).
export function readsStdin(spec: { file: string; query?: unknown }): boolean {
  return spec.file === '-' && !spec.query;
}

/** From this thread to the reader thread. */
export type RelayMessage = { stdin: Uint8Array } | { stdinEnd: true };

/** From the reader thread: the buffer of a block it is done with. */
export interface RelayTaken {
  kind: 'stdin-taken';
  buffer: ArrayBuffer;
}

export interface RelayError {
  code?: ErrorCode;
  message: string;
  context?: ErrorContext;
}

// Post this thread's standard input to `worker` as RelayMessages, paced by its RelayTaken answers (given to
// `taken`). A read error goes to `fail` (INPUT_FAILED, as reading it here would say) and ends the relay.
export function relayStdin(display: string, worker: Worker, fail: (error: RelayError) => void): { taken(buffer: ArrayBuffer): void; stop(): void } {
  const blocks = openSource('-', display).open(undefined, { hash: false })[Symbol.asyncIterator]();
  const free: ArrayBuffer[] = [];
  let out = 0;
  let block: Uint8Array | undefined;
  let used = 0;
  let stopped = false;
  let room: (() => void) | undefined;
  const forRoom = async () => {
    while (out >= RELAY_BLOCKS && !stopped) await new Promise<void>((resolve) => (room = resolve));
  };
  const post = () => {
    const full = block as Uint8Array;
    worker.postMessage({ stdin: full.subarray(0, used) } satisfies RelayMessage, [full.buffer as ArrayBuffer]);
    out++;
    block = undefined;
    used = 0;
  };
  void (async () => {
    try {
      for (let b = await blocks.next(); !b.done && !stopped; b = await blocks.next()) {
        for (let data = b.value; data.length > 0 && !stopped; ) {
          block ??= new Uint8Array(free.pop() ?? new ArrayBuffer(RELAY_BLOCK));
          const n = Math.min(data.length, block.length - used);
          block.set(data.subarray(0, n), used);
          used += n;
          data = data.subarray(n);
          if (used < block.length) continue;
          await forRoom();
          // Unless a block given back meanwhile took it (taken() posts what is in the block).
          if (!stopped && used > 0) post();
        }
        if (used > 0 && out < RELAY_BLOCKS) post();
      }
      if (stopped) return;
      await forRoom();
      if (stopped) return;
      if (used > 0) post();
      worker.postMessage({ stdinEnd: true } satisfies RelayMessage);
    } catch (err) {
      if (stopped) return;
      const e = err instanceof SbError ? err : new SbError('INPUT_FAILED', `cannot read input: ${(err as Error).message}`, { file: display });
      fail({ code: e.code, message: e.message, context: e.context });
    }
  })();
  return {
    taken(buffer) {
      out--;
      free.push(buffer);
      // Bytes that came while every block was out go now, unless the loop waits to post a full block itself.
      if (room) {
        room();
        room = undefined;
      } else if (used > 0 && !stopped) post();
    },
    stop() {
      stopped = true;
      room?.();
      // A read of standard input may be pending (the relay reads ahead of the reader): returning the
      // iterator would wait for it, and the open stream would keep the process alive after a failed run.
      process.stdin.destroy();
      void blocks.return?.(undefined);
    },
  };
}

// In the reader thread: standard input as the relay's messages (give each to `receive`), answering on `port`
// as the reader takes each block.
export function relayedStdin(display: string, port: MessagePort): { source: ByteSource; receive(m: RelayMessage): void } {
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | undefined;
  // A block is the reader's until it asks for the next one (as with a file's reused buffer): then it goes back.
  async function* blocks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const block = queue.shift() as Uint8Array | null;
      if (block === null) return;
      yield block;
      port.postMessage({ kind: 'stdin-taken', buffer: block.buffer as ArrayBuffer } satisfies RelayTaken, [block.buffer as ArrayBuffer]);
    }
  }
  return {
    source: {
      url: '-',
      display,
      stat: async () => undefined,
      open: (_range, options) => sourceStream(blocks(), (err) => err as Error, options),
      close: async () => undefined,
    },
    receive(m) {
      queue.push('stdin' in m ? m.stdin : null);
      wake?.();
      wake = undefined;
    },
  };
}

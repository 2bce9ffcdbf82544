// Where output bytes are written to. Every result, rejects file and state file is written through a ByteSink
// that makes it appear complete or not at all: a local regular file by a temporary file renamed into place, a
// stream (standard output, a FIFO, a device) by writing straight through (nothing to take back), later an
// object by a multipart upload completed on commit. A sink is opened by its URL through the backend that
// serves it (backends.ts).
import { backendFor } from './backends.js';

export interface ByteSink {
  /** Once the promise resolves the sink keeps no reference to `data`: the caller may reuse its buffer. */
  write(data: string | Uint8Array): Promise<void>;
  /** Make the bytes visible under the final name as a whole (a stream: end it). After a failed commit nothing
   *  was published and the sink is aborted. */
  commit(): Promise<void>;
  /** Drop everything written; the final name is untouched (a stream keeps what it was sent). */
  abort(): Promise<void>;
  /** Writing is over and commit() comes later (a file that waits for another to be committed): let go of
   *  what an open sink holds (a local file's handle and buffer, its bytes synced to disk). Only commit() or
   *  abort() may follow. A sink that holds nothing worth releasing has no seal. */
  seal?(): Promise<void>;
  /** Bytes written so far; `rollback(mark)` forgets everything after it (a stream cannot: false, unless
   *  nothing was written since the mark; an object store drops the parts after it). */
  mark(): Promise<number>;
  rollback(mark: number): Promise<boolean>;
  /** Where the bytes end up ('-' for standard output). */
  readonly target: string;
  /** The bytes reach their reader as they are written (a stream): abort cannot take them back. */
  readonly streamed: boolean;
}

export interface SinkOptions {
  /** Ends a wait for a stream's reader (a FIFO nobody reads yet, a full pipe): the run is stopping. */
  signal?: AbortSignal;
}

// The sink for `url` ('-': standard output).
export function openSink(url: string, o: SinkOptions = {}): Promise<ByteSink> {
  return backendFor(url).sink(url, o);
}

// Remove the result an earlier run left at `url` (it would describe another run); never a stream.
export function removeOutdated(url: string): Promise<void> {
  return backendFor(url).remove(url);
}

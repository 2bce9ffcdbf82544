// Files that appear complete or not at all: written to a hidden temporary name in the target directory and
// renamed over the final name only when complete (rename is atomic within one file system). What a killed
// run left behind is removed by a later one (temps.ts).
//
// Only regular files and new paths are renamed over: a FIFO, a character device (/dev/null), a socket or a
// descriptor of this process (/dev/stdout, /dev/fd/N) would be replaced by a regular file, so those are
// written through as streams (stream-sink.ts), decided by stat of the target (target.ts).
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errnoReason, UNWRITABLE, type Reasons } from '../../util/errno.js';
import { SbError } from '../../errors.js';
import { failpoint } from '../failpoint.js';
import type { ByteSink, SinkOptions } from '../sink.js';
import { openStream, stdioSink } from './stream-sink.js';
import { inspectTarget, isExplained, makeDirs } from './target.js';
import { removeStaleTempsOnce, tempName } from './temps.js';

const BUFFER_BYTES = 1 << 20;

// Open the sink for `file`: an atomic file, creating its directory, or a stream when `file` is one (see the
// header). `signal` ends a wait for a stream's reader (a FIFO nobody reads yet, a pipe that is full).
export async function openAtomic(file: string, o: SinkOptions = {}): Promise<ByteSink> {
  const target = await inspectTarget(file);
  if (target.kind === 'refused') throw new SbError('WRITE_FAILED', `cannot write ${file}: ${target.why}`);
  if (target.kind !== 'file') return openStream(file, target, o.signal);
  const temp = tempName(file);
  let handle: FileHandle;
  try {
    await makeDirs(path.dirname(file));
    await removeStaleTempsOnce(path.dirname(file));
    await failpoint('open', file);
    handle = await open(temp, 'wx');
  } catch (err) {
    throw writeError(file, err);
  }
  return new AtomicSink(file, temp, handle);
}

class AtomicSink implements ByteSink {
  readonly streamed = false;
  /** Small writes are copied here and written out together (one reusable buffer, no per-write garbage);
   *  let go of once the file is closed. */
  private buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
  private buffered = 0;
  private position = 0;
  private closed = false;
  /** A write that failed: the file misses bytes, so it cannot be committed (unless rolled back before them). */
  private failed?: SbError;

  constructor(
    readonly target: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
  ) {}

  async write(data: string | Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    await failpoint('write', this.target).catch((err: unknown) => {
      throw (this.failed = writeError(this.target, err));
    });
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    // Bytes go out in order: what is buffered first, then a big write directly.
    if (this.buffered + bytes.length > BUFFER_BYTES || bytes.length >= BUFFER_BYTES / 2) await this.flush();
    if (bytes.length >= BUFFER_BYTES / 2) {
      await this.writeOut(bytes);
      return;
    }
    this.buffer.set(bytes, this.buffered);
    this.buffered += bytes.length;
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const n = this.buffered;
    this.buffered = 0;
    await this.writeOut(this.buffer.subarray(0, n));
  }

  private async writeOut(bytes: Uint8Array): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.position);
        done += bytesWritten;
        this.position += bytesWritten;
      }
    } catch (err) {
      throw (this.failed = writeError(this.target, err));
    }
  }

  async mark(): Promise<number> {
    if (this.failed) throw this.failed;
    await this.flush();
    return this.position;
  }

  async rollback(mark: number): Promise<boolean> {
    if (this.closed) throw new Error(`internal: rollback of ${this.target} after its commit or abort`);
    this.buffered = 0;
    try {
      await failpoint('rollback', this.target);
      await this.handle.truncate(mark);
    } catch (err) {
      throw (this.failed = writeError(this.target, err));
    }
    this.position = mark;
    // Back at a point written in full: a failure after it is forgotten with its bytes.
    this.failed = undefined;
    return true;
  }

  async seal(): Promise<void> {
    if (this.failed) throw this.failed;
    try {
      await this.flush();
      await this.handle.sync();
    } catch (err) {
      throw (this.failed = err instanceof SbError ? err : writeError(this.target, err));
    }
    await this.close();
  }

  async commit(): Promise<void> {
    try {
      // A file a write failed on is never published: it would miss those bytes.
      if (this.failed) throw this.failed;
      await failpoint('commit', this.target);
      if (!this.closed) {
        await this.flush();
        await this.handle.sync();
        await this.close();
      }
      await failpoint('before-rename', this.target);
      await rename(this.temp, this.target);
    } catch (err) {
      await this.abort();
      throw err instanceof SbError ? err : writeError(this.target, err);
    }
  }

  async abort(): Promise<void> {
    this.buffered = 0;
    await this.close();
    await unlink(this.temp).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer = Buffer.alloc(0);
    await this.handle.close().catch(() => undefined);
  }
}

// Bytes to standard output (not atomic: a pipe has no rename); `signal` ends a wait for a reader that does not read.
export function stdoutSink(signal?: AbortSignal): ByteSink {
  return stdioSink(process.stdout, '-', signal);
}

// Remove the result `file` left by an earlier run (it would lie): a regular file, or the link to one (as a new
// result would replace the link); never a device, FIFO, socket or descriptor.
export async function removeResult(file: string): Promise<void> {
  const target = await inspectTarget(file);
  if (target.kind !== 'file') return;
  if ((await stat(file).catch(() => undefined))?.isFile()) await unlink(file).catch(() => undefined);
}

// Words for the errno codes of a file that could not be written, where errno's own message says less.
const WRITE_WHY: Reasons = { ...UNWRITABLE, ENOSPC: 'no space left on the device', ENAMETOOLONG: 'the file name is too long' };

// The one line for a result file that could not be written.
function writeError(file: string, err: unknown): SbError {
  const why = isExplained(err as NodeJS.ErrnoException) ? (err as Error).message : errnoReason(err, WRITE_WHY);
  return new SbError('WRITE_FAILED', `cannot write ${file}: ${why}`);
}

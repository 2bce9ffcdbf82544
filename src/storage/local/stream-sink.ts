// Sinks for outputs that are streams, not files: standard output, FIFOs, pipes and sockets (through libuv's
// non-blocking pipe handles, so a reader that stops reading never blocks a thread, and a stop signal ends the
// wait), character devices such as /dev/null, and descriptors this process holds (`>(gzip > x)` arrives as
// /dev/fd/63). Bytes leave as they are written: nothing can be taken back, so rollback() succeeds only when
// nothing was written since the mark, abort() keeps what was written, and commit() ends the stream, so that
// its reader sees the end.
import { constants, fstat, write as fsWrite, close as fsClose, open as fsOpen, type Stats } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { SbError } from '../../errors.js';
import type { ByteSink } from '../sink.js';
import type { TargetKind } from './target.js';

const openFd = promisify(fsOpen);
const fstatFd = promisify(fstat);
const closeFd = promisify(fsClose);
/** How often a FIFO without a reader is tried again. */
const FIFO_RETRY_MS = 100;

// The byte transport under a stream sink.
interface Out {
  write(data: Uint8Array): Promise<void>;
  /** Close, after everything written reached the reader (`end`) or at once. */
  close(end: boolean): Promise<void>;
}

// A sink writing straight through to `target` ('-' is standard output). `signal` ends waits for a reader.
export async function openStream(file: string, target: Exclude<TargetKind, { kind: 'file' | 'refused' }>, signal?: AbortSignal): Promise<ByteSink> {
  if (target.kind === 'descriptor' && target.fd === 1) return stdioSink(process.stdout, '-', signal);
  if (target.kind === 'descriptor' && target.fd === 2) return stdioSink(process.stderr, file, signal);
  return streamSink(file, await openOut(file, target, signal));
}

// Bytes to standard output (or error): written through the process's own stream, which stays open. A stop
// signal ends the wait for a reader that does not read (the write itself stays queued: the CLI exits anyway).
export function stdioSink(stream: NodeJS.WriteStream, target: string, signal?: AbortSignal): ByteSink {
  guard(stream);
  const name = target === '-' ? 'standard output' : target;
  return streamSink(target, {
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(interrupted());
        const onAbort = () => reject(interrupted());
        signal?.addEventListener('abort', onAbort, { once: true });
        stream.write(data, (err) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(streamError(name, err));
          else resolve();
        });
      }),
    close: async () => undefined,
  });
}

const guarded = new WeakSet<NodeJS.WriteStream>();

// Without an 'error' listener a write to a closed pipe (EPIPE) is an uncaught exception: the write's callback
// reports it instead.
function guard(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => undefined);
}

function streamSink(target: string, out: Out): ByteSink {
  let written = 0;
  let closed = false;
  const close = async (end: boolean) => {
    if (closed) return;
    closed = true;
    await out.close(end);
  };
  return {
    target,
    streamed: true,
    async write(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      if (bytes.length === 0) return;
      written += bytes.length;
      await out.write(bytes);
    },
    commit: () => close(true),
    abort: () => close(false).catch(() => undefined),
    mark: async () => written,
    // Nothing written since the mark is the only rollback a stream allows.
    rollback: async (mark) => written === mark,
  };
}

// Open the transport for a FIFO, device, socket or inherited descriptor.
async function openOut(file: string, target: Exclude<TargetKind, { kind: 'file' | 'refused' }>, signal?: AbortSignal): Promise<Out> {
  if (target.kind === 'socket') return socketOut(file, await connect(file, signal), signal);
  let fd: number;
  let owned = true;
  if (target.kind === 'descriptor') {
    fd = target.fd;
    owned = fd > 2;
  } else if (target.kind === 'fifo') {
    fd = await openFifo(file, signal);
  } else {
    try {
      fd = await openFd(file, 'w');
    } catch (err) {
      throw streamError(file, err);
    }
  }
  let s: Stats;
  try {
    s = await fstatFd(fd);
  } catch (err) {
    throw streamError(file, err);
  }
  if (s.isFIFO() || s.isSocket()) return socketOut(file, new net.Socket({ fd, readable: false, writable: true }), signal);
  return fdOut(file, fd, owned);
}

// Open a FIFO for writing without blocking a thread: a FIFO without a reader refuses (ENXIO) and is tried
// again until a reader comes or `signal` stops the run (a blocking open would wait in the thread pool, out
// of reach of a signal, and keep the process alive).
async function openFifo(file: string, signal?: AbortSignal): Promise<number> {
  for (;;) {
    try {
      return await openFd(file, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw streamError(file, err);
    }
    await pause(FIFO_RETRY_MS, signal, () => new SbError('WRITE_FAILED', `cannot write ${file}: no process opened it for reading`));
  }
}

// Wait `ms`, or fail once `signal` is aborted: INTERRUPTED, or `timedOut()` for an AbortSignal.timeout.
function pause(ms: number, signal: AbortSignal | undefined, timedOut: () => SbError): Promise<void> {
  const reason = () => ((signal?.reason as Error | undefined)?.name === 'TimeoutError' ? timedOut() : interrupted());
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(reason());
    const onAbort = () => {
      clearTimeout(timer);
      reject(reason());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// Connect to a Unix socket's listener.
function connect(file: string, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: file });
    const onAbort = () => {
      sock.destroy();
      reject(interrupted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(sock);
    });
    sock.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(streamError(file, err));
    });
  });
}

// A pipe, FIFO or socket through a libuv handle. A write waits for the reader to take the bytes (backpressure);
// a stop signal gives up that wait and closes the stream.
function socketOut(file: string, sock: net.Socket, signal?: AbortSignal): Out {
  let failed: Error | undefined;
  sock.on('error', (err) => (failed ??= err));
  return {
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(streamError(file, failed));
        if (signal?.aborted) return reject(interrupted());
        const onAbort = () => {
          sock.destroy();
          reject(interrupted());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        sock.write(data, (err) => {
          signal?.removeEventListener('abort', onAbort);
          if (err || failed) reject(streamError(file, (err ?? failed) as Error));
          else resolve();
        });
      }),
    close: (end) =>
      new Promise<void>((resolve, reject) => {
        if (!end || failed || sock.destroyed) {
          sock.destroy();
          return failed && end ? reject(streamError(file, failed)) : resolve();
        }
        sock.end(() => {
          sock.destroy();
          resolve();
        });
        sock.once('error', (err) => reject(streamError(file, err)));
      }),
  };
}

// A character device or an inherited file descriptor: plain sequential writes (at the descriptor's own
// offset, so a descriptor opened for appending appends).
function fdOut(file: string, fd: number, owned: boolean): Out {
  return {
    async write(data) {
      let done = 0;
      while (done < data.length) {
        const n = await new Promise<number>((resolve, reject) => fsWrite(fd, data, done, data.length - done, null, (err, bytes) => (err ? reject(streamError(file, err)) : resolve(bytes))));
        done += n;
      }
    },
    async close() {
      if (owned) await closeFd(fd).catch(() => undefined);
    },
  };
}

// A failed stream write: the reader went away (OUTPUT_CLOSED), or another failure (WRITE_FAILED).
function streamError(file: string, err: unknown): SbError {
  if (err instanceof SbError) return err;
  const e = err as NodeJS.ErrnoException;
  const name = file === '-' ? 'standard output' : file;
  if (e.code === 'EPIPE' || e.code === 'ECONNRESET' || e.code === 'ERR_STREAM_DESTROYED') {
    return new SbError('OUTPUT_CLOSED', `the reader of ${name} closed it`);
  }
  const why = e.code === 'ENXIO' ? 'no process is listening on it' : e.code === 'ECONNREFUSED' ? 'no process is listening on it' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOSPC' ? 'no space left on the device' : e.message;
  return new SbError('WRITE_FAILED', `cannot write ${name}: ${why}`);
}

function interrupted(): SbError {
  return new SbError('INTERRUPTED', 'interrupted');
}

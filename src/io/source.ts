// Input bytes as an async iterable of blocks, with the byte count and sha256 taken on the way. Gzip input
// (magic bytes 1f 8b, whatever the name) is decompressed here, so readers see plain text; the count and the
// hash stay those of the bytes as stored, which is what the run record and the ledger describe.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SbError } from '../errors.js';
import { isGzipName } from './formats.js';

export const BLOCK_BYTES = 1 << 20;

export interface Source {
  blocks: AsyncIterable<Uint8Array>;
  /** Bytes read so far (as stored, before decompression). */
  readonly bytesRead: number;
  /** sha256 of the whole input, once every block was read (undefined when reading stopped early). */
  sha256(): string | undefined;
  /** True once the input turned out to be gzip data (known after the first block). */
  readonly gzip: boolean;
}

// Open a file (or '-' for stdin) for reading; `range` reads bytes [start, end) only (a shard's piece of a
// plain text file: never gzip, so the bytes are taken as they are).
export function openSource(file: string, display: string, range?: { start: number; end: number }): Source {
  const hash: Hash = createHash('sha256');
  let bytesRead = 0;
  let digest: string | undefined;
  let gzip = false;
  // A file is read into one buffer, reused for every block: a consumer must be done with a block before it
  // asks for the next (the readers copy what they keep). Standard input is a stream. With `range`, only
  // bytes [start, end) of the file are read.
  async function* read(): AsyncGenerator<Uint8Array> {
    if (file === '-') {
      yield* process.stdin as AsyncIterable<Buffer>;
      return;
    }
    const handle = await open(file, 'r');
    try {
      const buf = Buffer.allocUnsafeSlow(BLOCK_BYTES);
      // Without a range, sequential reads (position null), so pipes and FIFOs work too.
      let position = range?.start ?? 0;
      const end = range?.end ?? Infinity;
      while (position < end) {
        const want = Math.min(BLOCK_BYTES, end - position);
        const { bytesRead: n } = await handle.read(buf, 0, want, range ? position : null);
        if (n === 0) return;
        position += n;
        yield buf.subarray(0, n);
      }
    } finally {
      await handle.close();
    }
  }
  async function* raw(): AsyncGenerator<Uint8Array> {
    try {
      for await (const block of read()) {
        hash.update(block);
        bytesRead += block.length;
        yield block;
      }
      digest = hash.digest('hex');
    } catch (err) {
      throw readError(err, display);
    }
  }
  async function* blocks(): AsyncGenerator<Uint8Array> {
    const it = raw();
    // Enough bytes to see the magic number (a pipe may deliver a single byte first).
    const head: Uint8Array[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const r = await it.next();
      if (r.done) break;
      head.push(r.value);
      headBytes += r.value.length;
    }
    // Copied: the block buffer is reused by the next read.
    const first = head.length === 0 ? undefined : Buffer.concat(head);
    gzip = !range && first !== undefined && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    if (!gzip && isGzipName(file)) {
      await it.return(undefined);
      throw new SbError('INPUT_FAILED', first === undefined ? 'the file is empty, not gzip data' : 'the name ends in .gz but the file is not gzip data (it does not start with the bytes 1f 8b)', { file: display });
    }
    // `it` was started by hand above, so a consumer that stops at the first block must end it here: else the
    // file stays open until garbage collection (and Node warns on stderr when it closes it).
    const rest = async function* () {
      try {
        if (first !== undefined) yield first;
        yield* it;
      } finally {
        await it.return(undefined);
      }
    };
    if (!gzip) {
      yield* rest();
      return;
    }
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    // Errors of either side surface through the iteration of `gunzip`; stopping early destroys the file stream.
    // The stream queues blocks before gunzip takes them, so each is copied out of the reused buffer.
    const copies = async function* () {
      for await (const b of rest()) yield Buffer.from(b);
    };
    pipeline(Readable.from(copies(), { objectMode: false }), gunzip, () => undefined);
    try {
      for await (const block of gunzip as AsyncIterable<Buffer>) yield block;
    } catch (err) {
      if (err instanceof SbError) throw err;
      throw gzipError(err, display);
    }
  }
  return {
    blocks: blocks(),
    get bytesRead() {
      return bytesRead;
    },
    sha256: () => digest,
    get gzip() {
      return gzip;
    },
  };
}

// A zlib failure as one line: corrupt data, or a file that ends early.
function gzipError(err: unknown, file: string): SbError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message)) {
    return new SbError('INPUT_FAILED', 'the gzip data ends early: the file is truncated', { file });
  }
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return new SbError('INPUT_FAILED', `the gzip data is corrupt (${e.message})`, { file });
  }
  return new SbError('INPUT_FAILED', `cannot read input: ${e.message}`, { file });
}

// An input that cannot be read (opened or read from), as the one-line failure of that input.
export function readError(err: unknown, display: string): SbError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'it disappeared before it could be read' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
  return new SbError('INPUT_FAILED', `cannot read input: ${why}`, { file: display });
}

// An input's bytes as the text readers see them: the source's blocks, with gzip data (magic bytes 1f 8b,
// whatever the name) decompressed here, so readers see plain text. The count and the hash stay those of the
// bytes as stored, which is what the run record and the ledger describe.
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SbError } from '../errors.js';
import type { ByteRange, ByteSource, OpenOptions } from '../storage/source.js';
import { isGzipName } from './formats.js';

export interface InputBlocks {
  blocks: AsyncIterable<Uint8Array>;
  /** Bytes read so far (as stored, before decompression). */
  readonly bytesRead: number;
  /** sha256 of the whole input, once every block was read (undefined when reading stopped early). */
  sha256(): string | undefined;
  /** True once the input turned out to be gzip data (known after the first block). */
  readonly gzip: boolean;
}

// The blocks of `source`; `range` reads bytes [start, end) only (a piece of a plain text file: never gzip, so
// the bytes are taken as they are).
export function inputBlocks(source: ByteSource, range?: ByteRange, options?: OpenOptions): InputBlocks {
  const stream = source.open(range, options);
  const display = source.display;
  let gzip = false;
  async function* blocks(): AsyncGenerator<Uint8Array> {
    const it = stream[Symbol.asyncIterator]();
    // Enough bytes to see the magic number (a pipe may deliver a single byte first).
    const head: Uint8Array[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const r = await it.next();
      if (r.done) break;
      // Copied: the block buffer is reused by the next read (a FIFO's writer may send one byte, then more).
      head.push(Buffer.from(r.value));
      headBytes += r.value.length;
    }
    const first = head.length <= 1 ? head[0] : Buffer.concat(head);
    gzip = !range && first !== undefined && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    if (!gzip && isGzipName(source.url)) {
      await it.return?.(undefined);
      throw new SbError('INPUT_FAILED', first === undefined ? 'the file is empty, not gzip data' : 'the name ends in .gz but the file is not gzip data (it does not start with the bytes 1f 8b)', { file: display });
    }
    // A consumer that stops at the first block leaves `it` suspended inside the source, past `yield* it`'s
    // reach: returning it here closes the file on every early stop (a limit, a sample, a header error).
    const rest = async function* () {
      try {
        if (first !== undefined) yield first;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        await it.return?.(undefined);
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
      return stream.bytesRead;
    },
    sha256: () => stream.sha256(),
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

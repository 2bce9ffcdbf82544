// Local input bytes: a file (by path) or standard input ('-'). Read in blocks of one reused buffer; a file is
// read sequentially (position null), so pipes and FIFOs work too, or by position for a range and readAt.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SbError } from '../../errors.js';
import type { ByteRange, ByteSource, SourceStat } from '../source.js';
import { sourceStream } from '../stream.js';

/** Bytes read from a file at a time. */
const BLOCK_BYTES = 1 << 20;

// The source of a local path ('-': standard input).
export function localSource(file: string, display: string): ByteSource {
  if (file === '-') return stdinSource(display);
  let handle: Promise<FileHandle> | undefined;
  return {
    url: file,
    display,
    async stat() {
      const s = await stat(file).catch(() => undefined);
      return s?.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
    },
    open: (range, options) => sourceStream(fileBlocks(file, range), (err) => readError(err, display), options),
    async readAt(start, end) {
      handle ??= open(file, 'r');
      const h = await handle.catch((err: unknown) => {
        handle = undefined;
        throw readError(err, display);
      });
      const buf = Buffer.allocUnsafeSlow(end - start);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await h.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) throw new SbError('INPUT_FAILED', 'the file ended while it was being read (did it change?)', { file: display });
        done += bytesRead;
      }
      return buf;
    },
    async close() {
      const h = handle;
      handle = undefined;
      await h?.then((x) => x.close()).catch(() => undefined);
    },
  };
}

// Standard input: read once, in order, as it comes.
function stdinSource(display: string): ByteSource {
  return {
    url: '-',
    display,
    stat: async (): Promise<SourceStat | undefined> => undefined,
    open: () => sourceStream(process.stdin as AsyncIterable<Buffer>, (err) => readError(err, display)),
    close: async () => undefined,
  };
}

// A file's blocks from one reused buffer: a consumer must be done with a block before it asks for the next
// (the readers copy what they keep). With `range`, only bytes [start, end) of the file are read.
async function* fileBlocks(file: string, range?: ByteRange): AsyncGenerator<Uint8Array> {
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

// An input that cannot be read (opened or read from), as the one-line failure of that input.
function readError(err: unknown, display: string): SbError {
  if (err instanceof SbError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'it disappeared before it could be read' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
  return new SbError('INPUT_FAILED', `cannot read input: ${why}`, { file: display }, { cause: err });
}

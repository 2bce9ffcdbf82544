// Input bytes as an async iterable of blocks, with the byte count and sha256 taken on the way.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SbError } from '../errors.js';

export const BLOCK_BYTES = 1 << 20;

export interface Source {
  blocks: AsyncIterable<Uint8Array>;
  /** Bytes read so far. */
  readonly bytesRead: number;
  /** sha256 of the whole input, once every block was read (undefined when reading stopped early). */
  sha256(): string | undefined;
}

// Open a file (or '-' for stdin) for reading.
export function openSource(file: string, display: string): Source {
  const hash: Hash = createHash('sha256');
  let bytesRead = 0;
  let digest: string | undefined;
  const stream = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: BLOCK_BYTES });
  async function* blocks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const block of stream as AsyncIterable<Buffer>) {
        hash.update(block);
        bytesRead += block.length;
        yield block;
      }
      digest = hash.digest('hex');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'it disappeared before it could be read' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
      throw new SbError('INPUT_FAILED', `cannot read input: ${why}`, { file: display });
    } finally {
      if (file !== '-') (stream as ReturnType<typeof createReadStream>).destroy();
    }
  }
  return {
    blocks: blocks(),
    get bytesRead() {
      return bytesRead;
    },
    sha256: () => digest,
  };
}

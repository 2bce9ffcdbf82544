// A SourceStream over any blocks: counted and hashed on the way (unless `hash` is false), errors said as the
// input's failure.
import { createHash } from 'node:crypto';
import type { OpenOptions, SourceStream } from './source.js';

export function sourceStream(blocks: AsyncIterable<Uint8Array>, failure: (err: unknown) => Error, options?: OpenOptions): SourceStream {
  const hash = options?.hash === false ? undefined : createHash('sha256');
  let bytesRead = 0;
  let digest: string | undefined;
  async function* read(): AsyncGenerator<Uint8Array> {
    try {
      for await (const block of blocks) {
        hash?.update(block);
        bytesRead += block.length;
        yield block;
      }
      digest = hash?.digest('hex');
    } catch (err) {
      throw failure(err);
    }
  }
  const it = read();
  return {
    [Symbol.asyncIterator]: () => it,
    get bytesRead() {
      return bytesRead;
    },
    sha256: () => digest,
  };
}

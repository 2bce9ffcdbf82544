// Random access to a Parquet file's bytes through its ByteSource (storage/): Parquet is read from its footer
// backwards, so a source that can only be read in order (standard input, a FIFO) is read whole first.
import { memorySource, readWhole } from '../../storage/memory.js';
import { openSource, type ByteSource, type SourceStat } from '../../storage/source.js';

/** Random access to the bytes of a Parquet file. */
export interface ParquetBytes {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
  /** sha256 of the whole file. */
  sha256(): Promise<string>;
}

// A source's bytes by random access.
export async function parquetBytes(source: ByteSource): Promise<ParquetBytes> {
  let src = source;
  let stat = src.readAt ? await src.stat() : undefined;
  if (!stat) {
    src = memorySource(await readWhole(source), source.url, source.display);
    stat = await src.stat();
  }
  return bytesOf(src, (stat as SourceStat).size);
}

// A file on disk (or standard input: '-').
export function parquetFile(file: string, display: string): Promise<ParquetBytes> {
  return parquetBytes(openSource(file, display));
}

// Bytes already in memory.
export function parquetBuffer(buf: Buffer, display = 'buffer'): ParquetBytes {
  return bytesOf(memorySource(buf, display, display), buf.length);
}

// ParquetBytes over a source with random access and a known size.
function bytesOf(src: ByteSource, size: number): ParquetBytes {
  const readAt = src.readAt as NonNullable<ByteSource['readAt']>;
  return {
    size,
    read: async (position, length) => {
      const b = await readAt(position, position + length);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    },
    close: () => src.close(),
    async sha256() {
      const stream = src.open();
      for await (const _ of stream);
      return stream.sha256() as string;
    },
  };
}

// Bytes already in memory as a ByteSource with random access: standard input read whole for a format that
// needs random access (Parquet starts at its footer).
import type { ByteSource } from './source.js';
import { sourceStream } from './stream.js';

export function memorySource(bytes: Uint8Array, url: string, display: string): ByteSource {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    url,
    display,
    stat: async () => ({ size: buf.length, mtimeMs: 0 }),
    open: (range, options) => sourceStream(once(range ? buf.subarray(range.start, range.end) : buf), (err) => err as Error, options),
    readAt: async (start, end) => buf.subarray(start, end),
    close: async () => undefined,
  };
}

// Every byte of a source, in memory (standard input for Parquet).
export async function readWhole(source: ByteSource): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of source.open()) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

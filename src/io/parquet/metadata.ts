// A Parquet file's footer (schema, row groups, column chunks), read through hyparquet's public API, and the
// one-line errors every part of the reader says a bad file with.
import { parquetMetadataAsync, type FileMetaData } from 'hyparquet';
import { SbError } from '../../errors.js';
import type { ParquetBytes } from './bytes.js';

// The file's metadata; a file that is not Parquet, or whose footer does not decode, is INPUT_FAILED.
export async function metadataOf(bytes: ParquetBytes, file: string): Promise<FileMetaData> {
  if (bytes.size < 12) throw new SbError('INPUT_FAILED', `not a Parquet file: ${bytes.size === 0 ? 'it is empty' : `only ${bytes.size} bytes`}`, { file });
  const head = await bytes.read(0, 4);
  if (head.toString('latin1') !== 'PAR1') throw new SbError('INPUT_FAILED', 'not a Parquet file: it does not start with PAR1', { file });
  const asyncBuffer = {
    byteLength: bytes.size,
    slice: async (start: number, end = bytes.size) => {
      const b = await bytes.read(start, end - start);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
  try {
    return await parquetMetadataAsync(asyncBuffer);
  } catch (err) {
    if (err instanceof SbError) throw err;
    throw new SbError('INPUT_FAILED', `not a valid Parquet file: ${cleanMessage(err)}`, { file });
  }
}

// Any failure as one line: hyparquet's messages start with "parquet ".
export function cleanMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/^parquet /, '');
}

// A failure while reading `file`, as the input's failure (SbErrors pass through).
export function asInputError(err: unknown, file: string): unknown {
  if (err instanceof SbError) return err;
  return new SbError('INPUT_FAILED', `cannot read the Parquet file: ${cleanMessage(err)}`, { file });
}

// File formats by name: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.parquet`/`.pq`; text formats may end in
// `.gz` (`x.csv.gz`). A Parquet file compresses inside, so `x.parquet.gz` is not a format we read or write.
import type { TextFormat } from '../job/config.js';

const BY_EXTENSION: Record<string, TextFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

const GZIP_SUFFIX = /\.(gz|gzip)$/i;

// Whether a file name says gzip (`.gz`, `.gzip`).
export function isGzipName(file: string): boolean {
  return GZIP_SUFFIX.test(file);
}

// The format a file name implies (the extension before a `.gz`), or undefined; `x.parquet.gz` has none.
export function formatOf(file: string): TextFormat | undefined {
  const gz = isGzipName(file);
  const lower = file.toLowerCase().replace(GZIP_SUFFIX, '');
  const format = BY_EXTENSION[lower.slice(lower.lastIndexOf('.'))];
  return gz && format === 'parquet' ? undefined : format;
}

// Why a name cannot be used as given, when formatOf alone would only say "unknown".
export function formatProblem(file: string): string | undefined {
  const lower = file.toLowerCase().replace(GZIP_SUFFIX, '');
  if (isGzipName(file) && BY_EXTENSION[lower.slice(lower.lastIndexOf('.'))] === 'parquet') {
    return 'a gzipped Parquet file cannot be read or written: Parquet compresses inside the file (gunzip it, or drop the .gz)';
  }
  return undefined;
}

// The field delimiter a CSV-like format implies.
export function delimiterOf(format: TextFormat): string {
  return format === 'tsv' ? '\t' : ',';
}

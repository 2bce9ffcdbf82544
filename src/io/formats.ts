// File formats by name: `.csv`, `.tsv` (and `.txt` as CSV only when asked for explicitly).
import type { TextFormat } from '../job/config.js';

const BY_EXTENSION: Record<string, TextFormat> = { '.csv': 'csv', '.tsv': 'tsv', '.tab': 'tsv' };

// The format a file name implies, or undefined.
export function formatOf(file: string): TextFormat | undefined {
  const lower = file.toLowerCase();
  const ext = lower.slice(lower.lastIndexOf('.'));
  return BY_EXTENSION[ext];
}

// The field delimiter a format implies.
export function delimiterOf(format: TextFormat): string {
  return format === 'tsv' ? '\t' : ',';
}

const GZIP_SUFFIX = /\.(gz|gzip)$/i;

// Whether a file name says gzip (`.gz`, `.gzip`).
export function isGzipName(file: string): boolean {
  return GZIP_SUFFIX.test(file);
}

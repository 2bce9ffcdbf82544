// Helpers for reader tests: feed bytes we control, collect chunks into plain data comparable with toEqual.
import type { SourceChunk } from '../../src/table/chunk.js';

export type Input = string | Uint8Array;

export const bytes = (s: Input): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s));

export async function* blocksOf(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

// Cut `buf` at the given offsets (sorted, deduplicated, inside the buffer).
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

export const oneByteBlocks = (buf: Buffer): Buffer[] => Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));

export interface PlainChunk {
  rows: number;
  lines: number[];
  header: string[];
  texts: Record<string, string[]>;
  numbers: Record<string, { values: number[]; status: number[] }>;
  records: string[][];
  rejects: { line: number; error: string; fields: string[] }[];
}

export function plain(c: SourceChunk): PlainChunk {
  const texts: PlainChunk['texts'] = {};
  for (const [k, v] of c.texts) texts[k] = [...v];
  const numbers: PlainChunk['numbers'] = {};
  for (const [k, v] of c.numbers) numbers[k] = { values: [...v.values], status: [...v.status] };
  return {
    rows: c.rows,
    lines: [...c.lines],
    header: [...c.header],
    texts,
    numbers,
    records: Array.from({ length: c.rows }, (_, i) => [...c.record(i)]),
    rejects: c.rejects.map((r) => ({ ...r, fields: [...r.fields] })),
  };
}


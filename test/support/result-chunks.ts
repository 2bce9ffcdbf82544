// Result chunks built by hand, as the assembler gives them to writers (one helper per column kind).
import type { ResultChunk, ResultColumn } from '../../src/table/result.js';
import { packTexts } from '../../src/table/packed.js';

export const f64 = (name: string, values: number[]): ResultColumn => ({ name, kind: 'float', values: Float64Array.from(values), stride: 1, offset: 0 });
export const f32 = (name: string, values: number[]): ResultColumn => ({ name, kind: 'float', values: Float32Array.from(values), stride: 1, offset: 0 });
export const i32 = (name: string, values: number[]): ResultColumn => ({ name, kind: 'int', values: Int32Array.from(values), stride: 1, offset: 0 });
export const i64 = (name: string, values: bigint[]): ResultColumn => ({ name, kind: 'int', values: BigInt64Array.from(values), stride: 1, offset: 0 });
export const u64 = (name: string, values: bigint[]): ResultColumn => ({ name, kind: 'int', values: BigUint64Array.from(values), stride: 1, offset: 0 });
export const bools = (name: string, values: boolean[]): ResultColumn => ({ name, kind: 'bool', values: Uint8Array.from(values, Number), stride: 1, offset: 0 });
export const texts = (name: string, values: string[]): ResultColumn => ({ name, kind: 'text', values });
export const packed = (name: string, values: string[]): ResultColumn => ({ name, kind: 'packed', values: packTexts(values) });

// Column k of an [N, width] float output, as the assembler views it (stride and offset into one tensor).
export const f32Of = (name: string, rows: number[][], k: number): ResultColumn => ({ name, kind: 'float', values: Float32Array.from(rows.flat()), stride: rows[0].length, offset: k });

// A chunk of these columns (all of the same length).
export function chunkOf(...columns: ResultColumn[]): ResultChunk {
  const c = columns[0];
  const rows = c.kind === 'text' ? c.values.length : c.kind === 'packed' ? c.values.offsets.length - 1 : c.values.length / c.stride;
  return { rows, columns };
}

// What a run writes: result chunks (one row per scored input row) and the typed columns of a result table,
// known before any row is scored (pipeline/result-fields.ts), so a typed result (Parquet, later a database
// table) has the same schema whether or not its input had rows.
import type { PackedText } from './packed.js';

export type ResultColumn =
  | { name: string; kind: 'text'; values: string[] }
  | { name: string; kind: 'packed'; values: PackedText }
  | { name: string; kind: 'float'; values: Float32Array | Float64Array; stride: number; offset: number }
  | { name: string; kind: 'int'; values: ArrayLike<number> | ArrayLike<bigint>; stride: number; offset: number }
  | { name: string; kind: 'bool'; values: Uint8Array; stride: number; offset: number };

export interface ResultChunk {
  rows: number;
  columns: ResultColumn[];
}

export type FieldType = 'string' | 'float32' | 'float64' | 'int32' | 'int64' | 'uint64' | 'bool';

export interface ResultField {
  name: string;
  type: FieldType;
}

// Tensors as plain data, the form in which they cross between this thread and the model thread
// (model-thread.ts): typed arrays are moved (transferred), never copied; strings are copied.

export type TensorValues =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | string[];

export interface TensorData {
  /** ONNX Runtime's element type name: float32, int64, string, … */
  type: string;
  data: TensorValues;
  dims: number[];
}

/** A model input and its values. */
export interface NamedTensor extends TensorData {
  input: string;
}

export type Outputs = Record<string, TensorData>;

export interface RunSpec {
  /** The outputs to compute. */
  fetch: string[];
  /** The batch size the model declares, if it declares one ([1, F]); undefined: a dynamic batch. */
  fixedBatch?: number;
}

/**
 * Rows in every call of a model without a fixed batch dimension, whatever the chunk, `batch_size` or shard:
 * ONNX Runtime's tree ensembles add up a row's trees in another order when a call has few rows (they split
 * the trees between threads instead of the rows), so the same row got other float bits in a short last chunk
 * or at a shard's boundary. A call with fewer rows is padded with copies of one of its rows.
 * CPU per 1M rows of the bench's models (30 floats; calls of 1024 / 2048 / 8192 rows, 2-core machine): lr
 * 0.06 / 0.05 / 0.04 s, gbr 3.09 / 2.94 / 2.85 s, rf 7.35 / 7.04 / 6.75 s, mlp 1.72 / 1.72 / 2.19 s (an
 * MLP's layers of 2048 rows still fit the CPU's caches). 2048 keeps the trees within 4% of whole chunks and
 * the mlp 20% under them.
 */
export const CALL_ROWS = 2048;

// The rows of every call for a model: its declared batch size, else CALL_ROWS.
export function callRows(spec: RunSpec): number {
  return spec.fixedBatch ?? CALL_ROWS;
}

// Values per row of a batch-first shape.
export function rowWidth(dims: readonly number[]): number {
  return dims.length > 1 ? dims.slice(1).reduce((a, d) => a * d, 1) : 1;
}

// Rows [from, to) of a batch-first feed, in arrays of their own (so they can move to another thread).
export function rowsOf(f: NamedTensor, from: number, to: number): NamedTensor {
  const width = rowWidth(f.dims);
  return { ...f, data: f.data.slice(from * width, to * width), dims: [to - from, ...f.dims.slice(1)] };
}

// Batch-first tensors of the same type and row shape, one after the other in one tensor of arrays of its own:
// the first dims[0] rows of each (its data may hold more).
export function concatRows(parts: TensorData[]): TensorData {
  const first = parts[0];
  const rows = parts.reduce((n, p) => n + p.dims[0], 0);
  const width = rowWidth(first.dims);
  const dims = [rows, ...first.dims.slice(1)];
  if (Array.isArray(first.data)) return { type: first.type, data: parts.flatMap((p) => (p.data as string[]).slice(0, p.dims[0] * width)), dims };
  const data = new (first.data.constructor as new (n: number) => Exclude<TensorValues, string[]>)(rows * width);
  let at = 0;
  for (const p of parts) {
    const values = p.data as Exclude<TensorValues, string[]>;
    // In one copy (element by element, int64 values would each become a bigint).
    (data as { set(src: typeof values, at: number): void }).set(values.subarray(0, p.dims[0] * width), at);
    at += p.dims[0] * width;
  }
  return { type: first.type, data, dims };
}

// The distinct array buffers under some typed arrays, to transfer them with a message. Only buffers an array
// spans whole: a view into a larger buffer (Node.js's pool of small Buffers) is copied by the message instead.
export function buffersOf(values: Iterable<TensorValues | Uint8Array>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of values) {
    if (Array.isArray(v) || !(v.buffer instanceof ArrayBuffer)) continue;
    if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  }
  return [...out];
}

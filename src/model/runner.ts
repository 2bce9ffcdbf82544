// The model stage: feeds → fetched output tensors. Models with a fixed batch dimension (old exports declare
// [1, F]) are called in slices of that size, the last one padded, and the outputs stitched back together.
// Other models may be called in slices of `slice` rows (model/threads.ts chooses it when it is quicker).
import * as ort from 'onnxruntime-node';
import { SbError } from '../errors.js';
import type { Feed } from '../pipeline/featurize.js';
import { cleanOrtMessage } from './session.js';

export type Outputs = Record<string, ort.Tensor>;

export interface RunSpec {
  fetch: string[];
  /** Fixed batch size per input, when the model declares one. */
  fixedBatch?: number;
  /** Call the model on at most this many rows at a time (models without a fixed batch; every output batch-first). */
  slice?: number;
}

// Score the first `rows` rows of the feeds (all of them, usually). Throws SbError(MODEL_RUNTIME) with ONNX
// Runtime's reason.
export async function runModel(session: ort.InferenceSession, input: Feed[], rows: number, spec: RunSpec): Promise<Outputs> {
  const feeds: Outputs = {};
  for (const f of input) {
    const t = new ort.Tensor(f.type, f.data as never, f.dims);
    feeds[f.input] = rows < f.dims[0] ? rowsOf(t, 0, rows) : t;
  }
  const b = spec.fixedBatch;
  if (b === undefined && spec.slice !== undefined && rows > spec.slice) return runSliced(session, feeds, rows, spec.slice, spec.fetch);
  if (b === undefined || rows === b) return runOnce(session, feeds, spec.fetch);
  const parts: Outputs[] = [];
  for (let start = 0; start < rows; start += b) {
    const count = Math.min(b, rows - start);
    const slice: Outputs = {};
    for (const [name, t] of Object.entries(feeds)) slice[name] = sliceRows(t, start, count, b);
    const out = await runOnce(session, slice, spec.fetch);
    parts.push(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, count === b ? t : sliceRows(t, 0, count, count)])));
  }
  return Object.fromEntries(spec.fetch.map((name) => [name, concatRows(parts.map((p) => p[name]), rows)]));
}

// Rows in slices of `size`: inputs as views (no copy), outputs stacked.
async function runSliced(session: ort.InferenceSession, feeds: Outputs, rows: number, size: number, fetch: string[]): Promise<Outputs> {
  const parts: Outputs[] = [];
  for (let start = 0; start < rows; start += size) {
    const count = Math.min(size, rows - start);
    const part: Outputs = {};
    for (const [name, t] of Object.entries(feeds)) part[name] = rowsOf(t, start, count);
    const out = await runOnce(session, part, fetch);
    for (const [name, t] of Object.entries(out)) {
      const first = parts[0]?.[name];
      if (t.dims[0] !== count || (first && first.dims.slice(1).join() !== t.dims.slice(1).join())) {
        throw new SbError('MODEL_RUNTIME', `the model's output of shape [${t.dims.join(', ')}] for ${count} rows cannot be stacked by rows; set model.threads to score whole chunks`);
      }
    }
    parts.push(out);
  }
  return Object.fromEntries(fetch.map((name) => [name, concatRows(parts.map((p) => p[name]), rows)]));
}

/** Whether two calls' outputs are the same: shapes, and every value bit for bit. */
export function sameOutputs(a: Outputs, b: Outputs): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  for (const name of names) {
    const x = a[name];
    const y = b[name];
    if (!y || x.type !== y.type || x.dims.join() !== y.dims.join()) return false;
    const dx = x.data as unknown;
    const dy = y.data as unknown;
    if (ArrayBuffer.isView(dx) && ArrayBuffer.isView(dy)) {
      if (Buffer.compare(Buffer.from(dx.buffer, dx.byteOffset, dx.byteLength), Buffer.from(dy.buffer, dy.byteOffset, dy.byteLength)) !== 0) return false;
    } else {
      const sx = dx as unknown[];
      const sy = dy as unknown[];
      if (sx.length !== sy.length || sx.some((v, i) => v !== sy[i])) return false;
    }
  }
  return true;
}

// Rows [start, start+count) of a batch-first tensor: a view of a typed array, a copy of strings.
function rowsOf(t: ort.Tensor, start: number, count: number): ort.Tensor {
  const width = t.dims.length > 1 ? t.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
  const data = t.data as unknown as { subarray?: (a: number, b: number) => unknown; slice: (a: number, b: number) => unknown };
  const part = data.subarray ? data.subarray(start * width, (start + count) * width) : data.slice(start * width, (start + count) * width);
  return new ort.Tensor(t.type, part as never, [count, ...t.dims.slice(1)]);
}

async function runOnce(session: ort.InferenceSession, feeds: Outputs, fetch: string[]): Promise<Outputs> {
  try {
    return await session.run(feeds, fetch);
  } catch (err) {
    throw new SbError('MODEL_RUNTIME', `the model failed on this data: ${cleanOrtMessage(err)}`);
  }
}

// Rows [start, start+count) of a tensor, padded with copies of the first row up to `size` rows.
function sliceRows(t: ort.Tensor, start: number, count: number, size: number): ort.Tensor {
  const width = t.dims.length > 1 ? t.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
  const src = t.data as ArrayLike<unknown> & { slice?: (a: number, b: number) => unknown };
  const data = t.type === 'string' ? new Array<string>(size * width) : new (t.data.constructor as new (n: number) => ArrayLike<unknown>)(size * width);
  const dst = data as unknown as { [i: number]: unknown };
  for (let i = 0; i < size * width; i++) {
    const row = i < count * width ? start * width + i : start * width + (i % width);
    dst[i] = (src as { [i: number]: unknown })[row];
  }
  return new ort.Tensor(t.type, data as never, [size, ...t.dims.slice(1)]);
}

// Stack tensors along the first dimension.
function concatRows(parts: ort.Tensor[], rows: number): ort.Tensor {
  const first = parts[0];
  const width = first.dims.length > 1 ? first.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
  const data = first.type === 'string' ? new Array<string>(rows * width) : new (first.data.constructor as new (n: number) => ArrayLike<unknown>)(rows * width);
  const dst = data as unknown as { [i: number]: unknown; set?: (src: unknown, at: number) => void };
  let o = 0;
  for (const p of parts) {
    const src = p.data as unknown as { [i: number]: unknown; length: number };
    // Typed arrays in one copy (element by element, int64 values would each become a bigint).
    if (dst.set) dst.set(src, o);
    else for (let i = 0; i < src.length; i++) dst[o + i] = src[i];
    o += src.length;
  }
  return new ort.Tensor(first.type, data as never, [rows, ...first.dims.slice(1)]);
}

// The model stage: feeds → fetched output tensors. Models with a fixed batch dimension (old exports declare
// [1, F]) are called in slices of that size, the last one padded, and the outputs stitched back together.
import * as ort from 'onnxruntime-node';
import { SbError } from '../errors.js';
import type { Feed } from '../pipeline/featurize.js';
import { cleanOrtMessage } from './session.js';

export type Outputs = Record<string, ort.Tensor>;

export interface RunSpec {
  fetch: string[];
  /** Fixed batch size per input, when the model declares one. */
  fixedBatch?: number;
}

// Score `rows` rows. Throws SbError(MODEL_RUNTIME) with ONNX Runtime's reason.
export async function runModel(session: ort.InferenceSession, input: Feed[], rows: number, spec: RunSpec): Promise<Outputs> {
  const feeds: Outputs = {};
  for (const f of input) feeds[f.input] = new ort.Tensor(f.type, f.data as never, f.dims);
  const b = spec.fixedBatch;
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
  const dst = data as unknown as { [i: number]: unknown };
  let o = 0;
  for (const p of parts) {
    const src = p.data as unknown as { [i: number]: unknown; length: number };
    for (let i = 0; i < src.length; i++) dst[o++] = src[i];
  }
  return new ort.Tensor(first.type, data as never, [rows, ...first.dims.slice(1)]);
}

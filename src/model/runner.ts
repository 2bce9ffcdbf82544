// The model stage, in the model thread (model-worker.ts): feeds → fetched outputs. Every call has the same
// number of rows (tensors.ts, callRows): the model's declared batch size, or CALL_ROWS. A chunk is scored in
// calls of that many rows, the last one padded with copies of its first row (a real row, so that an encoder
// that refuses unknown values accepts it), and the pad rows' outputs are dropped. So a row's outputs never
// depend on which rows share its call: not on batch_size, the end of a file or a shard's boundary.
import * as ort from 'onnxruntime-node';
import { SbError } from '../errors.js';
import { cleanOrtMessage } from './ort-message.js';
import { callRows, concatRows, rowWidth, type NamedTensor, type Outputs, type RunSpec, type TensorValues } from './tensors.js';

type Sliceable = TensorValues & { subarray?: (a: number, b: number) => TensorValues; slice: (a: number, b: number) => TensorValues };

// Score the first `rows` rows of the feeds (all of them, usually), in calls of callRows(spec) rows. Throws
// SbError(MODEL_RUNTIME) with ONNX Runtime's reason.
export async function runModel(session: ort.InferenceSession, feeds: NamedTensor[], rows: number, spec: RunSpec): Promise<Outputs> {
  if (rows === 0) throw new Error('internal: a model call needs at least one row');
  const size = callRows(spec);
  const parts: Record<string, ort.Tensor>[] = [];
  for (let start = 0; start < rows; start += size) {
    const count = Math.min(size, rows - start);
    const call: Record<string, ort.Tensor> = {};
    for (const f of feeds) call[f.input] = new ort.Tensor(f.type as ort.Tensor.Type, callData(f, start, count, size) as never, [size, ...f.dims.slice(1)]);
    const out = await runOnce(session, call, spec.fetch);
    for (const [name, t] of Object.entries(out)) {
      if (t.dims[0] !== size) {
        throw new SbError('MODEL_RUNTIME', `output '${name}' has shape [${t.dims.join(', ')}] for a call of ${size} rows; serve-batch needs one output row per input row`);
      }
    }
    parts.push(out);
  }
  // Each call's rows but the pad rows of the last one, in arrays of their own (so they can move to another thread).
  const rowsIn = (i: number) => Math.min(size, rows - i * size);
  const stacked = (name: string) => concatRows(parts.map((p, i) => ({ type: p[name].type, data: p[name].data as TensorValues, dims: [rowsIn(i), ...p[name].dims.slice(1)] })));
  return Object.fromEntries(spec.fetch.map((name) => [name, stacked(name)]));
}

// The values of rows [start, start+count) of a feed for a call of `size` rows: a view when the call is full,
// else a copy padded with row `start`.
function callData(f: NamedTensor, start: number, count: number, size: number): TensorValues {
  const width = rowWidth(f.dims);
  const data = f.data as Sliceable;
  if (count === size) return data.subarray ? data.subarray(start * width, (start + size) * width) : data.slice(start * width, (start + size) * width);
  const out = Array.isArray(data) ? new Array<string>(size * width) : new (data.constructor as new (n: number) => Exclude<TensorValues, string[]>)(size * width);
  const src = data as unknown as { [i: number]: unknown };
  const dst = out as unknown as { [i: number]: unknown };
  for (let i = 0; i < size * width; i++) dst[i] = src[start * width + (i < count * width ? i : i % width)];
  return out;
}

async function runOnce(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetch: string[]): Promise<Record<string, ort.Tensor>> {
  try {
    return await session.run(feeds, fetch);
  } catch (err) {
    throw new SbError('MODEL_RUNTIME', `the model failed on this data: ${cleanOrtMessage(err)}`);
  }
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

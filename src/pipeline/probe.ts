// Output widths a model does not declare ([N, ?]) are learnt by running it once on zero rows, so every
// result file of a job has the same header, even for an input without rows.
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '../model/session.js';
import type { RunPlan } from './plan.js';

const EMPTY: Record<string, () => ort.Tensor['data']> = {
  string: () => [],
  float32: () => new Float32Array(0),
  float64: () => new Float64Array(0),
  int64: () => new BigInt64Array(0),
  uint64: () => new BigUint64Array(0),
  int32: () => new Int32Array(0),
  int16: () => new Int16Array(0),
  int8: () => new Int8Array(0),
  uint32: () => new Uint32Array(0),
  uint16: () => new Uint16Array(0),
  uint8: () => new Uint8Array(0),
  bool: () => new Uint8Array(0),
};

// Fill in the names of unresolved outputs; leaves them unresolved if the model refuses an empty batch
// (they are then named from the first real chunk).
export async function probeWidths(model: LoadedModel, plan: RunPlan): Promise<void> {
  if (plan.unresolved.length === 0 || plan.tensors.some((t) => t.fixedBatch !== undefined)) return;
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of plan.tensors) feeds[t.input] = new ort.Tensor(t.type, EMPTY[t.type]() as never, t.rank === 1 ? [0] : [0, t.columns.length]);
  let outputs: Record<string, ort.Tensor>;
  try {
    outputs = await model.session.run(feeds, plan.unresolved);
  } catch {
    return;
  }
  for (const c of plan.columns) {
    const t = outputs[c.output];
    if (c.kind !== 'values' || c.names.length > 0 || !t || t.dims.length !== 2) continue;
    for (let k = 0; k < t.dims[1]; k++) c.names.push(`${c.base}_${k}`);
  }
  plan.unresolved = plan.unresolved.filter((o) => !plan.columns.some((c) => c.kind === 'values' && c.output === o && c.names.length > 0));
}

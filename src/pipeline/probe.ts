// One model call on zero rows, before any data is read, for two things the declared shapes do not tell:
// - output widths a model does not declare ([N, ?]), so every result file of a job has the same header, even
//   for an input without rows;
// - whether an [N, ?] input gets enough features: tree ensembles check the feature indices they use against
//   the input's width even on an empty batch ("requests feature 19 but input tensor has 2 features"), so a
//   job that lists too few columns is refused here (exit 2) rather than failing on its first chunk.
import { SbError } from '../errors.js';
import type { JobConfig } from '../job/config.js';
import type { LoadedModel } from '../model/session.js';
import type { Outputs, TensorValues } from '../model/tensors.js';
import type { RunPlan } from './plan.js';

const EMPTY: Record<string, () => TensorValues> = {
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

const TOO_FEW_FEATURES = /requests feature (\d+) but input tensor has (\d+) features/;

// The plan with the names of unresolved outputs filled in (a new plan: `plan` is left as it is), or refuse too
// few features for an [N, ?] input (MODEL_MISMATCH). Any other refusal of the empty batch is ignored: widths
// are then named from the first real chunk.
export async function probeWidths(model: LoadedModel, plan: RunPlan, job?: JobConfig): Promise<RunPlan> {
  if (plan.tensors.some((t) => t.fixedBatch !== undefined)) return plan;
  const dynamicWidth = plan.tensors.some((t) => {
    const input = model.inputs.find((i) => i.name === t.input);
    const dims = input?.type.kind === 'tensor' ? input.type.dims : undefined;
    return t.rank === 2 && typeof dims?.[1] !== 'number';
  });
  if (plan.unresolved.length === 0 && !dynamicWidth) return plan;
  const feeds = plan.tensors.map((t) => ({ input: t.input, type: t.type, data: EMPTY[t.type](), dims: t.rank === 1 ? [0] : [0, t.columns.length] }));
  let outputs: Outputs;
  try {
    outputs = await model.thread.probe(feeds, plan.unresolved.length > 0 ? plan.unresolved : plan.fetch);
  } catch (err) {
    // Only ONNX Runtime's refusal of the empty batch is weighed here; anything else (a stop, a model that
    // does not answer) is the run's.
    if (!(err instanceof SbError) || err.code !== 'MODEL_RUNTIME') throw err;
    const message = err.message.replace(/\.$/, '');
    if (TOO_FEW_FEATURES.test(message)) {
      const yamlPath = job?.features.mode === 'columns' ? 'features.columns' : 'features';
      throw new SbError('MODEL_MISMATCH', `the model refuses the features it is given: ${message}${featureHint(job, message)}`, { yamlPath });
    }
    return plan;
  }
  const columns = plan.columns.map((c) => {
    const t = outputs[c.output];
    if (c.kind !== 'values' || c.names.length > 0 || !t || t.dims.length !== 2) return c;
    return { ...c, names: Array.from({ length: t.dims[1] }, (_, k) => `${c.base}_${k}`) };
  });
  const unresolved = plan.unresolved.filter((o) => !columns.some((c) => c.kind === 'values' && c.output === o && c.names.length > 0));
  return { ...plan, columns, unresolved };
}

// Tree ensembles index features by position: name how many the model needs and how many the job gives.
export function featureHint(job: JobConfig | undefined, message: string): string {
  const m = TOO_FEW_FEATURES.exec(message);
  if (!m) return '';
  const given = job?.features.mode === 'columns' ? `features.columns lists ${job.features.columns.length}` : `it is given ${m[2]}`;
  return ` — the model needs at least ${Number(m[1]) + 1} features, ${given}`;
}

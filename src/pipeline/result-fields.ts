// The type of each result column, known before any row is scored (from the plan and the model's output
// element types), so a typed result file (Parquet) has the same schema whether or not its input had rows.
// Mirrors assemble.ts: labels and string outputs are text, floats keep their width, threshold flags are
// small integers.
import type { LoadedModel } from '../model/session.js';
import type { FieldType, ResultField } from '../table/result.js';
import type { RunPlan } from './plan.js';
import { resultNames } from './assemble.js';

const BY_ELEM_TYPE: Record<string, FieldType> = {
  float32: 'float32',
  float16: 'float32',
  float64: 'float64',
  int64: 'int64',
  uint64: 'uint64',
  uint32: 'int64',
  int32: 'int32',
  int16: 'int32',
  int8: 'int32',
  uint16: 'int32',
  uint8: 'int32',
  bool: 'bool',
  string: 'string',
};

// Result columns with their types, in result order (call after the widths are known: probe or first chunk).
export function resultFields(plan: RunPlan, model: LoadedModel): ResultField[] {
  const names = resultNames(plan);
  const types: FieldType[] = plan.passthrough.map(() => 'string');
  for (const c of plan.columns) {
    if (c.kind === 'threshold') {
      types.push('int32');
      continue;
    }
    const out = model.outputs.find((o) => o.name === c.output);
    const elem = out?.type.kind === 'tensor' ? out.type.elemType : 'float32';
    const type: FieldType = c.labels ? 'string' : (BY_ELEM_TYPE[elem] ?? 'float64');
    for (let i = 0; i < c.names.length; i++) types.push(type);
  }
  return names.map((name, i) => ({ name, type: types[i] }));
}

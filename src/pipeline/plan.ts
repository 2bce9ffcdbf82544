// Job × model → what to read, which tensors to build, which outputs to fetch and how they become columns.
// Every job/model mismatch is found here, before any data is read (exit 2).
import { SbError } from '../errors.js';
import type { JobConfig, MissingPolicy, PredictionSpec } from '../job/config.js';
import { outputClasses, typeToString, type Dim, type ValueInfo } from '../model/model-info.js';
import type { LoadedModel } from '../model/session.js';
import type { RunSpec } from '../model/tensors.js';
import { didYouMean } from '../util/suggest.js';
import type { ColumnNeed } from '../table/chunk.js';

export type FeedType = 'float32' | 'float64' | 'int64' | 'uint64' | 'int32' | 'int16' | 'int8' | 'uint32' | 'uint16' | 'uint8' | 'bool' | 'string';
export const FEEDABLE = new Set<string>(['float32', 'float64', 'int64', 'uint64', 'int32', 'int16', 'int8', 'uint32', 'uint16', 'uint8', 'bool', 'string']);
/** Element types parsed from text exactly (no detour through a double). */
const FROM_TEXT = new Set<string>(['int64', 'uint64', 'bool', 'string']);

export interface TensorPlan {
  input: string;
  type: FeedType;
  columns: { name: string; missing: MissingPolicy }[];
  /** Rank of the tensor: 2 → [n, columns], 1 → [n]. */
  rank: 1 | 2;
  /** A fixed batch dimension (old exports declare [1, F]); undefined when dynamic. */
  fixedBatch?: number;
}

/** How one fetched output becomes result columns. */
export type ColumnPlan =
  | { kind: 'values'; output: string; base: string; names: string[]; labels?: string[]; classes?: (string | number)[] }
  | { kind: 'threshold'; output: string; name: string; classIndex: number; at: number };

export interface RunPlan {
  tensors: TensorPlan[];
  needs: ColumnNeed[];
  passthrough: string[];
  fetch: string[];
  columns: ColumnPlan[];
  /** Output names whose width is unknown until the model runs once. */
  unresolved: string[];
  warnings: string[];
}

const where = (yamlPath: string) => ({ yamlPath });

// What every model call of a run computes, and the batch size the model declares, if any.
export function runSpecOf(plan: RunPlan): RunSpec {
  return { fetch: plan.fetch, fixedBatch: plan.tensors.find((t) => t.fixedBatch !== undefined)?.fixedBatch };
}

// Build the plan; throws SbError(MODEL_MISMATCH) for anything the model cannot take or give.
export function planRun(job: JobConfig, model: LoadedModel): RunPlan {
  const warnings: string[] = [];
  const tensors = planTensors(job, model, warnings);
  const needs = new Map<string, ColumnNeed>();
  const need = (name: string, asNumber: boolean, asText: boolean) => {
    const n = needs.get(name) ?? { name, number: false, text: false };
    n.number ||= asNumber;
    n.text ||= asText;
    needs.set(name, n);
  };
  for (const t of tensors) for (const c of t.columns) need(c.name, !FROM_TEXT.has(t.type), FROM_TEXT.has(t.type));
  for (const p of job.passthrough) need(p, false, true);
  const { fetch, columns, unresolved } = planOutputs(job, model, warnings);
  const names = [...job.passthrough];
  for (const c of columns) names.push(...(c.kind === 'threshold' ? [c.name] : c.names));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SbError('MODEL_MISMATCH', `result column '${dup}' would appear twice; rename it with predictions[].column`, where('predictions'));
  return { tensors, needs: [...needs.values()], passthrough: job.passthrough, fetch, columns, unresolved, warnings };
}

function missingFor(job: JobConfig, column: string): MissingPolicy {
  return job.missing.byColumn.get(column) ?? job.missing.default;
}

function tensorInput(model: LoadedModel, name: string, yamlPath: string): ValueInfo & { type: { kind: 'tensor'; elemType: string; dims?: Dim[] } } {
  const input = model.inputs.find((i) => i.name === name);
  const names = model.inputs.map((i) => i.name);
  if (!input) {
    throw new SbError('MODEL_MISMATCH', `model has no input '${name}'${didYouMean(name, names)} (inputs: ${names.join(', ')})`, where(yamlPath));
  }
  if (input.type.kind !== 'tensor') {
    throw new SbError('MODEL_MISMATCH', `model input '${name}' is a ${typeToString(input.type)}, not a tensor; serve-batch feeds tensors only`, where(yamlPath));
  }
  if (!FEEDABLE.has(input.type.elemType)) {
    throw new SbError('MODEL_MISMATCH', `model input '${name}' has element type ${input.type.elemType}, which cannot be fed from a table; re-export it with float32, float64, int64 or string inputs`, where(yamlPath));
  }
  return input as ValueInfo & { type: { kind: 'tensor'; elemType: string; dims?: Dim[] } };
}

function planTensors(job: JobConfig, model: LoadedModel, warnings: string[]): TensorPlan[] {
  const f = job.features;
  if (f.mode === 'columns') {
    let name = f.input;
    if (name === undefined) {
      if (model.inputs.length !== 1) {
        const names = model.inputs.map((i) => i.name).join(', ');
        throw new SbError('MODEL_MISMATCH', `the model has ${model.inputs.length} inputs (${names}): name one with features.input, or map each with features.inputs`, where('features.columns'));
      }
      name = model.inputs[0].name;
    }
    const input = tensorInput(model, name, f.input ? 'features.input' : 'features.columns');
    const dims = input.type.dims;
    if (dims && dims.length !== 2) {
      throw new SbError('MODEL_MISMATCH', `model input '${name}' has shape ${typeToString(input.type)}; features.columns needs a 2-D [N, F] input`, where('features.columns'));
    }
    const width = dims?.[1];
    if (typeof width === 'number' && width !== f.columns.length) {
      throw new SbError('MODEL_MISMATCH', `model input '${name}' takes ${width} features but features.columns lists ${f.columns.length}`, where('features.columns'));
    }
    const dupe = f.columns.find((c, i) => f.columns.indexOf(c) !== i);
    if (dupe) throw new SbError('MODEL_MISMATCH', `column '${dupe}' is listed twice`, where('features.columns'));
    const extra = model.inputs.filter((i) => i.name !== name).map((i) => i.name);
    if (extra.length) throw new SbError('MODEL_MISMATCH', `model inputs ${extra.join(', ')} are not fed: map every input with features.inputs`, where('features'));
    return [withBatch({ input: name, type: input.type.elemType as FeedType, columns: f.columns.map((c) => ({ name: c, missing: missingFor(job, c) })), rank: 2 }, dims, warnings)];
  }
  const mapped = new Set(f.inputs.map((i) => i.input));
  const unfed = model.inputs.filter((i) => !mapped.has(i.name)).map((i) => i.name);
  if (unfed.length) {
    throw new SbError('MODEL_MISMATCH', `model input${unfed.length > 1 ? 's' : ''} ${unfed.join(', ')} not mapped in features.inputs`, where('features.inputs'));
  }
  return f.inputs.map(({ input: name, column }) => {
    const input = tensorInput(model, name, `features.inputs.${name}`);
    const dims = input.type.dims;
    if (dims && !(dims.length === 1 || (dims.length === 2 && (dims[1] === 1 || dims[1] === '' || typeof dims[1] === 'string')))) {
      throw new SbError('MODEL_MISMATCH', `model input '${name}' has shape ${typeToString(input.type)}; features.inputs feeds one column as [N, 1] or [N]`, where(`features.inputs.${name}`));
    }
    const rank = dims?.length === 1 ? 1 : 2;
    return withBatch({ input: name, type: input.type.elemType as FeedType, columns: [{ name: column, missing: missingFor(job, column) }], rank }, dims, warnings);
  });
}

function withBatch(t: TensorPlan, dims: Dim[] | undefined, warnings: string[]): TensorPlan {
  for (const c of t.columns) checkFill(t, c.missing, c.name);
  const batch = dims?.[0];
  if (typeof batch === 'number' && batch > 0) {
    warnings.push(`model input '${t.input}' has a fixed batch dimension of ${batch}: rows are scored ${batch} at a time, which is much slower than a dynamic batch; re-export with a dynamic first dimension (skl2onnx: initial_types=[('${t.input}', FloatTensorType([None, F]))])`);
    return { ...t, fixedBatch: batch };
  }
  return t;
}

function checkFill(t: TensorPlan, m: MissingPolicy, column: string): void {
  if (m.kind !== 'fill') return;
  const integer = t.type.startsWith('int') || t.type.startsWith('uint');
  if (integer && !Number.isInteger(m.value)) {
    throw new SbError('MODEL_MISMATCH', `missing: ${m.value} cannot fill column '${column}': model input '${t.input}' is ${t.type}; use a whole number`, where('features.missing'));
  }
}

function planOutputs(job: JobConfig, model: LoadedModel, warnings: string[]): { fetch: string[]; columns: ColumnPlan[]; unresolved: string[] } {
  const specs: PredictionSpec[] = job.predictions ?? defaultPredictions(model, warnings);
  const fetch: string[] = [];
  const columns: ColumnPlan[] = [];
  const unresolved: string[] = [];
  specs.forEach((spec, i) => {
    const yamlPath = job.predictions ? `predictions.${i}` : 'predictions';
    const out = checkOutput(model, spec.output, yamlPath);
    if (!fetch.includes(spec.output)) fetch.push(spec.output);
    const dims = out.type.kind === 'tensor' ? out.type.dims : undefined;
    const width = dims && dims.length === 2 ? dims[1] : dims && dims.length <= 1 ? 1 : undefined;
    // Class names for the columns of a 2-D output (ZipMap's or the classifier's), when they fit its width.
    const modelClasses = outputClasses(model.declared, spec.output);
    const zipLabels = modelClasses && (typeof width !== 'number' || width === modelClasses.length) ? modelClasses : undefined;
    if (spec.kind === 'threshold') {
      const labels = labelsFor(job, spec.output) ?? zipLabels?.map(String);
      const classIndex = labels ? labels.indexOf(spec.cls) : /^\d+$/.test(spec.cls) ? Number(spec.cls) : -1;
      if (classIndex < 0 || (typeof width === 'number' && classIndex >= width)) {
        const known = labels ? `classes: ${labels.join(', ')}` : `give a class index below ${width ?? 'the output width'}`;
        throw new SbError('MODEL_MISMATCH', `threshold class '${spec.cls}' is not a class of output '${spec.output}' (${known})`, where(`${yamlPath}.threshold.class`));
      }
      columns.push({ kind: 'threshold', output: spec.output, name: spec.column, classIndex, at: spec.at });
      return;
    }
    const classes = model.declared.classLabels[spec.output];
    if (spec.labels && out.type.kind === 'tensor' && out.type.elemType === 'string') {
      throw new SbError('MODEL_MISMATCH', `output '${spec.output}' already holds class names (strings); remove labels`, where(`${yamlPath}.labels`));
    }
    if (width === 1 || (dims && dims.length < 2)) {
      if (spec.labels && classes && spec.labels.length !== classes.length) {
        throw new SbError('MODEL_MISMATCH', `labels has ${spec.labels.length} names but the model has ${classes.length} classes (${classes.join(', ')})`, where(`${yamlPath}.labels`));
      }
      columns.push({ kind: 'values', output: spec.output, base: spec.column, names: [spec.column], labels: spec.labels, classes });
      return;
    }
    const names = spec.labels ?? zipLabels?.map(String);
    if (typeof width === 'number' && names && names.length !== width) {
      throw new SbError('MODEL_MISMATCH', `labels has ${names.length} names but output '${spec.output}' has ${width} columns`, where(`${yamlPath}.labels`));
    }
    if (names) columns.push({ kind: 'values', output: spec.output, base: spec.column, names: names.map((l) => `${spec.column}_${l}`) });
    else if (typeof width === 'number') columns.push({ kind: 'values', output: spec.output, base: spec.column, names: Array.from({ length: width }, (_, k) => `${spec.column}_${k}`) });
    else {
      columns.push({ kind: 'values', output: spec.output, base: spec.column, names: [] });
      unresolved.push(spec.output);
    }
  });
  return { fetch, columns, unresolved };
}

// Without predictions: every output the session can return. Non-tensor outputs (other than ZipMap, already
// turned into a tensor) are left out with a warning; an unreturnable tensor type is refused, since leaving it
// out silently would change what "every output" means.
function defaultPredictions(model: LoadedModel, warnings: string[]): PredictionSpec[] {
  const tensors = model.outputs.filter((o) => o.type.kind === 'tensor');
  for (const o of model.outputs) {
    if (o.type.kind !== 'tensor') warnings.push(`model output '${o.name}' is a ${typeToString(o.type)}, which onnxruntime-node cannot return: it is left out of the results`);
  }
  const unreturnable = tensors.find((o) => o.type.kind === 'tensor' && !RETURNABLE.has(o.type.elemType));
  if (unreturnable && unreturnable.type.kind === 'tensor') {
    const ok = tensors.filter((o) => o.type.kind === 'tensor' && RETURNABLE.has(o.type.elemType)).map((o) => o.name);
    const list = ok.length ? `list the outputs to write, e.g. predictions: [${ok.join(', ')}]` : 're-export the model with it cast to float32 or int32';
    throw new SbError('MODEL_MISMATCH', `model output '${unreturnable.name}' has element type ${unreturnable.type.elemType}, which onnxruntime-node cannot return (fetching it aborts the process); ${list}`, where('predictions'));
  }
  if (tensors.length === 0) {
    throw new SbError('MODEL_MISMATCH', `the model has no output onnxruntime-node can return (outputs: ${model.outputs.map((o) => `${o.name} ${typeToString(o.type)}`).join(', ')}); re-export it with tensor outputs`, where('predictions'));
  }
  return tensors.map((o) => ({ kind: 'output', output: o.name, column: o.name }));
}

function labelsFor(job: JobConfig, output: string): string[] | undefined {
  const p = job.predictions?.find((s) => s.kind === 'output' && s.output === output && s.labels);
  return p?.kind === 'output' ? p.labels : undefined;
}

/** Output element types onnxruntime-node 1.30 returns as JS values; converting int4/uint4 aborts the process. */
export const RETURNABLE = new Set(['float32', 'float64', 'int64', 'uint64', 'int32', 'int16', 'int8', 'uint32', 'uint16', 'uint8', 'bool', 'string', 'float16']);

// The output a prediction names, if the session can return it.
function checkOutput(model: LoadedModel, name: string, yamlPath: string): ValueInfo {
  const out = model.outputs.find((o) => o.name === name);
  const names = model.outputs.map((o) => o.name);
  if (!out) {
    throw new SbError('MODEL_MISMATCH', `model has no output '${name}'${didYouMean(name, names)} (outputs: ${names.join(', ')})`, where(`${yamlPath}.output`));
  }
  if (out.type.kind !== 'tensor') {
    const zipmapLike = out.type.kind === 'sequence' && out.type.elem?.kind === 'map';
    const fix = zipmapLike ? "or re-export the classifier without ZipMap (skl2onnx: options={'zipmap': False})" : 'or re-export the model with this output as a tensor';
    throw new SbError('MODEL_MISMATCH', `output '${name}' is a ${typeToString(out.type)}, which onnxruntime-node cannot return; write a tensor output instead, ${fix}`, where(`${yamlPath}.output`));
  }
  if (!RETURNABLE.has(out.type.elemType)) {
    throw new SbError('MODEL_MISMATCH', `output '${name}' has element type ${out.type.elemType}, which onnxruntime-node cannot return (fetching it aborts the process); re-export with it cast to float32 or int32, or leave it out of predictions`, where(`${yamlPath}.output`));
  }
  return out;
}

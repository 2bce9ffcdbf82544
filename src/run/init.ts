// A starter job from a model and a sample's header: which column feeds which model input and which outputs
// to write. Pure: ModelInfo + header/rows in, YAML text and what could not be matched out. Shared by
// `serve-batch init` (with a sample) and `serve-batch inspect` (a features/predictions snippet without one).
import { SbError } from '../errors.js';
import { isMissingText, OK, parseNumberCell, type CellStatus } from '../table/numbers.js';
import { outputClasses, typeToString, type Dim, type ModelInfo, type ValueInfo } from '../model/model-info.js';
import { FEEDABLE, RETURNABLE } from '../pipeline/plan.js';

export interface SampleTable {
  header: string[];
  rows: string[][];
}

export interface Snippet {
  /** YAML lines (`features:` block, then `predictions:` block). */
  features: string[];
  predictions: string[];
  /** Model inputs (or named features) that no column of the sample matches. */
  unmatched: string[];
  /** What was matched loosely or guessed, one sentence each. */
  notes: string[];
  /** Header columns used as features. */
  used: string[];
}

export interface StarterJob {
  yaml: string;
  unmatched: string[];
  notes: string[];
}

type TensorInfo = ValueInfo & { type: { kind: 'tensor'; elemType: string; dims?: Dim[] } };

const FLOATS = new Set(['float32', 'float64']);

// The features/predictions part of a job for this model; with a sample, mapped onto its columns.
export function modelSnippet(info: ModelInfo, sample?: SampleTable): Snippet {
  const inputs = feedableInputs(info);
  const s: Snippet = { features: ['features:'], predictions: predictionLines(info), unmatched: [], notes: [], used: [] };
  const single = inputs.length === 1 && (inputs[0].type.dims === undefined || inputs[0].type.dims.length === 2);
  if (single) columnsBlock(inputs[0], info, sample, s);
  else inputsBlock(inputs, sample, s);
  s.features.push(...missingLines(inputs, single, sample, s));
  return s;
}

// A complete starter job file.
export function starterJob(info: ModelInfo, o: { modelPath: string; inputPath: string; sample: SampleTable }): StarterJob {
  const s = modelSnippet(info, o.sample);
  const rest = o.sample.header.filter((h) => !s.used.includes(h));
  const lines = [
    `# Starter job written by serve-batch init from ${o.modelPath} and ${o.inputPath}.`,
    '# Check the lines marked CHECK, then run: serve-batch validate <this file>',
    `model: ${yamlString(o.modelPath)}`,
    'input:',
    `  path: ${yamlString(o.inputPath)}`,
    ...s.features,
    ...(rest.length ? [`# passthrough: ${flowList(rest)}   # input columns to copy into the result, first (ids, keys)`] : []),
    ...s.predictions,
    'output:',
    "  path: 'out/{job}/{input_stem}.scored.csv'   # {job}: the job's name (this file's, without .yaml), so jobs started from one sample keep apart",
    'errors:',
    '  max_rejected: 0                 # rows that may be rejected before the input fails: a count or a share like "1%"',
    "  rejects: 'out/{job}/{input_stem}.rejects.csv'",
  ];
  return { yaml: `${lines.join('\n')}\n`, unmatched: s.unmatched, notes: s.notes };
}

// Inputs as tensors serve-batch can feed from a table, or a MODEL_MISMATCH naming the one it cannot.
function feedableInputs(info: ModelInfo): TensorInfo[] {
  if (info.inputs.length === 0) throw new SbError('MODEL_MISMATCH', 'the model has no inputs to feed');
  for (const i of info.inputs) {
    if (i.type.kind !== 'tensor') throw new SbError('MODEL_MISMATCH', `model input '${i.name}' is a ${typeToString(i.type)}, not a tensor; serve-batch feeds tensors only`);
    if (!FEEDABLE.has(i.type.elemType)) {
      throw new SbError('MODEL_MISMATCH', `model input '${i.name}' has element type ${i.type.elemType}, which cannot be fed from a table; re-export it with float32, float64, int64 or string inputs`);
    }
  }
  const inputs = info.inputs as TensorInfo[];
  if (inputs.length > 1) {
    const wide = inputs.find((i) => i.type.dims && (i.type.dims.length > 2 || (i.type.dims.length === 2 && typeof i.type.dims[1] === 'number' && i.type.dims[1] !== 1)));
    if (wide) {
      throw new SbError('MODEL_MISMATCH', `model input '${wide.name}' is ${typeToString(wide.type)} next to other inputs; serve-batch feeds either one [N, F] input or one [N, 1] input per column`);
    }
  }
  return inputs;
}

// features.columns for a model with one [N, F] input: the model's own feature names when its metadata has
// them, else the sample's first F numeric columns (a guess, said so), else placeholders f0, f1, ...
function columnsBlock(input: TensorInfo, info: ModelInfo, sample: SampleTable | undefined, s: Snippet): void {
  const dims = input.type.dims;
  const width = typeof dims?.[1] === 'number' ? dims[1] : undefined;
  const shape = typeToString(input.type);
  let names = featureNames(info);
  if (names && width !== undefined && names.length !== width) {
    s.notes.push(`the model's metadata names ${names.length} features but input '${input.name}' takes ${width}; the names were not used`);
    names = undefined;
  }
  let columns: string[];
  let comment: string;
  const byName = width === 1 && sample ? matchColumn(input.name, sample.header) : undefined;
  if (byName) names = [input.name];
  if (names) {
    columns = names.map((n) => {
      const m = sample ? matchColumn(n, sample.header) : undefined;
      if (sample && !m) s.unmatched.push(n);
      if (m?.loose) s.notes.push(`feature '${n}' matched column '${m.column}' ignoring case and punctuation`);
      return m?.column ?? n;
    });
    comment = byName ? `${input.name} ${shape}` : `${input.name} ${shape}, features named in the model's metadata`;
  } else if (sample) {
    const numeric = numericColumns(sample);
    const n = width ?? numeric.length;
    columns = numeric.slice(0, n);
    for (let k = columns.length; k < n; k++) {
      columns.push(`f${k}`);
      s.unmatched.push(`feature ${k} of input '${input.name}'`);
    }
    const how = width === undefined ? `the model does not declare how many features it takes; listed every numeric column of the sample` : `the model does not name its ${n} features; took the first ${n} numeric columns of the sample`;
    s.notes.push(`features.columns: ${how} (${columns.join(', ')}): check they are the model's features, in training order`);
    comment = `CHECK: guessed; ${input.name} ${shape} takes the features in training order`;
  } else {
    columns = Array.from({ length: width ?? 2 }, (_, k) => `f${k}`);
    comment = width === undefined ? `${input.name} ${shape}: list every feature, in training order` : `${input.name} ${shape}: your ${width} columns, in training order`;
  }
  if (sample) s.used.push(...columns.filter((c) => sample.header.includes(c)));
  s.features.push(`  columns: ${flowList(columns)}   # ${comment}`);
}

// features.inputs for one [N, 1] input per column, matched by name.
function inputsBlock(inputs: TensorInfo[], sample: SampleTable | undefined, s: Snippet): void {
  s.features.push('  inputs:                        # model input: CSV column');
  for (const i of inputs) {
    const m = sample ? matchColumn(i.name, sample.header) : undefined;
    let comment = typeToString(i.type);
    if (sample && !m) {
      s.unmatched.push(`model input '${i.name}'`);
      comment = `CHECK: no column of the sample matches; ${comment}`;
    } else if (m?.loose) {
      s.notes.push(`model input '${i.name}' matched column '${m.column}' ignoring case and punctuation`);
      comment = `CHECK: matched ignoring case/punctuation; ${comment}`;
    }
    if (m && sample) s.used.push(m.column);
    s.features.push(`    ${yamlString(i.name)}: ${yamlString(m?.column ?? i.name)}   # ${comment}`);
  }
}

// features.missing: reject by default; NaN for float columns that have empty cells in the sample (what a
// scikit-learn pipeline with an imputer expects). Other types with empty cells get a note: they have no NaN.
function missingLines(inputs: TensorInfo[], single: boolean, sample: SampleTable | undefined, s: Snippet): string[] {
  if (!sample) return ['  missing: reject                # or nan, or a number; per column: { default: reject, age: nan }'];
  const typeOf = new Map<string, string>();
  if (single) for (const c of s.used) typeOf.set(c, inputs[0].type.elemType);
  else {
    for (const i of inputs) {
      const m = matchColumn(i.name, sample.header);
      if (m) typeOf.set(m.column, i.type.elemType);
    }
  }
  const nan: string[] = [];
  for (const [column, type] of typeOf) {
    const index = sample.header.indexOf(column);
    const empty = sample.rows.filter((r) => isMissingText(r[index] ?? '')).length;
    if (empty === 0) continue;
    if (FLOATS.has(type)) nan.push(column);
    else {
      const what = type === 'string' ? "nan feeds them as empty text" : 'they cannot be NaN';
      const cells = empty === 1 ? '1 empty cell' : `${empty} empty cells`;
      s.notes.push(`column '${column}' has ${cells} in the sample; it feeds ${type.startsWith('int') ? 'an' : 'a'} ${type} input, so missing cells are rejected (${what}; set features.missing for it to a number to fill them)`);
    }
  }
  if (nan.length === 0) return ['  missing: reject                # what an empty/NA cell becomes: reject, nan or a number'];
  s.notes.push(`features.missing: NaN for ${nan.join(', ')} (empty cells in the sample); right for a pipeline that imputes, wrong for a model that does not`);
  return ['  missing:', '    default: reject', ...nan.map((c) => `    ${yamlString(c)}: nan   # CHECK: empty cells in the sample; NaN suits a pipeline with an imputer`)];
}

// predictions: every output, with ZipMap and class notes; outputs that cannot be returned are commented out.
function predictionLines(info: ModelInfo): string[] {
  const lines: string[] = [];
  for (const o of info.outputs) {
    const zip = info.zipmaps.find((z) => z.output === o.name);
    const classes = outputClasses(info, o.name);
    const returnable = zip || (o.type.kind === 'tensor' && RETURNABLE.has(o.type.elemType));
    if (!returnable) {
      lines.push(`  # - output: ${yamlString(o.name)}   # ${typeToString(o.type)}: onnxruntime-node cannot return it`);
      continue;
    }
    let comment = '';
    if (zip) comment = `   # ZipMap probabilities: one column per class, ${o.name}_${zip.labels.join(`, ${o.name}_`)}`;
    else if (classes && o.type.kind === 'tensor' && o.type.dims?.length === 2) comment = `   # one column per class: ${o.name}_${classes.join(`, ${o.name}_`)}`;
    else if (classes && o.type.kind === 'tensor' && o.type.elemType !== 'string') comment = `   # classes ${classes.join(', ')}; labels: [...] gives them names`;
    lines.push(`  - output: ${yamlString(o.name)}`, `    column: ${yamlString(o.name)}${comment}`);
  }
  if (!lines.some((l) => l.startsWith('  - '))) return ['# predictions: the model has no output onnxruntime-node can return', ...lines.map((l) => `#${l}`)];
  return ['predictions:', ...lines];
}

// Feature names a model carries in its metadata (`feature_names`: a JSON list or comma-separated).
function featureNames(info: ModelInfo): string[] | undefined {
  const raw = info.metadata.feature_names;
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: comma-separated
  }
  const names = raw.split(',').map((x) => x.trim()).filter(Boolean);
  return names.length ? names : undefined;
}

const loose = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

// A header column for a name: exact, else the one column equal to it ignoring case and punctuation.
export function matchColumn(name: string, header: string[]): { column: string; loose: boolean } | undefined {
  if (header.includes(name)) return { column: name, loose: false };
  const same = header.filter((h) => loose(h) === loose(name) && loose(h) !== '');
  if (same.length === 1) return { column: same[0], loose: true };
  const caseOnly = same.filter((h) => h.toLowerCase() === name.toLowerCase());
  return caseOnly.length === 1 ? { column: caseOnly[0], loose: true } : undefined;
}

// Header columns whose non-missing sample cells are all numbers (every column, without rows).
function numericColumns(sample: SampleTable): string[] {
  const out = { status: OK as CellStatus };
  return sample.header.filter((_, c) => {
    let seen = 0;
    for (const r of sample.rows) {
      const cell = r[c] ?? '';
      if (isMissingText(cell)) continue;
      parseNumberCell(cell, out);
      if (out.status !== OK) return false;
      seen++;
    }
    return seen > 0 || sample.rows.length === 0;
  });
}

const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~|\.inf|\.nan)$/i;

// A YAML scalar: plain when that reads back as the same string, else single-quoted.
export function yamlString(s: string): string {
  if (/^[A-Za-z_./][A-Za-z0-9_./-]*$/.test(s) && !RESERVED.test(s)) return s;
  return `'${s.replace(/'/g, "''")}'`;
}

function flowList(items: string[]): string {
  return `[${items.map(yamlString).join(', ')}]`;
}

// What an ONNX file declares: inputs/outputs with element types and shapes, opsets, producer, metadata,
// ZipMap nodes and class labels. Read from the bytes (onnx-wire), before any session exists.
import { fields, int, ints, messages, str, strs, type WireField } from './onnx-wire.js';

const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

export type Dim = number | string;

export type TypeInfo =
  | { kind: 'tensor'; elemType: string; dims?: Dim[] }
  | { kind: 'sequence'; elem?: TypeInfo }
  | { kind: 'map'; keyType: string; value?: TypeInfo }
  | { kind: 'other'; what: string };

export interface ValueInfo {
  name: string;
  type: TypeInfo;
}

export interface ZipMapInfo {
  /** The graph output ZipMap produces (e.g. `output_probability`). */
  output: string;
  /** The float tensor [N, K] that feeds it. */
  input: string;
  labels: (string | number)[];
}

export interface ModelInfo {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  opsets: { domain: string; version: number }[];
  metadata: Record<string, string>;
  graphName?: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  zipmaps: ZipMapInfo[];
  /**
   * Class labels of the classifier behind each graph output: its label output (e.g. `output_label`) and, for
   * exports without ZipMap, its probability output. Followed through the steps skl2onnx and onnxmltools put
   * after the classifier (Cast, Identity, Normalizer). ZipMap outputs have theirs in `zipmaps`.
   */
  classLabels: Record<string, (string | number)[]>;
}

const TENSOR_NAME = new Set([8]);
/** NodeProto input, output, name, op_type, attribute, domain. */
const NODE_FIELDS = new Set([1, 2, 3, 4, 5, 7]);
const CLASSIFIERS = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier']);
/** Ops that keep a classifier output's meaning (same rows, same class axis), so its labels still apply. */
const KEEPS_CLASSES = new Set(['Identity', 'Cast', 'Normalizer']);

// Parse ModelProto bytes into ModelInfo. Throws a plain Error if the bytes are not a model.
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  const model = fields(bytes);
  const graphBytes = messages(model, 7)[0];
  if (!graphBytes) throw new Error('no graph in the file (is it an ONNX model?)');
  const graph = fields(graphBytes);
  const initNames = new Set(messages(graph, 5).map((t) => str(fields(t, TENSOR_NAME), 8)));
  const nodes = messages(graph, 1).map((n) => fields(n, NODE_FIELDS));
  const info: ModelInfo = {
    irVersion: int(model, 1),
    producerName: str(model, 2),
    producerVersion: str(model, 3),
    domain: str(model, 4),
    modelVersion: int(model, 5),
    docString: str(model, 6),
    opsets: messages(model, 8).map((m) => {
      const f = fields(m);
      return { domain: str(f, 1) ?? '', version: int(f, 2) ?? 0 };
    }),
    metadata: Object.fromEntries(
      messages(model, 14).map((m) => {
        const f = fields(m);
        return [str(f, 1) ?? '', str(f, 2) ?? ''];
      }),
    ),
    graphName: str(graph, 2),
    inputs: messages(graph, 11).map(valueInfo).filter((v) => !initNames.has(v.name)),
    outputs: messages(graph, 12).map(valueInfo),
    zipmaps: [],
    classLabels: {},
  };
  const outputNames = new Set(info.outputs.map((o) => o.name));
  // value name → the values computed from it by class-keeping steps.
  const next = new Map<string, string[]>();
  for (const node of nodes) {
    const op = str(node, 4);
    const [input] = strs(node, 1);
    const [output] = strs(node, 2);
    if (op && KEEPS_CLASSES.has(op) && input && output) next.set(input, [...(next.get(input) ?? []), output]);
  }
  // The graph outputs a value reaches through class-keeping steps (itself included).
  const reach = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    return [...(outputNames.has(name) ? [name] : []), ...(next.get(name) ?? []).flatMap((n) => reach(n, seen))];
  };
  for (const node of nodes) {
    const op = str(node, 4);
    const outs = strs(node, 2);
    if (op === 'ZipMap' && outputNames.has(outs[0])) {
      info.zipmaps.push({ output: outs[0], input: strs(node, 1)[0], labels: labelsOf(node) });
    } else if (op && CLASSIFIERS.has(op)) {
      const labels = labelsOf(node);
      if (labels.length === 0) continue;
      for (const out of outs.filter(Boolean).flatMap((o) => reach(o))) info.classLabels[out] = labels;
    }
  }
  return info;
}

const NAME_ONLY = new Set([1]);

// The class labels that name the columns of a 2-D output: its ZipMap's, else its classifier's.
export function outputClasses(info: ModelInfo, output: string): (string | number)[] | undefined {
  return info.zipmaps.find((z) => z.output === output)?.labels ?? info.classLabels[output];
}

// classlabels_int64s / classlabels_ints / classlabels_strings of a node's attributes.
function labelsOf(node: WireField[]): (string | number)[] {
  for (const bytes of messages(node, 5)) {
    const name = str(fields(bytes, NAME_ONLY), 1);
    if (name === 'classlabels_strings') return strs(fields(bytes), 9);
    if (name === 'classlabels_int64s' || name === 'classlabels_ints') return ints(fields(bytes), 8);
  }
  return [];
}

function valueInfo(bytes: Uint8Array): ValueInfo {
  const f = fields(bytes);
  const type = messages(f, 2)[0];
  return { name: str(f, 1) ?? '', type: type ? typeInfo(type) : { kind: 'other', what: 'unknown type' } };
}

function typeInfo(bytes: Uint8Array): TypeInfo {
  const f = fields(bytes);
  const tensor = messages(f, 1)[0];
  if (tensor) {
    const t = fields(tensor);
    const elem = int(t, 1) ?? 0;
    const shape = messages(t, 2)[0];
    return {
      kind: 'tensor',
      elemType: ELEM_TYPES[elem] ?? `type ${elem}`,
      dims: shape ? messages(fields(shape), 1).map(dimOf) : undefined,
    };
  }
  const seq = messages(f, 4)[0];
  if (seq) {
    const elem = messages(fields(seq), 1)[0];
    return { kind: 'sequence', elem: elem ? typeInfo(elem) : undefined };
  }
  const map = messages(f, 5)[0];
  if (map) {
    const m = fields(map);
    const value = messages(m, 2)[0];
    return { kind: 'map', keyType: ELEM_TYPES[int(m, 1) ?? 0] ?? '?', value: value ? typeInfo(value) : undefined };
  }
  if (messages(f, 9).length) return { kind: 'other', what: 'optional' };
  if (messages(f, 8).length) return { kind: 'other', what: 'sparse tensor' };
  return { kind: 'other', what: 'unknown type' };
}

// A dimension: its fixed size, its symbolic name, or '' when unnamed.
function dimOf(bytes: Uint8Array): Dim {
  const f = fields(bytes);
  const v = int(f, 1);
  if (v !== undefined) return v;
  return str(f, 2) ?? '';
}

// Human form of a type: `float32 [N, 4]`, `sequence(map(int64, float32))`.
export function typeToString(t: TypeInfo): string {
  switch (t.kind) {
    case 'tensor':
      return t.dims ? `${t.elemType} [${t.dims.map((d) => (d === '' ? '?' : String(d))).join(', ')}]` : `${t.elemType} [?]`;
    case 'sequence':
      return `sequence(${t.elem ? typeToString(t.elem).replace(/ \[.*\]$/, '') : '?'})`;
    case 'map':
      return `map(${t.keyType}, ${t.value ? typeToString(t.value).replace(/ \[.*\]$/, '') : '?'})`;
    default:
      return t.what;
  }
}

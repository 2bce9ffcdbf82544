// Small typed helpers for writing ONNX ModelProto bytes with onnx-proto (no Python).
// onnx-proto is CommonJS (`module.exports = { onnx }`), so under NodeNext ESM only the
// default import works at run time; `import { onnx } from 'onnx-proto'` type-checks but
// throws "Named export 'onnx' not found". Types come from a type-only named import.
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

const { onnx } = onnxProto;

// TensorProto.DataType values used by the fixtures (onnx-proto is ONNX 1.10: it has no INT4 name).
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  DOUBLE: 11,
  INT4: 22,
} as const;
export type DataType = (typeof DT)[keyof typeof DT];

// A dimension: a fixed size, or a symbolic name such as "N".
export type Dim = number | string;

export type ValueInfo = P.IValueInfoProto;
export type Tensor = P.ITensorProto;
export type Node = P.INodeProto;

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: P.IGraphProto };

// Attribute value constructors: tag a JS value with its ONNX attribute type.
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  strings: (value: string[]): AttrValue => ({ kind: 'strings', value }),
  tensor: (value: Tensor): AttrValue => ({ kind: 'tensor', value }),
  graph: (value: P.IGraphProto): AttrValue => ({ kind: 'graph', value }),
};

// UTF-8 bytes of a string (ONNX strings are bytes).
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// TypeProto for a tensor of `elemType`; without dims the shape is left unknown.
export function tensorType(elemType: DataType, dims?: Dim[]): P.ITypeProto {
  if (!dims) return { tensorType: { elemType } };
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { tensorType: { elemType, shape: { dim } } };
}

// ValueInfoProto for a named tensor graph input/output.
export function valueInfo(name: string, elemType: DataType, dims: Dim[]): ValueInfo {
  return { name, type: tensorType(elemType, dims) };
}

// ValueInfoProto for a sequence(map(keyType, valueType)) output, as produced by ZipMap.
export function seqMapInfo(name: string, keyType: DataType, valueType: DataType = DT.FLOAT): ValueInfo {
  const mapType = { keyType, valueType: tensorType(valueType) };
  return { name, type: { sequenceType: { elemType: { mapType } } } };
}

// ValueInfoProto for a sequence(tensor(elemType)) output, as produced by SequenceConstruct.
export function seqTensorInfo(name: string, elemType: DataType): ValueInfo {
  return { name, type: { sequenceType: { elemType: tensorType(elemType) } } };
}

// Little-endian raw_data bytes of numbers, `width` bytes each (same bytes on any host).
function rawBytes(count: number, width: number, put: (view: DataView, offset: number, i: number) => void): Uint8Array {
  const out = new Uint8Array(count * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) put(view, i * width, i);
  return out;
}

// TensorProto (initializer or tensor attribute). Float32Array/Float64Array/BigInt64Array/string[]
// imply the element type; number[] is FLOAT unless `elemType` says DOUBLE, INT64, INT32 or BOOL.
// Dims default to [length].
export function initializer(
  name: string,
  data: Float32Array | Float64Array | BigInt64Array | number[] | string[],
  dims: number[] = [data.length],
  elemType?: DataType,
): Tensor {
  if (dims.reduce((a, b) => a * b, 1) !== data.length) {
    throw new Error(`initializer ${name}: dims [${dims}] do not hold ${data.length} values`);
  }
  const t = (dataType: DataType, rest: Partial<Tensor>): Tensor => ({ name, dims, dataType, ...rest });
  if (data instanceof BigInt64Array) {
    return t(DT.INT64, { rawData: rawBytes(data.length, 8, (v, o, i) => v.setBigInt64(o, data[i], true)) });
  }
  if (data instanceof Float32Array || data instanceof Float64Array) {
    return initializer(name, Array.from(data), dims, data instanceof Float32Array ? DT.FLOAT : DT.DOUBLE);
  }
  if (typeof data[0] === 'string' || elemType === DT.STRING) {
    return t(DT.STRING, { stringData: (data as string[]).map(utf8) });
  }
  const nums = data as number[];
  switch (elemType ?? DT.FLOAT) {
    case DT.FLOAT:
      return t(DT.FLOAT, { rawData: rawBytes(nums.length, 4, (v, o, i) => v.setFloat32(o, nums[i], true)) });
    case DT.DOUBLE:
      return t(DT.DOUBLE, { rawData: rawBytes(nums.length, 8, (v, o, i) => v.setFloat64(o, nums[i], true)) });
    case DT.INT64:
      return initializer(name, BigInt64Array.from(nums, (x) => BigInt(x)), dims);
    case DT.INT32:
      return t(DT.INT32, { rawData: rawBytes(nums.length, 4, (v, o, i) => v.setInt32(o, nums[i], true)) });
    case DT.BOOL:
      return t(DT.BOOL, { rawData: Uint8Array.from(nums, (x) => (x ? 1 : 0)) });
    default:
      throw new Error(`initializer ${name}: unsupported element type ${elemType}`);
  }
}

// A float32 initializer whose values live in another file (`location`, relative to the model's folder) at
// `offset`: the tensor names where its raw bytes are, and `bytes` are what that file must hold there.
export function externalInitializer(name: string, values: number[], dims: number[], location: string, offset = 0): { tensor: Tensor; bytes: Uint8Array } {
  const bytes = rawBytes(values.length, 4, (v, o, i) => v.setFloat32(o, values[i], true));
  const entries = { location, offset: String(offset), length: String(bytes.length) };
  const tensor: Tensor = {
    name,
    dims,
    dataType: DT.FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  };
  return { tensor, bytes };
}

// A subgraph (the body of a Loop or If).
export function graph(name: string, nodes: Node[], inputs: ValueInfo[], outputs: ValueInfo[]): P.IGraphProto {
  return { name, node: nodes, input: inputs, output: outputs };
}

// AttributeProto for one named, tagged attribute value.
function attribute(name: string, a: AttrValue): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: a.value };
    case 'ints': return { name, type: T.INTS, ints: a.value };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'floats': return { name, type: T.FLOATS, floats: a.value };
    case 'string': return { name, type: T.STRING, s: utf8(a.value) };
    case 'strings': return { name, type: T.STRINGS, strings: a.value.map(utf8) };
    case 'tensor': return { name, type: T.TENSOR, t: a.value };
    case 'graph': return { name, type: T.GRAPH, g: a.value };
  }
}

// NodeProto for `opType` in `domain` ('' = ai.onnx); attributes keep the order given.
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
  domain = '',
): Node {
  return {
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    opType,
    domain,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

// NodeProto for an ai.onnx.ml operator.
export function mlNode(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): Node {
  return node(opType, inputs, outputs, attrs, 'ai.onnx.ml');
}

export interface ModelSpec {
  graphName: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: Tensor[];
  /** domain -> opset version; '' is ai.onnx. Default: ai.onnx 17, ai.onnx.ml 3. */
  opsets?: Record<string, number>;
  producer?: string;
  metadata?: Record<string, string>;
}

// Element types named by a TypeProto (tensor, or inside sequence/map).
function typeElems(t: P.ITypeProto | null | undefined): number[] {
  if (!t) return [];
  if (t.tensorType) return [t.tensorType.elemType ?? 0];
  if (t.sequenceType) return typeElems(t.sequenceType.elemType);
  if (t.mapType) return [t.mapType.keyType ?? 0, ...typeElems(t.mapType.valueType)];
  return [];
}

// IR version: 8, or 10 when any value info, initializer or Cast target uses an element type
// newer than BFLOAT16 (float8, uint4, int4: enum >= 17), which ONNX only allows from IR 10.
function irVersionFor(spec: ModelSpec): number {
  const types = [
    ...[...spec.inputs, ...spec.outputs].flatMap((v) => typeElems(v.type)),
    ...(spec.initializers ?? []).map((t) => t.dataType ?? 0),
    ...spec.nodes
      .filter((n) => n.opType === 'Cast')
      .flatMap((n) => (n.attribute ?? []).filter((a) => a.name === 'to').map((a) => Number(a.i))),
  ];
  return types.some((t) => t >= 17) ? 10 : 8;
}

// Serialized ModelProto for the spec. Deterministic: only the spec feeds the bytes.
export function model(spec: ModelSpec): Uint8Array {
  const opsets = spec.opsets ?? { '': 17, 'ai.onnx.ml': 3 };
  const proto: P.IModelProto = {
    irVersion: irVersionFor(spec),
    producerName: spec.producer ?? 'serve-batch-fixtures',
    opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
    graph: {
      name: spec.graphName,
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}

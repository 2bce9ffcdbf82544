// ONNX helpers for tests, built on onnx-proto (the full schema) so they do not share code with what they check
// (src/model reads and rewrites models at the wire level).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

// The model with extra float tensor graph outputs for values its graph computes (e.g. the probabilities that
// feed ZipMap), so ONNX Runtime can return them from the unmodified graph.
export function withFloatOutputs(bytes: Uint8Array, names: string[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const outputs = m.graph?.output;
  if (!outputs) throw new Error('not a model with a graph');
  for (const name of names) outputs.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  return onnx.ModelProto.encode(m).finish();
}

// Names of the tensors that feed the model's ZipMap nodes, in node order.
export function zipMapInputs(bytes: Uint8Array): string[] {
  const m = onnx.ModelProto.decode(bytes);
  return (m.graph?.node ?? []).filter((n) => n.opType === 'ZipMap').map((n) => (n.input ?? [])[0]);
}

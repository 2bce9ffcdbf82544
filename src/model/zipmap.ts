// sklearn classifiers end in ZipMap (probabilities as a sequence of maps), which onnxruntime-node cannot
// return ("Non tensor type is temporarily not supported") and which costs several times the classifier's own
// time even when not fetched. At load time we replace each ZipMap that produces a graph output by an
// Identity of its float [N, K] input, so the output keeps its name and becomes a tensor; the class labels
// come from the ZipMap node (ModelInfo.zipmaps). Done in memory on every load: nothing cached on disk.
import { fields, lengthDelimited, messages, rewrite, str, strs, stringField, varintField, concat } from './onnx-wire.js';
import type { ZipMapInfo } from './model-info.js';

const FLOAT = 1;

// Model bytes with every ZipMap graph output replaced by a float tensor output of the same name.
export function stripZipMaps(model: Uint8Array, zipmaps: ZipMapInfo[]): Uint8Array {
  if (zipmaps.length === 0) return model;
  const byOutput = new Map(zipmaps.map((z) => [z.output, z]));
  return rewrite(model, (f) => (f.no === 7 && f.bytes ? lengthDelimited(7, rewriteGraph(f.bytes, byOutput)) : undefined));
}

function rewriteGraph(graph: Uint8Array, byOutput: Map<string, ZipMapInfo>): Uint8Array {
  return rewrite(graph, (f) => {
    if (!f.bytes) return undefined;
    if (f.no === 1) {
      const node = fields(f.bytes);
      const z = str(node, 4) === 'ZipMap' ? byOutput.get(strs(node, 2)[0]) : undefined;
      return z ? lengthDelimited(1, identityNode(z, str(node, 3))) : undefined;
    }
    if (f.no === 12) {
      const z = byOutput.get(str(fields(f.bytes), 1) ?? '');
      return z ? lengthDelimited(12, floatMatrixInfo(z)) : undefined;
    }
    return undefined;
  });
}

// NodeProto: Identity(input) → output.
function identityNode(z: ZipMapInfo, name: string | undefined): Uint8Array {
  return concat([
    stringField(1, z.input),
    stringField(2, z.output),
    stringField(3, name ? `${name}_as_tensor` : `${z.output}_as_tensor`),
    stringField(4, 'Identity'),
  ]);
}

// ValueInfoProto: name, tensor(float) [N, K].
function floatMatrixInfo(z: ZipMapInfo): Uint8Array {
  const dims = [lengthDelimited(1, stringField(2, 'N'))];
  if (z.labels.length > 0) dims.push(lengthDelimited(1, varintField(1, z.labels.length)));
  const shape = concat(dims);
  const tensor = concat([varintField(1, FLOAT), lengthDelimited(2, shape)]);
  return concat([stringField(1, z.output), lengthDelimited(2, lengthDelimited(1, tensor))]);
}

// The op types of a model's graph nodes, in order.
export function opTypes(model: Uint8Array): string[] {
  const graph = messages(fields(model), 7)[0];
  return graph ? messages(fields(graph), 1).map((n) => str(fields(n), 4) ?? '') : [];
}

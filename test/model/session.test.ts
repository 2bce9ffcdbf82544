// Model loading: declared structure from the bytes, ZipMap outputs turned into tensors, ORT's own output kept
// off stderr.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { outputClasses, readModelInfo, typeToString } from '../../src/model/model-info.js';
import { externalRefs } from '../../src/model/model-file.js';
import { cleanOrtMessage, loadModel } from '../../src/model/session.js';
import { opTypes, stripZipMaps } from '../../src/model/zipmap.js';
import { DT, attr, externalInitializer, graph, initializer, model as onnxModel, node, valueInfo } from '../../scripts/onnx-builder.js';
import { model } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

describe('readModelInfo', () => {
  it('reads inputs, outputs, shapes, opsets and producer', () => {
    const info = readModelInfo(readFileSync(model('per_column')));
    expect(info.inputs.map((i) => [i.name, i.type])).toEqual([
      ['city', { kind: 'tensor', elemType: 'string', dims: ['N', 1] }],
      ['age', { kind: 'tensor', elemType: 'float32', dims: ['N', 1] }],
      ['visits', { kind: 'tensor', elemType: 'int64', dims: ['N', 1] }],
    ]);
    expect(info.outputs).toEqual([{ name: 'score', type: { kind: 'tensor', elemType: 'float32', dims: ['N', 1] } }]);
    expect(info.producerName).toBe('serve-batch-fixtures');
    expect(info.opsets).toContainEqual({ domain: '', version: 17 });
  });

  it('finds ZipMap outputs with their class labels, and classifier labels', () => {
    const info = readModelInfo(readFileSync(model('zipmap_string')));
    expect(info.outputs[1].type).toEqual({ kind: 'sequence', elem: { kind: 'map', keyType: 'string', value: { kind: 'tensor', elemType: 'float32', dims: undefined } } });
    expect(info.zipmaps).toEqual([{ output: 'output_probability', input: 'probabilities', labels: ['setosa', 'versicolor', 'virginica'] }]);
    expect(info.classLabels.output_label).toEqual(['setosa', 'versicolor', 'virginica']);
  });

  it('follows class labels through the Cast and Normalizer skl2onnx puts after the classifier', () => {
    const bytes = readFileSync(model('classes_357'));
    const info = readModelInfo(bytes);
    expect(info.classLabels).toEqual({ output_label: [3, 5, 7] });
    expect(info.zipmaps).toEqual([{ output: 'output_probability', input: 'probabilities', labels: [3, 5, 7] }]);
    expect(outputClasses(info, 'output_probability')).toEqual([3, 5, 7]);
    // Without the ZipMap (as after our rewrite, or an export with zipmap=False) the probability tensor keeps them.
    const stripped = readModelInfo(stripZipMaps(bytes, info.zipmaps));
    expect(stripped.zipmaps).toEqual([]);
    expect(stripped.classLabels).toEqual({ output_label: [3, 5, 7], output_probability: [3, 5, 7] });
    expect(outputClasses(stripped, 'output_label')).toEqual([3, 5, 7]);
  });

  it('describes non-tensor types', () => {
    const info = readModelInfo(readFileSync(model('sequence_output')));
    expect(info.outputs.map((o) => typeToString(o.type))).toEqual(['float32 [N, 2]', 'sequence(float32)']);
  });

  it('rejects bytes that are not a model', () => {
    expect(() => readModelInfo(new TextEncoder().encode('hello world'))).toThrow();
  });
});

describe('stripZipMaps', () => {
  it('replaces ZipMap by Identity and leaves every other byte of the model as it was', async () => {
    const bytes = readFileSync(model('zipmap_int'));
    const info = readModelInfo(bytes);
    const stripped = stripZipMaps(bytes, info.zipmaps);
    expect(opTypes(bytes)).toContain('ZipMap');
    expect(opTypes(stripped)).not.toContain('ZipMap');
    expect(opTypes(stripped)).toContain('Identity');
    const after = readModelInfo(stripped);
    expect(after.outputs[1]).toEqual({ name: 'output_probability', type: { kind: 'tensor', elemType: 'float32', dims: ['N', 3] } });
    expect(after.inputs).toEqual(info.inputs);
    expect(after.opsets).toEqual(info.opsets);
    // The probabilities equal the tensor that fed ZipMap, fetched from the original model.
    const x = new ort.Tensor('float32', Float32Array.from([0.5, -1, 2, 0.25, -3, 1]), [3, 2]);
    const original = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
    const rewritten = await ort.InferenceSession.create(stripped, { logSeverityLevel: 4 });
    await expect(original.run({ float_input: x })).rejects.toThrow(/Non tensor type/);
    const a = await original.run({ float_input: x }, ['output_label']);
    const b = await rewritten.run({ float_input: x });
    expect(b.output_label.data).toEqual(a.output_label.data);
    expect(b.output_probability.dims).toEqual([3, 3]);
    const p = b.output_probability.data as Float32Array;
    for (let r = 0; r < 3; r++) expect(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2]).toBeCloseTo(1, 5);
  });

  it('returns models without ZipMap unchanged', () => {
    const bytes = readFileSync(model('linear_binary'));
    expect(stripZipMaps(bytes, [])).toBe(bytes);
  });
});

describe('loadModel', () => {
  it('exposes ZipMap outputs as float tensors with the class count', async () => {
    const m = await loadModel(model('zipmap_string'));
    expect(m.outputs[1]).toEqual({ name: 'output_probability', type: { kind: 'tensor', elemType: 'float32', dims: ['N', 3] } });
    expect(m.declared.outputs[1].type.kind).toBe('sequence');
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the sentence a user can act on from ORT messages', () => {
    const raw = new Error("Non-zero status code returned while running TreeEnsembleRegressor node. Name:'T' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/ml/tree_ensemble_common.h:624 void f(const AGG&) const [with AGG = x] One path in the graph requests feature 19 but input tensor has 2 features.");
    expect(cleanOrtMessage(raw)).toBe('One path in the graph requests feature 19 but input tensor has 2 features.');
  });
});

describe('model files', () => {
  it('finds external data in initializers, constant attributes and subgraphs', () => {
    const top = externalInitializer('W', [1, 2], [2, 1], 'top.bin');
    const constant = externalInitializer('C', [3], [1], 'const.bin');
    const inner = externalInitializer('B', [4], [1], 'sub/body.bin', 16);
    const body = graph('body', [node('Identity', ['v_in'], ['v_out'])], [valueInfo('v_in', DT.FLOAT, [1])], [valueInfo('v_out', DT.FLOAT, [1])]);
    body.initializer = [inner.tensor];
    const bytes = onnxModel({
      graphName: 'refs',
      inputs: [valueInfo('input', DT.FLOAT, ['N', 2])],
      outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])],
      initializers: [top.tensor, initializer('inline', [5])],
      nodes: [node('Constant', [], ['c'], { value: attr.tensor(constant.tensor) }), node('Loop', ['m', 'cond', 'c'], ['l'], { body: attr.graph(body) }), node('MatMul', ['input', 'W'], ['variable'])],
    });
    expect(externalRefs(bytes)).toEqual([
      { tensor: 'C', location: 'const.bin' },
      { tensor: 'B', location: 'sub/body.bin' },
      { tensor: 'W', location: 'top.bin' },
    ]);
  });

  it('a model whose data files take more than 1 MiB gets no second session (it would be a second copy)', async () => {
    const d = tempDir();
    const big = externalInitializer('W', Array.from({ length: 300_000 }, (_, i) => i % 7), [300_000, 1], 'w.bin');
    const bytes = onnxModel({ graphName: 'big', inputs: [valueInfo('input', DT.FLOAT, ['N', 300_000])], outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])], initializers: [big.tensor], nodes: [node('MatMul', ['input', 'W'], ['variable'])] });
    writeFileSync(path.join(d, 'big.onnx'), bytes);
    writeFileSync(path.join(d, 'w.bin'), big.bytes);
    const m = await loadModel(path.join(d, 'big.onnx'));
    expect(m.copyable).toBe(false);
    await m.close();
    const small = await loadModel(model('external_data'));
    expect(small.copyable).toBe(true);
    await small.close();
  });
});

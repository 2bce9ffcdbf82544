// Writes the ONNX test fixtures: `node dist/scripts/build-fixtures.js [outDir]` (default fixtures/models).
// Every model is built from the formulas below; test/fixtures/models.test.ts checks ORT agrees.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DT, attr, type AttrValue, externalInitializer, graph, initializer, mlNode, model, node, seqMapInfo, seqTensorInfo, valueInfo } from './onnx-builder.js';

const { int, ints, float, floats, string, strings } = attr;

// linear_binary: s = sigmoid(x·W + b); probabilities = [1-s, s]; label = argmax.
function linearBinary(): Uint8Array {
  return model({
    graphName: 'linear_binary',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 3])],
    outputs: [valueInfo('label', DT.INT64, ['N']), valueInfo('probabilities', DT.FLOAT, ['N', 2])],
    initializers: [initializer('W', [0.5, -1.25, 2.0], [3, 1]), initializer('b', [0.1]), initializer('one', [1])],
    nodes: [
      node('MatMul', ['input', 'W'], ['xw']),
      node('Add', ['xw', 'b'], ['z']),
      node('Sigmoid', ['z'], ['s']),
      node('Sub', ['one', 's'], ['not_s']),
      node('Concat', ['not_s', 's'], ['probabilities'], { axis: int(1) }),
      node('ArgMax', ['probabilities'], ['label'], { axis: int(1), keepdims: int(0) }),
    ],
  });
}

// regressor: variable = x·[1.5, -2.0] + 3.0 (Gemm).
function regressor(): Uint8Array {
  return model({
    graphName: 'regressor',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 2])],
    outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])],
    initializers: [initializer('W', [1.5, -2.0], [2, 1]), initializer('b', [3.0])],
    nodes: [node('Gemm', ['input', 'W', 'b'], ['variable'])],
  });
}

// multiclass: probabilities = softmax(xW + b) over 3 classes; label = argmax.
function multiclass(): Uint8Array {
  const W = [1, 0, -1, 0.5, 1, 0, -0.5, 0.25, 1, 0, -1, 0.5];
  return model({
    graphName: 'multiclass',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 4])],
    outputs: [valueInfo('probabilities', DT.FLOAT, ['N', 3]), valueInfo('label', DT.INT64, ['N'])],
    initializers: [initializer('W', W, [4, 3]), initializer('b', [0.1, 0, -0.1])],
    nodes: [
      node('Gemm', ['input', 'W', 'b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], { axis: int(1) }),
      node('ArgMax', ['probabilities'], ['label'], { axis: int(1), keepdims: int(0) }),
    ],
  });
}

// per_column: score = 0.5*age + 2*visits + LabelEncoder(city: Paris 10, Berlin 20, else -1).
function perColumn(): Uint8Array {
  return model({
    graphName: 'per_column',
    inputs: [
      valueInfo('city', DT.STRING, ['N', 1]),
      valueInfo('age', DT.FLOAT, ['N', 1]),
      valueInfo('visits', DT.INT64, ['N', 1]),
    ],
    outputs: [valueInfo('score', DT.FLOAT, ['N', 1])],
    initializers: [initializer('half', [0.5]), initializer('two', [2])],
    nodes: [
      mlNode('LabelEncoder', ['city'], ['city_enc'], {
        keys_strings: strings(['Paris', 'Berlin']),
        values_floats: floats([10, 20]),
        default_float: float(-1),
      }),
      node('Mul', ['age', 'half'], ['age_part']),
      node('Cast', ['visits'], ['visits_f'], { to: int(DT.FLOAT) }),
      node('Mul', ['visits_f', 'two'], ['visits_part']),
      node('Add', ['age_part', 'visits_part'], ['partial']),
      node('Add', ['partial', 'city_enc'], ['score']),
    ],
  });
}

// skl2onnx-style classifier: LinearClassifier (softmax) -> output_label + ZipMap output_probability.
function zipmapClassifier(name: string, labels: number[] | string[]): Uint8Array {
  const byString = typeof labels[0] === 'string';
  const labelAttr: Record<string, AttrValue> = byString ? { classlabels_strings: strings(labels as string[]) } : { classlabels_ints: ints(labels as number[]) };
  const zipAttr: Record<string, AttrValue> = byString ? { classlabels_strings: strings(labels as string[]) } : { classlabels_int64s: ints(labels as number[]) };
  const keyType = byString ? DT.STRING : DT.INT64;
  return model({
    graphName: name,
    inputs: [valueInfo('float_input', DT.FLOAT, ['N', 2])],
    outputs: [valueInfo('output_label', keyType, ['N']), seqMapInfo('output_probability', keyType, DT.FLOAT)],
    nodes: [
      mlNode('LinearClassifier', ['float_input'], ['output_label', 'probabilities'], {
        ...labelAttr,
        coefficients: floats([1, 0, 0, 1, -1, -1]),
        intercepts: floats([0, 0.1, 0.2]),
        multi_class: int(0),
        post_transform: string('SOFTMAX'),
      }),
      mlNode('ZipMap', ['probabilities'], ['output_probability'], zipAttr),
    ],
  });
}

// fixed_batch: variable = x·[1, 2, 3] with a fixed batch dimension of 1.
function fixedBatch(): Uint8Array {
  return model({
    graphName: 'fixed_batch',
    inputs: [valueInfo('input', DT.FLOAT, [1, 3])],
    outputs: [valueInfo('variable', DT.FLOAT, [1, 1])],
    initializers: [initializer('W', [1, 2, 3], [3, 1])],
    nodes: [node('MatMul', ['input', 'W'], ['variable'])],
  });
}

// int4_output: q = Cast(input, INT4) (opset 21, IR 10) and y = input; the product must refuse it.
function int4Output(): Uint8Array {
  return model({
    graphName: 'int4_output',
    opsets: { '': 21 },
    inputs: [valueInfo('input', DT.FLOAT, ['N', 2])],
    outputs: [valueInfo('q', DT.INT4, ['N', 2]), valueInfo('y', DT.FLOAT, ['N', 2])],
    nodes: [node('Cast', ['input'], ['q'], { to: int(DT.INT4) }), node('Identity', ['input'], ['y'])],
  });
}

// per_column_types: one input per element type, each echoed through a simple op.
function perColumnTypes(): Uint8Array {
  return model({
    graphName: 'per_column_types',
    inputs: [
      valueInfo('s', DT.STRING, ['N', 1]),
      valueInfo('i', DT.INT64, ['N', 1]),
      valueInfo('f', DT.FLOAT, ['N', 1]),
      valueInfo('d', DT.DOUBLE, ['N', 1]),
      valueInfo('b', DT.BOOL, ['N', 1]),
    ],
    outputs: [
      valueInfo('i_out', DT.INT64, ['N', 1]),
      valueInfo('f_out', DT.FLOAT, ['N', 1]),
      valueInfo('d_out', DT.DOUBLE, ['N', 1]),
      valueInfo('b_out', DT.INT64, ['N', 1]),
      valueInfo('s_out', DT.INT64, ['N', 1]),
    ],
    initializers: [
      initializer('i_two', [2], [1], DT.INT64),
      initializer('f_one', [1]),
      initializer('d_three', [3], [1], DT.DOUBLE),
    ],
    nodes: [
      node('Mul', ['i', 'i_two'], ['i_out']),
      node('Add', ['f', 'f_one'], ['f_out']),
      node('Mul', ['d', 'd_three'], ['d_out']),
      node('Cast', ['b'], ['b_out'], { to: int(DT.INT64) }),
      mlNode('LabelEncoder', ['s'], ['s_out'], {
        keys_strings: strings(['a', 'b']),
        values_int64s: ints([1, 2]),
        default_int64: int(0),
      }),
    ],
  });
}

// float64_regressor: variable = x·[0.25, 4.0] - 1 in float64.
function float64Regressor(): Uint8Array {
  return model({
    graphName: 'float64_regressor',
    inputs: [valueInfo('input', DT.DOUBLE, ['N', 2])],
    outputs: [valueInfo('variable', DT.DOUBLE, ['N', 1])],
    initializers: [initializer('W', new Float64Array([0.25, 4.0]), [2, 1]), initializer('b', new Float64Array([-1]))],
    nodes: [node('MatMul', ['input', 'W'], ['xw']), node('Add', ['xw', 'b'], ['variable'])],
  });
}

// needs20: one-tree TreeEnsembleRegressor splitting on feature 19 (x[19] <= 0.5 -> 1, else 2);
// the feature dim is symbolic, so only ORT's run-time check rejects inputs with < 20 columns.
function needs20(): Uint8Array {
  return model({
    graphName: 'needs20',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 'F'])],
    outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])],
    nodes: [
      mlNode('TreeEnsembleRegressor', ['input'], ['variable'], {
        n_targets: int(1),
        nodes_treeids: ints([0, 0, 0]),
        nodes_nodeids: ints([0, 1, 2]),
        nodes_featureids: ints([19, 0, 0]),
        nodes_values: floats([0.5, 0, 0]),
        nodes_modes: strings(['BRANCH_LEQ', 'LEAF', 'LEAF']),
        nodes_truenodeids: ints([1, 0, 0]),
        nodes_falsenodeids: ints([2, 0, 0]),
        target_treeids: ints([0, 0]),
        target_nodeids: ints([1, 2]),
        target_ids: ints([0, 0]),
        target_weights: floats([1, 2]),
        aggregate_function: string('SUM'),
        post_transform: string('NONE'),
      }),
    ],
  });
}

// classes_357: what skl2onnx writes for a one-vs-rest LogisticRegression trained on classes 3, 5 and 7:
// LinearClassifier (LOGISTIC) -> label -> Cast -> output_label; its scores -> Normalizer (L1) ->
// ZipMap -> output_probability. So p_k = sigmoid(z_k) / sum_j sigmoid(z_j), z = x·W_k + b_k, and the label
// is the class of the largest score. The metadata names the two features, as some exporters record them.
function classes357(): Uint8Array {
  const labels = [3, 5, 7];
  return model({
    graphName: 'classes_357',
    inputs: [valueInfo('float_input', DT.FLOAT, ['N', 2])],
    outputs: [valueInfo('output_label', DT.INT64, ['N']), seqMapInfo('output_probability', DT.INT64, DT.FLOAT)],
    metadata: { feature_names: '["petal length", "petal width"]' },
    nodes: [
      mlNode('LinearClassifier', ['float_input'], ['label', 'probability_tensor'], {
        classlabels_ints: ints(labels),
        coefficients: floats([2, 0, -1, 1, -1, -1]),
        intercepts: floats([-1, 0, 1]),
        multi_class: int(0),
        post_transform: string('LOGISTIC'),
      }),
      node('Cast', ['label'], ['output_label'], { to: int(DT.INT64) }),
      mlNode('Normalizer', ['probability_tensor'], ['probabilities'], { norm: string('L1') }),
      mlNode('ZipMap', ['probabilities'], ['output_probability'], { classlabels_int64s: ints(labels) }),
    ],
  });
}

// sequence_output: y = input (a tensor) and seq = SequenceConstruct(input), a sequence(tensor(float)) that
// onnxruntime-node cannot return; the product must leave it out or refuse it.
function sequenceOutput(): Uint8Array {
  return model({
    graphName: 'sequence_output',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 2])],
    outputs: [valueInfo('y', DT.FLOAT, ['N', 2]), seqTensorInfo('seq', DT.FLOAT)],
    nodes: [node('Identity', ['input'], ['y']), node('SequenceConstruct', ['input'], ['seq'])],
  });
}

/** The forest fixture: more trees than ONNX Runtime's threshold for splitting a call's trees between threads
 *  (80), so that a call of few rows sums each row's trees in another order than a call of many rows. */
export const FOREST = { trees: 100, depth: 3, features: 4, targets: 2, seed: 20261124 };

// A deterministic pseudo-random sequence in [0, 1) (a 31-bit linear congruential generator).
function sequence(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** One tree of the forest: branch node i (breadth first) tests x[feature[i]] <= threshold[i] and goes to
 *  2i+1 if true, 2i+2 if false; leaf j adds weights[j][t] to target t. */
export interface ForestTree {
  feature: number[];
  threshold: number[];
  weights: number[][];
}

// The forest's trees, from FOREST.seed (thresholds and weights are float32 values).
export function forestTrees(): ForestTree[] {
  const next = sequence(FOREST.seed);
  const branches = 2 ** FOREST.depth - 1;
  return Array.from({ length: FOREST.trees }, () => ({
    feature: Array.from({ length: branches }, () => Math.floor(next() * FOREST.features)),
    threshold: Array.from({ length: branches }, () => Math.fround(next())),
    weights: Array.from({ length: branches + 1 }, () => Array.from({ length: FOREST.targets }, () => Math.fround(next() * 2 - 1))),
  }));
}

// forest: a TreeEnsembleRegressor of FOREST.trees full trees of FOREST.depth over 4 features, 2 targets, SUM.
function forest(): Uint8Array {
  const trees = forestTrees();
  const branches = 2 ** FOREST.depth - 1;
  const nodes = 2 * branches + 1;
  const a = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], values: [] as number[], modes: [] as string[], trueids: [] as number[], falseids: [] as number[] };
  const t = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  trees.forEach((tree, k) => {
    for (let i = 0; i < nodes; i++) {
      const branch = i < branches;
      a.treeids.push(k);
      a.nodeids.push(i);
      a.featureids.push(branch ? tree.feature[i] : 0);
      a.values.push(branch ? tree.threshold[i] : 0);
      a.modes.push(branch ? 'BRANCH_LEQ' : 'LEAF');
      a.trueids.push(branch ? 2 * i + 1 : 0);
      a.falseids.push(branch ? 2 * i + 2 : 0);
      if (branch) continue;
      for (let target = 0; target < FOREST.targets; target++) {
        t.treeids.push(k);
        t.nodeids.push(i);
        t.ids.push(target);
        t.weights.push(tree.weights[i - branches][target]);
      }
    }
  });
  return model({
    graphName: 'forest',
    inputs: [valueInfo('input', DT.FLOAT, ['N', FOREST.features])],
    outputs: [valueInfo('variable', DT.FLOAT, ['N', FOREST.targets])],
    nodes: [
      mlNode('TreeEnsembleRegressor', ['input'], ['variable'], {
        n_targets: int(FOREST.targets),
        nodes_treeids: ints(a.treeids),
        nodes_nodeids: ints(a.nodeids),
        nodes_featureids: ints(a.featureids),
        nodes_values: floats(a.values),
        nodes_modes: strings(a.modes),
        nodes_truenodeids: ints(a.trueids),
        nodes_falsenodeids: ints(a.falseids),
        target_treeids: ints(t.treeids),
        target_nodeids: ints(t.nodeids),
        target_ids: ints(t.ids),
        target_weights: floats(t.weights),
        aggregate_function: string('SUM'),
        post_transform: string('NONE'),
      }),
    ],
  });
}

// loop_steps: y = x, after a Loop that does nothing for as many steps as the call's largest x (cast to an
// integer): x = 1e12 makes a model call that never comes back, x = 1e5 one that takes a while.
function loopSteps(): Uint8Array {
  const body = graph(
    'body',
    [node('Identity', ['cond_in'], ['cond_out']), node('Identity', ['v_in'], ['v_out'])],
    [valueInfo('step', DT.INT64, []), valueInfo('cond_in', DT.BOOL, []), valueInfo('v_in', DT.FLOAT, ['N', 1])],
    [valueInfo('cond_out', DT.BOOL, []), valueInfo('v_out', DT.FLOAT, ['N', 1])],
  );
  return model({
    graphName: 'loop_steps',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 1])],
    outputs: [valueInfo('y', DT.FLOAT, ['N', 1])],
    initializers: [initializer('always', [1], [], DT.BOOL)],
    nodes: [
      node('ReduceMax', ['input'], ['largest'], { keepdims: int(0) }),
      node('Cast', ['largest'], ['steps'], { to: int(DT.INT64) }),
      node('Loop', ['steps', 'always', 'input'], ['y'], { body: attr.graph(body) }),
    ],
  });
}

/** Where external_data.onnx keeps its weights, beside it. */
export const EXTERNAL_DATA_FILE = 'external_data.bin';

// external_data: variable = x·[0.75, -1.5] + 0.5, with W and b stored in external_data.bin (b at offset 8):
// the layout exporters use for models above 2 GB.
function externalData(): { model: Uint8Array; data: Uint8Array } {
  const w = externalInitializer('W', [0.75, -1.5], [2, 1], EXTERNAL_DATA_FILE, 0);
  const b = externalInitializer('b', [0.5], [1], EXTERNAL_DATA_FILE, 8);
  const bytes = model({
    graphName: 'external_data',
    inputs: [valueInfo('input', DT.FLOAT, ['N', 2])],
    outputs: [valueInfo('variable', DT.FLOAT, ['N', 1])],
    initializers: [w.tensor, b.tensor],
    nodes: [node('Gemm', ['input', 'W', 'b'], ['variable'])],
  });
  const data = new Uint8Array(12);
  data.set(w.bytes, 0);
  data.set(b.bytes, 8);
  return { model: bytes, data };
}

// All fixture files (models, and the data file of external_data.onnx) by file name, built fresh.
export function fixtureModels(): Record<string, Uint8Array> {
  const external = externalData();
  return {
    'linear_binary.onnx': linearBinary(),
    'regressor.onnx': regressor(),
    'multiclass.onnx': multiclass(),
    'per_column.onnx': perColumn(),
    'zipmap_int.onnx': zipmapClassifier('zipmap_int', [0, 1, 2]),
    'zipmap_string.onnx': zipmapClassifier('zipmap_string', ['setosa', 'versicolor', 'virginica']),
    'fixed_batch.onnx': fixedBatch(),
    'int4_output.onnx': int4Output(),
    'per_column_types.onnx': perColumnTypes(),
    'float64_regressor.onnx': float64Regressor(),
    'needs20.onnx': needs20(),
    'classes_357.onnx': classes357(),
    'sequence_output.onnx': sequenceOutput(),
    'forest.onnx': forest(),
    'loop_steps.onnx': loopSteps(),
    'external_data.onnx': external.model,
    [EXTERNAL_DATA_FILE]: external.data,
  };
}

// Writes every fixture file into outDir and returns the file names written.
export function writeFixtures(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const models = fixtureModels();
  for (const [file, bytes] of Object.entries(models)) writeFileSync(join(outDir, file), bytes);
  return Object.keys(models);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = process.argv[2] ?? 'fixtures/models';
  for (const file of writeFixtures(outDir)) console.log(join(outDir, file));
}

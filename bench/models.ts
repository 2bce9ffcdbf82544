// Models equivalent to ../shared/bench/make_models.py, built with the project's own fixture builder (random
// weights, not trained: the bench measures cost, and cost depends on shape): input `input` float32 [N, 30];
// lr → label + probabilities [N, 2]; mlp (256-256) and rf (100 trees, depth 8) → label + probabilities
// [N, 3]; gbr (100 trees, depth 4) → prediction [N, 1].
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { attr, DT, initializer, mlNode, model, node, valueInfo } from '../scripts/onnx-builder.js';
import { FEATURES } from './data.js';
import { normal, uniform } from './random.js';

const input = valueInfo('input', DT.FLOAT, ['N', FEATURES]);

function lr(): Uint8Array {
  const rnd = normal(1);
  const W = Array.from({ length: FEATURES }, () => rnd() * 0.3);
  return model({
    graphName: 'lr',
    inputs: [input],
    outputs: [valueInfo('label', DT.INT64, ['N']), valueInfo('probabilities', DT.FLOAT, ['N', 2])],
    initializers: [initializer('W', W, [1, FEATURES]), initializer('b', [0.1]), initializer('one', [1])],
    nodes: [
      node('Gemm', ['input', 'W', 'b'], ['logit'], { transB: attr.int(1) }),
      node('Sigmoid', ['logit'], ['p1']),
      node('Sub', ['one', 'p1'], ['p0']),
      node('Concat', ['p0', 'p1'], ['probabilities'], { axis: attr.int(1) }),
      node('ArgMax', ['probabilities'], ['label'], { axis: attr.int(1), keepdims: attr.int(0) }),
    ],
  });
}

function mlp(): Uint8Array {
  const rnd = normal(2);
  const sizes = [FEATURES, 256, 256, 3];
  const inits = [];
  const nodes = [];
  let prev = 'input';
  for (let i = 0; i < 3; i++) {
    const [a, b] = [sizes[i], sizes[i + 1]];
    inits.push(initializer(`W${i}`, Array.from({ length: a * b }, () => rnd() / Math.sqrt(a)), [b, a]), initializer(`b${i}`, Array.from({ length: b }, () => rnd() * 0.1)));
    nodes.push(node('Gemm', [prev, `W${i}`, `b${i}`], [`h${i}`], { transB: attr.int(1) }));
    prev = `h${i}`;
    if (i < 2) {
      nodes.push(node('Relu', [prev], [`r${i}`]));
      prev = `r${i}`;
    }
  }
  nodes.push(node('Softmax', [prev], ['probabilities'], { axis: attr.int(1) }), node('ArgMax', ['probabilities'], ['label'], { axis: attr.int(1), keepdims: attr.int(0) }));
  return model({ graphName: 'mlp', inputs: [input], outputs: [valueInfo('label', DT.INT64, ['N']), valueInfo('probabilities', DT.FLOAT, ['N', 3])], initializers: inits, nodes });
}

// Full binary trees of `depth` with random splits; leaves carry `targets` weights each.
function forest(seed: number, trees: number, depth: number, targets: number) {
  const u = uniform(seed);
  const n = {
    treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], values: [] as number[], modes: [] as string[],
    trueids: [] as number[], falseids: [] as number[], leafTree: [] as number[], leafNode: [] as number[], leafTarget: [] as number[], leafWeight: [] as number[],
  };
  const internal = 2 ** depth - 1;
  for (let t = 0; t < trees; t++) {
    for (let i = 0; i < 2 ** (depth + 1) - 1; i++) {
      const leaf = i >= internal;
      n.treeids.push(t);
      n.nodeids.push(i);
      n.featureids.push(leaf ? 0 : Math.floor(u() * FEATURES));
      n.values.push(leaf ? 0 : (u() - 0.5) * 2);
      n.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      n.trueids.push(leaf ? 0 : 2 * i + 1);
      n.falseids.push(leaf ? 0 : 2 * i + 2);
      if (leaf) {
        for (let k = 0; k < targets; k++) {
          n.leafTree.push(t);
          n.leafNode.push(i);
          n.leafTarget.push(k);
          n.leafWeight.push(u() / trees);
        }
      }
    }
  }
  return n;
}

function rf(): Uint8Array {
  const f = forest(3, 100, 8, 3);
  return model({
    graphName: 'rf',
    inputs: [input],
    outputs: [valueInfo('label', DT.INT64, ['N']), valueInfo('probabilities', DT.FLOAT, ['N', 3])],
    nodes: [
      mlNode('TreeEnsembleClassifier', ['input'], ['label', 'probabilities'], {
        classlabels_int64s: attr.ints([0, 1, 2]), post_transform: attr.string('NONE'),
        nodes_treeids: attr.ints(f.treeids), nodes_nodeids: attr.ints(f.nodeids), nodes_featureids: attr.ints(f.featureids),
        nodes_values: attr.floats(f.values), nodes_modes: attr.strings(f.modes), nodes_truenodeids: attr.ints(f.trueids), nodes_falsenodeids: attr.ints(f.falseids),
        class_treeids: attr.ints(f.leafTree), class_nodeids: attr.ints(f.leafNode), class_ids: attr.ints(f.leafTarget), class_weights: attr.floats(f.leafWeight),
      }),
    ],
  });
}

function gbr(): Uint8Array {
  const f = forest(4, 100, 4, 1);
  return model({
    graphName: 'gbr',
    inputs: [input],
    outputs: [valueInfo('prediction', DT.FLOAT, ['N', 1])],
    nodes: [
      mlNode('TreeEnsembleRegressor', ['input'], ['prediction'], {
        n_targets: attr.int(1), base_values: attr.floats([0.5]), post_transform: attr.string('NONE'),
        nodes_treeids: attr.ints(f.treeids), nodes_nodeids: attr.ints(f.nodeids), nodes_featureids: attr.ints(f.featureids),
        nodes_values: attr.floats(f.values), nodes_modes: attr.strings(f.modes), nodes_truenodeids: attr.ints(f.trueids), nodes_falsenodeids: attr.ints(f.falseids),
        target_treeids: attr.ints(f.leafTree), target_nodeids: attr.ints(f.leafNode), target_ids: attr.ints(f.leafTarget), target_weights: attr.floats(f.leafWeight),
      }),
    ],
  });
}

const BENCH_MODELS = { lr, gbr, rf, mlp } as const;
export type BenchModel = keyof typeof BENCH_MODELS;

// Write the four models to `dir`.
export function writeBenchModels(dir: string): Record<BenchModel, string> {
  mkdirSync(dir, { recursive: true });
  const out = {} as Record<BenchModel, string>;
  for (const [name, build] of Object.entries(BENCH_MODELS)) {
    const file = path.join(dir, `${name}.onnx`);
    writeFileSync(file, build());
    out[name as BenchModel] = file;
  }
  return out;
}

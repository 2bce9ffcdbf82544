// Job × model → plan: what is refused (exit 2) before any data is read, how outputs become columns.
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { parseJob } from '../../src/job/load.js';
import type { Dim, ModelInfo, TypeInfo, ValueInfo } from '../../src/model/model-info.js';
import { loadModel, type LoadedModel } from '../../src/model/session.js';
import { planRun, type RunPlan } from '../../src/pipeline/plan.js';
import { model } from '../support/cli.js';

// A job for `modelFile` with the given features and predictions (YAML fragments).
function job(features: string, predictions = '', modelFile = 'm.onnx') {
  return parseJob(`model: ${modelFile}\ninput: in.csv\nfeatures: ${features}\n${predictions}output: out.csv\n`, '/tmp/plan-test/job.yaml');
}

const tensor = (elemType: string, dims: Dim[]): TypeInfo => ({ kind: 'tensor', elemType, dims });
const value = (name: string, type: TypeInfo): ValueInfo => ({ name, type });

// A LoadedModel with no model thread, for plan-only checks.
function fake(outputs: ValueInfo[], o: { inputs?: ValueInfo[]; classLabels?: ModelInfo['classLabels'] } = {}): LoadedModel {
  const inputs = o.inputs ?? [value('input', tensor('float32', ['N', 2]))];
  const declared: ModelInfo = { opsets: [], metadata: {}, inputs, outputs, zipmaps: [], classLabels: o.classLabels ?? {} };
  return { path: 'm.onnx', sha256: '', dataFiles: [], bytes: 0, declared, inputs, outputs, thread: undefined as never, copyable: false, close: async () => undefined };
}

function refusal(f: () => unknown): { code: string; message: string; where?: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof SbError) return { code: err.code, message: err.message, where: err.context.yamlPath };
    throw err;
  }
  throw new Error('expected a refusal');
}

const names = (p: RunPlan) => p.columns.flatMap((c) => (c.kind === 'threshold' ? [c.name] : c.names));

describe('planRun: outputs onnxruntime-node cannot return', () => {
  const int4 = fake([value('q', tensor('int4', ['N', 2])), value('y', tensor('float32', ['N', 2]))]);

  it('refuses an int4 output by default, naming it and what to list instead', () => {
    const r = refusal(() => planRun(job('{ columns: [a, b] }'), int4));
    expect(r.code).toBe('MODEL_MISMATCH');
    expect(r.message).toBe("model output 'q' has element type int4, which onnxruntime-node cannot return (fetching it aborts the process); list the outputs to write, e.g. predictions: [y]");
    expect(r.where).toBe('predictions');
  });

  it('refuses an int4 output the job names, and scores without it when it is left out', () => {
    const r = refusal(() => planRun(job('{ columns: [a, b] }', 'predictions: [y, q]\n'), int4));
    expect(r.message).toMatch(/^output 'q' has element type int4, which onnxruntime-node cannot return .*re-export with it cast to float32 or int32, or leave it out of predictions$/);
    expect(r.where).toBe('predictions.1.output');
    expect(planRun(job('{ columns: [a, b] }', 'predictions: [y]\n'), int4).fetch).toEqual(['y']);
  });

  it.each(['uint4', 'float8e4m3fn', 'bfloat16', 'complex64'])('refuses %s outputs too', (elemType) => {
    const m = fake([value('z', tensor(elemType, ['N', 1]))]);
    expect(refusal(() => planRun(job('{ columns: [a, b] }', 'predictions: [z]\n'), m)).message).toContain(`element type ${elemType}`);
  });

  const nonTensor = fake([
    value('y', tensor('float32', ['N', 1])),
    value('m', { kind: 'map', keyType: 'string', value: tensor('float32', []) }),
    value('seqmap', { kind: 'sequence', elem: { kind: 'map', keyType: 'int64', value: tensor('float32', []) } }),
  ]);

  it('leaves maps and sequences out of the default predictions, with a warning each', () => {
    const p = planRun(job('{ columns: [a, b] }'), nonTensor);
    expect(p.fetch).toEqual(['y']);
    expect(p.warnings).toEqual([
      "model output 'm' is a map(string, float32), which onnxruntime-node cannot return: it is left out of the results",
      "model output 'seqmap' is a sequence(map(int64, float32)), which onnxruntime-node cannot return: it is left out of the results",
    ]);
  });

  it('refuses a map or a sequence the job names, saying what to re-export', () => {
    expect(refusal(() => planRun(job('{ columns: [a, b] }', 'predictions: [m]\n'), nonTensor)).message).toBe(
      "output 'm' is a map(string, float32), which onnxruntime-node cannot return; write a tensor output instead, or re-export the model with this output as a tensor",
    );
    expect(refusal(() => planRun(job('{ columns: [a, b] }', 'predictions: [seqmap]\n'), nonTensor)).message).toContain("or re-export the classifier without ZipMap (skl2onnx: options={'zipmap': False})");
  });

  it('refuses a model with no output it can return', () => {
    const m = fake([value('m', { kind: 'map', keyType: 'string', value: tensor('float32', []) })]);
    expect(refusal(() => planRun(job('{ columns: [a, b] }'), m)).message).toMatch(/^the model has no output onnxruntime-node can return \(outputs: m map\(string, float32\)\); re-export it with tensor outputs$/);
  });
});

describe('planRun: classifier outputs', () => {
  it('names ZipMap probability columns by class and keeps the classifier classes for the label', async () => {
    const m = await loadModel(model('classes_357'));
    const p = planRun(job('{ columns: [a, b] }'), m);
    expect(names(p)).toEqual(['output_label', 'output_probability_3', 'output_probability_5', 'output_probability_7']);
    expect(p.unresolved).toEqual([]);
    const labelled = planRun(job('{ columns: [a, b] }', 'predictions:\n  - { output: output_label, column: y, labels: [three, five, seven] }\n  - { threshold: { output: output_probability, class: 7, at: 0.5 } }\n'), m);
    expect(labelled.columns[0]).toMatchObject({ kind: 'values', names: ['y'], labels: ['three', 'five', 'seven'], classes: [3, 5, 7] });
    expect(labelled.columns[1]).toMatchObject({ kind: 'threshold', classIndex: 2, name: 'output_probability_7' });
    const wrong = refusal(() => planRun(job('{ columns: [a, b] }', 'predictions:\n  - { output: output_label, labels: [a, b] }\n'), m));
    expect(wrong.message).toBe('labels has 2 names but the model has 3 classes (3, 5, 7)');
    const notAClass = refusal(() => planRun(job('{ columns: [a, b] }', 'predictions:\n  - { threshold: { output: output_probability, class: 4, at: 0.5 } }\n'), m));
    expect(notAClass.message).toBe("threshold class '4' is not a class of output 'output_probability' (classes: 3, 5, 7)");
  });

  it('refuses labels for an output that already holds class names', async () => {
    const m = await loadModel(model('zipmap_string'));
    expect(names(planRun(job('{ columns: [a, b] }'), m))).toEqual(['output_label', 'output_probability_setosa', 'output_probability_versicolor', 'output_probability_virginica']);
    const r = refusal(() => planRun(job('{ columns: [a, b] }', 'predictions:\n  - { output: output_label, labels: [a, b, c] }\n'), m));
    expect(r).toMatchObject({ message: "output 'output_label' already holds class names (strings); remove labels", where: 'predictions.0.labels' });
  });

  it('names the columns of a probability tensor by its classifier classes when they fit its width', () => {
    const fits = fake([value('probabilities', tensor('float32', ['N', 3]))], { classLabels: { probabilities: [3, 5, 7] } });
    expect(names(planRun(job('{ columns: [a, b] }', 'predictions: [{ output: probabilities, column: p }]\n'), fits))).toEqual(['p_3', 'p_5', 'p_7']);
    const misfit = fake([value('probabilities', tensor('float32', ['N', 2]))], { classLabels: { probabilities: [3, 5, 7] } });
    expect(names(planRun(job('{ columns: [a, b] }', 'predictions: [{ output: probabilities, column: p }]\n'), misfit))).toEqual(['p_0', 'p_1']);
    const unknownWidth = fake([value('probabilities', tensor('float32', ['', '']))], { classLabels: { probabilities: [0, 1, 2] } });
    expect(names(planRun(job('{ columns: [a, b] }'), unknownWidth))).toEqual(['probabilities_0', 'probabilities_1', 'probabilities_2']);
  });
});

describe('planRun: batch dimension', () => {
  const withInput = (dims: Dim[]) => fake([value('y', tensor('float32', [dims[0], 1]))], { inputs: [value('input', tensor('float32', dims))] });

  it('scores a fixed [1, F] input one row per call, with a warning that says why it is slow', () => {
    const p = planRun(job('{ columns: [a, b] }'), withInput([1, 2]));
    expect(p.tensors[0].fixedBatch).toBe(1);
    expect(p.warnings).toEqual([
      "model input 'input' has a fixed batch dimension of 1: rows are scored 1 at a time, which is much slower than a dynamic batch; re-export with a dynamic first dimension (skl2onnx: initial_types=[('input', FloatTensorType([None, F]))])",
    ]);
  });

  it.each([['N'], [''], ['batch_size']])('treats a symbolic or unnamed first dimension %j as dynamic', (d) => {
    const p = planRun(job('{ columns: [a, b] }'), withInput([d, 2]));
    expect(p.tensors[0].fixedBatch).toBeUndefined();
    expect(p.warnings).toEqual([]);
  });
});

describe('planRun: per-column inputs', () => {
  const inputs = ['string', 'int64', 'float32', 'float64', 'bool'].map((t) => value(`${t}_in`, tensor(t, ['', 1])));
  const m = fake([value('y', tensor('float32', ['', 1]))], { inputs });

  it('feeds each [N, 1] input from its column with its own element type and missing policy', () => {
    const p = planRun(job('\n  inputs: { string_in: s, int64_in: i, float32_in: f, float64_in: d, bool_in: b }\n  missing: { default: reject, f: nan, d: nan, i: 0, s: nan }\n'), m);
    expect(p.tensors.map((t) => [t.input, t.type, t.rank, t.columns[0].name, t.columns[0].missing])).toEqual([
      ['string_in', 'string', 2, 's', { kind: 'nan' }],
      ['int64_in', 'int64', 2, 'i', { kind: 'fill', value: 0 }],
      ['float32_in', 'float32', 2, 'f', { kind: 'nan' }],
      ['float64_in', 'float64', 2, 'd', { kind: 'nan' }],
      ['bool_in', 'bool', 2, 'b', { kind: 'reject' }],
    ]);
    expect(p.needs.find((n) => n.name === 'i')).toEqual({ name: 'i', number: false, text: true });
    expect(p.needs.find((n) => n.name === 'f')).toEqual({ name: 'f', number: true, text: false });
  });

  it('refuses a fill value an integer input cannot hold', () => {
    const r = refusal(() => planRun(job('\n  inputs: { string_in: s, int64_in: i, float32_in: f, float64_in: d, bool_in: b }\n  missing: 0.5\n'), m));
    expect(r.message).toBe("missing: 0.5 cannot fill column 'i': model input 'int64_in' is int64; use a whole number");
  });
});

// The model stage on real sessions: calls on slices of rows give the outputs of one call on all of them
// (float and int64 outputs; string, float and int64 inputs), and calls on fixed-batch models are unchanged.
import { describe, expect, it } from 'vitest';
import type { Feed } from '../../src/pipeline/featurize.js';
import * as ort from 'onnxruntime-node';
import { runModel, sameOutputs, type Outputs } from '../../src/model/runner.js';
import { loadModel } from '../../src/model/session.js';
import { model } from '../support/cli.js';

const plain = (o: Outputs) => Object.fromEntries(Object.entries(o).map(([k, t]) => [k, { dims: t.dims, data: Array.from(t.data as ArrayLike<unknown>) }]));

describe('runModel with slice', () => {
  it('a classifier (float probabilities, int64 labels) on 2500 rows in slices of 1024 and 7 = one call', async () => {
    const m = await loadModel(model('multiclass'));
    const rows = 2500;
    const data = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i) * 3);
    const feeds: Feed[] = [{ input: 'input', type: 'float32', data, dims: [rows, 4] }];
    const fetch = ['probabilities', 'label'];
    const whole = plain(await runModel(m.session, feeds, rows, { fetch }));
    expect(whole.label.data).toHaveLength(rows);
    expect(new Set(whole.label.data).size).toBe(3);
    for (const slice of [1024, 7]) expect(plain(await runModel(m.session, feeds, rows, { fetch, slice }))).toEqual(whole);
    const head = plain(await runModel(m.session, feeds, 100, { fetch })); // the first 100 rows only
    expect(head.probabilities).toEqual({ dims: [100, 3], data: whole.probabilities.data.slice(0, 300) });
    expect(head.label).toEqual({ dims: [100], data: whole.label.data.slice(0, 100) });
    expect(Array.from(data.subarray(0, 4))).toEqual(Array.from(Float32Array.from({ length: 4 }, (_, i) => Math.sin(i) * 3))); // inputs untouched
  });

  it('per-column string, float and int64 inputs in slices = one call', async () => {
    const m = await loadModel(model('per_column'));
    const rows = 300;
    const feeds: Feed[] = [
      { input: 'city', type: 'string', data: Array.from({ length: rows }, (_, i) => ['Paris', 'Berlin', 'Rome'][i % 3]), dims: [rows, 1] },
      { input: 'age', type: 'float32', data: Float32Array.from({ length: rows }, (_, i) => i / 2), dims: [rows, 1] },
      { input: 'visits', type: 'int64', data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 5)), dims: [rows, 1] },
    ];
    const whole = plain(await runModel(m.session, feeds, rows, { fetch: ['score'] }));
    expect(whole.score.data.slice(0, 3)).toEqual([10, 22.25, 3.5]);
    expect(plain(await runModel(m.session, feeds, rows, { fetch: ['score'], slice: 64 }))).toEqual(whole);
  });

  it('a fixed-batch model keeps its own slices', async () => {
    const m = await loadModel(model('fixed_batch'));
    const input = m.inputs[0];
    const width = Number((input.type as { dims: unknown[] }).dims[1]);
    const rows = 5;
    const feeds: Feed[] = [{ input: input.name, type: 'float32', data: Float32Array.from({ length: rows * width }, (_, i) => i), dims: [rows, width] }];
    const fetch = m.outputs.map((o) => o.name);
    const one = plain(await runModel(m.session, feeds, rows, { fetch, fixedBatch: 1 }));
    expect(plain(await runModel(m.session, feeds, rows, { fetch, fixedBatch: 1, slice: 2 }))).toEqual(one);
    expect(one[fetch[0]].dims[0]).toBe(rows);
  });

  it('sameOutputs: shapes, names and every value bit for bit', () => {
    const f = (data: number[], dims = [data.length]) => new ort.Tensor('float32', Float32Array.from(data), dims);
    expect(sameOutputs({ a: f([1, NaN, 3]) }, { a: f([1, NaN, 3]) })).toBe(true);
    expect(sameOutputs({ a: f([0]) }, { a: f([-0]) })).toBe(false);
    expect(sameOutputs({ a: f([1, 2]) }, { a: f([1, 2], [1, 2]) })).toBe(false);
    expect(sameOutputs({ a: f([1]) }, { b: f([1]) })).toBe(false);
    expect(sameOutputs({ a: f([1 + 2 ** -23]) }, { a: f([1]) })).toBe(false);
    const s = (v: string[]) => new ort.Tensor('string', v, [v.length]);
    expect(sameOutputs({ a: s(['x', 'y']) }, { a: s(['x', 'y']) })).toBe(true);
    expect(sameOutputs({ a: s(['x', 'y']) }, { a: s(['x', 'z']) })).toBe(false);
  });
});

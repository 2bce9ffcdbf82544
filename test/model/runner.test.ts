// The model stage on real sessions: every call has the same number of rows, so a row's outputs do not depend on
// which rows share its call (a forest of 100 trees, which ONNX Runtime splits between threads by trees on small
// calls); padding repeats a real row; string, float and int64 inputs; fixed-batch models.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runModel, sameOutputs } from '../../src/model/runner.js';
import { CALL_ROWS, type NamedTensor, type Outputs } from '../../src/model/tensors.js';
import { model } from '../support/cli.js';

const plain = (o: Outputs) => Object.fromEntries(Object.entries(o).map(([k, t]) => [k, { dims: t.dims, data: Array.from(t.data as ArrayLike<unknown>) }]));
const open = (name: string) => ort.InferenceSession.create(model(name), { logSeverityLevel: 4 });

// Deterministic floats in [0, 1).
function floats(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

// Rows [start, start + count) of a feed, as a feed of their own.
function part(f: NamedTensor, start: number, count: number): NamedTensor {
  const width = f.dims.length > 1 ? f.dims[1] : 1;
  const data = f.data as Float32Array;
  return { ...f, data: data.slice(start * width, (start + count) * width), dims: [count, ...f.dims.slice(1)] };
}

describe('runModel', () => {
  it('a forest row gets the same bits whatever rows share its call: chunks of 1 to 64 rows and one of all 120', async () => {
    const s = await open('forest');
    const rows = 120;
    const feed: NamedTensor = { input: 'input', type: 'float32', data: floats(rows * 4, 7), dims: [rows, 4] };
    const whole = (await runModel(s, [feed], rows, { fetch: ['variable'] })).variable.data as Float32Array;
    // ONNX Runtime on its own: a call of 7 rows adds up the 100 trees in another order than a call of 120.
    const direct = (n: number) => s.run({ input: new ort.Tensor('float32', (feed.data as Float32Array).subarray(0, n * 4), [n, 4]) });
    const few = (await direct(7)).variable.data as Float32Array;
    const many = (await direct(rows)).variable.data as Float32Array;
    expect(Buffer.from(few.buffer).equals(Buffer.from(many.buffer, 0, few.byteLength))).toBe(false);
    for (const size of [1, 2, 3, 7, 50, 64]) {
      const got = new Float32Array(rows * 2);
      for (let start = 0; start < rows; start += size) {
        const count = Math.min(size, rows - start);
        got.set((await runModel(s, [part(feed, start, count)], count, { fetch: ['variable'] })).variable.data as Float32Array, start * 2);
      }
      expect(Buffer.from(got.buffer).equals(Buffer.from(whole.buffer)), `chunks of ${size} rows`).toBe(true);
    }
  });

  it('a classifier on 2500 rows: every output row-aligned, the first 100 rows alone the same, inputs untouched', async () => {
    const s = await open('multiclass');
    const rows = 2500;
    const data = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i) * 3);
    const feeds: NamedTensor[] = [{ input: 'input', type: 'float32', data, dims: [rows, 4] }];
    const fetch = ['probabilities', 'label'];
    const whole = plain(await runModel(s, feeds, rows, { fetch }));
    expect(whole.label.dims).toEqual([rows]);
    expect(whole.probabilities.dims).toEqual([rows, 3]);
    expect(new Set(whole.label.data).size).toBe(3);
    const head = plain(await runModel(s, feeds, 100, { fetch })); // the first 100 rows only
    expect(head.probabilities).toEqual({ dims: [100, 3], data: whole.probabilities.data.slice(0, 300) });
    expect(head.label).toEqual({ dims: [100], data: whole.label.data.slice(0, 100) });
    expect(Array.from(data.subarray(0, 4))).toEqual(Array.from(Float32Array.from({ length: 4 }, (_, i) => Math.sin(i) * 3)));
  });

  it('per-column string, float and int64 inputs, padded with a real row (never an empty string)', async () => {
    const s = await open('per_column');
    const rows = 300;
    const feeds: NamedTensor[] = [
      { input: 'city', type: 'string', data: Array.from({ length: rows }, (_, i) => ['Paris', 'Berlin', 'Rome'][i % 3]), dims: [rows, 1] },
      { input: 'age', type: 'float32', data: Float32Array.from({ length: rows }, (_, i) => i / 2), dims: [rows, 1] },
      { input: 'visits', type: 'int64', data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 5)), dims: [rows, 1] },
    ];
    const seen: string[][] = [];
    const spy = { run: (f: Record<string, ort.Tensor>, fetch: string[]) => (seen.push([...(f.city.data as string[])]), s.run(f, fetch)) } as unknown as ort.InferenceSession;
    const out = plain(await runModel(spy, feeds, rows, { fetch: ['score'] }));
    expect(out.score.dims).toEqual([rows, 1]);
    expect(out.score.data.slice(0, 3)).toEqual([10, 22.25, 3.5]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveLength(CALL_ROWS);
    expect(new Set(seen[0].slice(rows))).toEqual(new Set(['Paris'])); // the call's first row, repeated
  });

  it('a fixed-batch model is called with its declared batch size, the last call padded', async () => {
    const s = await open('fixed_batch');
    const rows = 5;
    const feeds: NamedTensor[] = [{ input: 'input', type: 'float32', data: Float32Array.from({ length: rows * 3 }, (_, i) => i), dims: [rows, 3] }];
    const out = plain(await runModel(s, feeds, rows, { fetch: ['variable'], fixedBatch: 1 }));
    expect(out.variable).toEqual({ dims: [5, 1], data: [8, 26, 44, 62, 80] });
  });

  it('an output without one row per input row is refused (MODEL_RUNTIME)', async () => {
    const s = await open('regressor');
    const shaped = { run: async () => ({ variable: new ort.Tensor('float32', new Float32Array(3), [3]) }) } as unknown as ort.InferenceSession;
    await expect(runModel(shaped, [{ input: 'input', type: 'float32', data: new Float32Array(4), dims: [2, 2] }], 2, { fetch: ['variable'] })).rejects.toMatchObject({
      code: 'MODEL_RUNTIME',
      message: `output 'variable' has shape [3] for a call of ${CALL_ROWS} rows; serve-batch needs one output row per input row`,
    });
    await s.release();
  });

  it('sameOutputs: shapes, names and every value bit for bit', () => {
    const f = (data: number[], dims = [data.length]) => ({ type: 'float32', data: Float32Array.from(data), dims });
    expect(sameOutputs({ a: f([1, NaN, 3]) }, { a: f([1, NaN, 3]) })).toBe(true);
    expect(sameOutputs({ a: f([0]) }, { a: f([-0]) })).toBe(false);
    expect(sameOutputs({ a: f([1, 2]) }, { a: f([1, 2], [1, 2]) })).toBe(false);
    expect(sameOutputs({ a: f([1]) }, { b: f([1]) })).toBe(false);
    expect(sameOutputs({ a: f([1 + 2 ** -23]) }, { a: f([1]) })).toBe(false);
    const s = (v: string[]) => ({ type: 'string', data: v, dims: [v.length] });
    expect(sameOutputs({ a: s(['x', 'y']) }, { a: s(['x', 'y']) })).toBe(true);
    expect(sameOutputs({ a: s(['x', 'y']) }, { a: s(['x', 'z']) })).toBe(false);
  });
});

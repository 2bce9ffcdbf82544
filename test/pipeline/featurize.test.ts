// Cells → tensors of each element type, with the missing policy; bad rows are rejected with the reason.
import { describe, expect, it } from 'vitest';
import { ChunkBuilder } from '../../src/table/builder.js';
import { featurize } from '../../src/pipeline/featurize.js';
import type { FeedType, RunPlan } from '../../src/pipeline/plan.js';
import { oneColumnPlan, type Missing } from '../support/plans.js';

function chunkOf(p: RunPlan, cells: string[]) {
  const b = new ChunkBuilder(['v'], p.needs.map((n) => ({ ...n, index: 0 })), 100);
  cells.forEach((c, i) => b.addRecord([c], i + 2));
  return b.build();
}

function run(type: FeedType, cells: string[], missing?: Missing) {
  const p = oneColumnPlan(type, missing);
  const f = featurize(chunkOf(p, cells), p);
  return { data: Array.from(f.feeds[0].data as ArrayLike<unknown>), dims: f.feeds[0].dims, rejects: f.rejects.map((r) => [r.line, r.error]) };
}

describe('featurize', () => {
  it('float32: numbers, NaN for missing under nan, fill values, rejects for text', () => {
    expect(run('float32', ['1.5', ' 2 ', '1e3', '-inf'])).toMatchObject({ data: [1.5, 2, 1000, -Infinity], dims: [4, 1], rejects: [] });
    expect(run('float32', ['', 'NA', '0.1'], { kind: 'nan' }).data.map(String)).toEqual(['NaN', 'NaN', String(Math.fround(0.1))]);
    expect(run('float32', ['', '7'], { kind: 'fill', value: -1 }).data).toEqual([-1, 7]);
    const r = run('float32', ['1', 'abc', '', '2']);
    expect(r.data).toEqual([1, 2]);
    expect(r.rejects).toEqual([
      [3, "column 'v': 'abc' is not a number"],
      [4, "column 'v': empty value (features.missing: reject)"],
    ]);
  });

  it('float64 keeps full precision', () => {
    expect(run('float64', ['0.1', '123456789.123456789']).data).toEqual([0.1, 123456789.123456789]);
  });

  it('int64 parses text exactly, beyond 2^53, and never takes NaN', () => {
    const r = run('int64', ['9007199254740993', '-5', '3.0', '2.5', ''], { kind: 'nan' });
    expect(r.data).toEqual([9007199254740993n, -5n, 3n]);
    expect(r.rejects[0]).toEqual([5, "column 'v': '2.5' is not a whole number (model input is int64)"]);
    expect(r.rejects[1][1]).toMatch(/empty value; an int64 input cannot hold NaN, so the row is rejected \(set features\.missing for 'v' to a number to fill it\)/);
    expect(run('int64', ['', '4'], { kind: 'fill', value: 0 }).data).toEqual([0n, 4n]);
  });

  it('int32 checks integers and range', () => {
    const r = run('int32', ['7', '2147483648', '1.5']);
    expect(r.data).toEqual([7]);
    expect(r.rejects.map((x) => x[1])).toEqual(["column 'v': '2147483648' is not a whole number in int32 range [-2147483648, 2147483647]", "column 'v': '1.5' is not a whole number in int32 range [-2147483648, 2147483647]"]);
  });

  it('bool reads true/false, 1/0, yes/no', () => {
    const r = run('bool', ['true', 'False', '1', '0', 'yes', 'N', 'maybe']);
    expect(r.data).toEqual([1, 0, 1, 0, 1, 0]);
    expect(r.rejects[0][1]).toBe("column 'v': 'maybe' is not a boolean (true/false, 1/0, yes/no)");
  });

  it('string passes text through; missing is rejected, empty text, or the fill as text', () => {
    expect(run('string', ['Paris', ' x ', 'a,b']).data).toEqual(['Paris', ' x ', 'a,b']);
    expect(run('string', ['', 'B']).rejects).toHaveLength(1);
    expect(run('string', ['', 'B'], { kind: 'nan' }).data).toEqual(['', 'B']);
    expect(run('string', ['NA', 'B'], { kind: 'fill', value: 0 }).data).toEqual(['0', 'B']);
  });

  it('integers and booleans have no NaN: missing cells under nan are rejected, saying to set a number', () => {
    for (const type of ['int32', 'int8', 'uint16', 'bool'] as const) {
      const r = run(type, ['1', 'NA'], { kind: 'nan' });
      expect(r.data).toEqual([1]);
      const article = type === 'int32' || type === 'int8' ? 'an' : 'a';
      expect(r.rejects).toEqual([[3, `column 'v': missing value 'NA'; ${article} ${type} input cannot hold NaN, so the row is rejected (set features.missing for 'v' to a number to fill it)`]]);
    }
    expect(run('uint16', ['', '2'], { kind: 'fill', value: 7 }).data).toEqual([7, 2]);
    expect(run('bool', ['', 'no'], { kind: 'fill', value: 1 }).data).toEqual([1, 0]);
  });

  it('string: numbers stay the text they are (a string-typed category like pclass "1" gets "1")', () => {
    expect(run('string', ['1', '2', '3.0', 'NA'], { kind: 'fill', value: 3 }).data).toEqual(['1', '2', '3.0', '3']);
  });

  it('builds [n, F] row-major from several columns, kept rows only', () => {
    const p: RunPlan = {
      ...oneColumnPlan('float32'),
      tensors: [{ input: 'x', type: 'float32', columns: ['a', 'b', 'c'].map((name) => ({ name, missing: { kind: 'reject' } })), rank: 2 }],
      needs: ['a', 'b', 'c'].map((name) => ({ name, number: true, text: false })),
    };
    const b = new ChunkBuilder(['c', 'a', 'b'], [{ name: 'a', number: true, text: false, index: 1 }, { name: 'b', number: true, text: false, index: 2 }, { name: 'c', number: true, text: false, index: 0 }], 10);
    b.addRecord(['3', '1', '2'], 2);
    b.addRecord(['x', '1', '2'], 3);
    b.addRecord(['6', '4', '5'], 4);
    const f = featurize(b.build(), p);
    expect(f.feeds[0].dims).toEqual([2, 3]);
    expect(Array.from(f.feeds[0].data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(f.keep ?? [])).toEqual([0, 2]);
    expect(f.rejects).toEqual([{ line: 3, error: "column 'c': 'x' is not a number", fields: ['x', '1', '2'] }]);
  });
});

// The profile is a function of the values alone: the same JSON, bit for bit, whatever the chunk boundaries,
// the array types and strides that carry the values, their order, and the order and shape of the merges of
// shard profiles (some read back from JSON, as `merge` reads them).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProfile, profileToJson } from '../../src/monitor/json.js';
import { meanOf, mergeProfiles, Profiler, stdOf, type ColumnSpec } from '../../src/monitor/profile.js';
import { TEXT_DISTINCT_CAP } from '../../src/monitor/text.js';
import type { NumberColumnProfile, Profile } from '../../src/monitor/types.js';
import { anyDouble, anyFloat, exactOf } from './values.js';

const SPECS: ColumnSpec[] = [
  { name: 'f64', kind: 'number' },
  { name: 'f32', kind: 'number' },
  { name: 'mixed', kind: 'number' },
  { name: 'label', kind: 'text' },
];

interface Row {
  f64: number;
  f32: number;
  label: string | undefined;
}

const text = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'Zoë', '東京', '', ' ', 'NA', ' n/a ', '   #N/A N/A  ', 'null', 'NaN', 'a ', 'a long value'),
  fc.string({ maxLength: 3 }),
  fc.constant(undefined),
);
const row = fc.record({ f64: anyDouble, f32: anyFloat, label: text });

// Profile rows chunk by chunk: f64 from Float64Arrays, f32 as column 1 of a row-major [n, 2] Float32Array,
// `mixed` (the f32 values) from a Float32Array, a Float64Array or a plain array by turns.
function profileChunks(rows: Row[], cuts: number[]): Profile {
  const p = new Profiler(SPECS);
  const bounds = [0, ...cuts.map((c) => Math.min(c, rows.length)).sort((a, b) => a - b), rows.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const chunk = rows.slice(bounds[i], bounds[i + 1]);
    const n = chunk.length;
    p.number('f64').add(Float64Array.from(chunk, (r) => r.f64), n);
    const tensor = new Float32Array(2 * n);
    chunk.forEach((r, k) => {
      tensor[2 * k] = 99;
      tensor[2 * k + 1] = r.f32;
    });
    p.number('f32').add(tensor, n, 1, 2);
    const f32 = chunk.map((r) => r.f32);
    p.number('mixed').add(i % 3 === 0 ? Float32Array.from(f32) : i % 3 === 1 ? Float64Array.from(f32) : f32);
    p.text('label').add(chunk.map((r) => r.label));
  }
  return p.finish();
}

// Merge profiles pairwise in the order `picks` says (indices taken modulo what is left), either way round.
function mergeTree(profiles: Profile[], picks: number[]): Profile {
  const left = [...profiles];
  let k = 0;
  while (left.length > 1) {
    const i = picks[k++ % picks.length] % left.length;
    const a = left.splice(i, 1)[0];
    const j = picks[k++ % picks.length] % left.length;
    const b = left.splice(j, 1)[0];
    left.push(picks[k++ % picks.length] % 2 ? mergeProfiles(a, b) : mergeProfiles(b, a));
  }
  return left[0];
}

const json = (p: Profile) => JSON.stringify(profileToJson(p));
const reread = (p: Profile) => parseProfile(json(p), 'shard.json');

describe('profile determinism', () => {
  it('gives the same JSON for any chunking, order of values, shards and merge tree', () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 120 }),
        fc.array(fc.nat({ max: 120 }), { maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat({ max: 120 }), { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        (rows, cuts, order, shardCuts, viaJson) => {
          const whole = json(profileChunks(rows, []));
          expect(json(profileChunks(rows, cuts))).toBe(whole);
          // The same rows in another order, split into shards, each chunked, merged in a random tree.
          const shuffled = rows.map((r, i) => ({ r, key: order[i % order.length] * 1000 + i })).sort((a, b) => a.key - b.key).map((x) => x.r);
          const bounds = [0, ...shardCuts.map((c) => Math.min(c, rows.length)).sort((a, b) => a - b), rows.length];
          const shards = bounds.slice(1).map((end, i) => {
            const p = profileChunks(shuffled.slice(bounds[i], end), cuts);
            return viaJson[i % viaJson.length] ? reread(p) : p;
          });
          expect(json(mergeTree(shards, order))).toBe(whole);
        },
      ),
      { numRuns: 300, seed: 10 },
    );
  });

  it('decides high cardinality by the number of distinct values alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: TEXT_DISTINCT_CAP - 3, max: TEXT_DISTINCT_CAP + 3 }), fc.array(fc.nat({ max: 30_000 }), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (distinct, cuts, picks) => {
        const values: (string | undefined)[] = [];
        for (let i = 0; i < distinct; i++) values.push(`v${i}`, i % 7 === 0 ? `v${i}` : i % 3 ? 'NA' : '\t  n/a     ', i % 11 === 0 ? undefined : '');
        values.reverse();
        const one = new Profiler([{ name: 't', kind: 'text' }]);
        one.text('t').add(values);
        const whole = json(one.finish());
        const bounds = [0, ...cuts.map((c) => Math.min(c, values.length)).sort((a, b) => a - b), values.length];
        const shards = bounds.slice(1).map((end, i) => {
          const p = new Profiler([{ name: 't', kind: 'text' }]);
          p.text('t').add(values.slice(bounds[i], end));
          return reread(p.finish());
        });
        expect(json(mergeTree(shards, picks))).toBe(whole);
        const col = JSON.parse(whole).columns[0];
        expect(col.high_cardinality).toBe(distinct > TEXT_DISTINCT_CAP);
        expect(col.missing).toBe(2 * distinct - Math.ceil(distinct / 7));
      }),
      { numRuns: 12, seed: 11 },
    );
  });

  it('is the same run to run (a fixed input gives a fixed JSON)', () => {
    const rows: Row[] = Array.from({ length: 1000 }, (_, i) => ({ f64: Math.sin(i) * 10 ** (i % 7), f32: Math.fround(Math.cos(i)), label: ['x', 'y', 'z', ''][i % 4] }));
    const a = json(profileChunks(rows, [100, 350]));
    expect(json(profileChunks(rows, [999]))).toBe(a);
    expect(JSON.parse(a).columns[3]).toEqual({
      name: 'label',
      kind: 'text',
      count: 1000,
      missing: 250,
      distinct: 3,
      high_cardinality: false,
      histogram: { binning: 'top', values: ['x', 'y', 'z'], counts: [250, 250, 250], other: 0 },
      values: [['x', 250], ['y', 250], ['z', 250]],
    });
  });
});

describe('tensor columns', () => {
  it('profile each column of a row-major tensor as if it came alone, skipping unnamed ones', () => {
    const rows = 9000; // more than one block of rows
    const data = Float32Array.from({ length: rows * 3 }, (_, i) => (i % 3 === 1 ? NaN : Math.sin(i) * (i % 3)));
    const a = new Profiler([
      { name: 'x', kind: 'number' },
      { name: 'z', kind: 'number' },
    ]);
    a.tensor(['x', undefined, 'z'], data, rows);
    const b = new Profiler([
      { name: 'x', kind: 'number' },
      { name: 'z', kind: 'number' },
    ]);
    b.number('x').add(Float32Array.from({ length: rows }, (_, r) => data[3 * r]));
    b.number('z').add(Float32Array.from({ length: rows }, (_, r) => data[3 * r + 2]));
    expect(json(a.finish())).toBe(json(b.finish()));
    expect((a.finish().columns[1] as NumberColumnProfile).count).toBe(rows);
  });
});

describe('column figures', () => {
  it('count, missing, infinite, min, max; mean and std rounded once from exact sums', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { maxLength: 80 }), (xs) => {
        const p = new Profiler([{ name: 'x', kind: 'number' }]);
        p.number('x').add(xs);
        const col = p.finish().columns[0] as NumberColumnProfile;
        const finite = xs.filter(Number.isFinite);
        expect(col.count).toBe(xs.length);
        expect(col.missing).toBe(xs.filter(Number.isNaN).length);
        expect(col.infinite).toBe(xs.length - finite.length - col.missing);
        expect(col.min).toBe(finite.length ? Math.min(...finite) + 0 : null);
        expect(col.max).toBe(finite.length ? Math.max(...finite) + 0 : null);
        const mean = meanOf(col);
        if (finite.length === 0) expect(mean).toBeNull();
        else {
          // Correct rounding: |Σx/n - mean| ≤ half an ulp of mean, checked in exact integers.
          const n = BigInt(finite.length);
          const sum = finite.reduce((s, x) => s + exactOf(x), 0n);
          const error = sum - exactOf(mean as number) * n;
          const ulp = ulpOf(mean as number);
          if (Number.isFinite(ulp)) expect(2n * (error < 0n ? -error : error) <= exactOf(ulp) * n).toBe(true);
        }
        const std = stdOf(col);
        if (finite.length < 2) expect(std).toBeNull();
        else if (finite.every((x) => Math.abs(x) < 1e150 && (x === 0 || Math.abs(x) > 1e-150))) {
          const m = finite.reduce((s, x) => s + x, 0) / finite.length;
          const naive = Math.sqrt(finite.reduce((s, x) => s + (x - m) ** 2, 0) / (finite.length - 1));
          // The two-pass double computation is accurate to far better than 1e-9 of the scale here.
          const scale = Math.max(...finite.map(Math.abs));
          expect(Math.abs((std as number) - naive)).toBeLessThanOrEqual(1e-9 * Math.max(naive, scale * 1e-6));
        }
      }),
      { numRuns: 1000, seed: 12 },
    );
  });

  it('std of values far from zero keeps its digits (no cancellation)', () => {
    const p = new Profiler([{ name: 'x', kind: 'number' }]);
    p.number('x').add(Float64Array.of(1e9 + 1, 1e9 + 2, 1e9 + 3));
    const col = p.finish().columns[0] as NumberColumnProfile;
    expect(meanOf(col)).toBe(1e9 + 2);
    expect(stdOf(col)).toBe(1);
  });
});

// The distance to the next double away from zero.
function ulpOf(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0) - Math.abs(x);
}

// The quantile sketch: each value's bucket is the half-open interval [keyLower(k), keyLower(k + 1)) that holds
// it, at most 2^-7 wide relative to the value; the column loops compute the same key from the bits as keyOf;
// equal-frequency edges and the counts on them follow the values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NumberProfiler } from '../../src/monitor/numeric.js';
import { binCounts, equalFrequencyEdges, keyLower, keyOf, NEG_INF_KEY, POS_INF_KEY, ZERO_KEY } from '../../src/monitor/sketch.js';
import { anyDouble, anyFloat } from './values.js';

// The sketch of values profiled through a given array type, as key → count.
function loopKeys(xs: number[], array: 'f32' | 'f64' | 'list'): Map<number, number> {
  const p = new NumberProfiler('x');
  p.add(array === 'f32' ? Float32Array.from(xs) : array === 'f64' ? Float64Array.from(xs) : xs);
  const { keys, counts } = p.finish().sketch;
  return new Map(keys.map((k, i) => [k, counts[i]]));
}

// The same from keyOf, value by value.
function referenceKeys(xs: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const k of xs.map(keyOf).sort((a, b) => a - b)) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

describe('sketch buckets', () => {
  it('hold each value in [lower, next lower), at most 2^-7 of its magnitude wide', () => {
    fc.assert(
      fc.property(anyDouble.filter((x) => !Number.isNaN(x)), (x) => {
        const k = keyOf(x);
        const lo = keyLower(k);
        const hi = keyLower(k + 1);
        expect(lo <= x).toBe(true);
        if (x !== Infinity) expect(x < hi).toBe(true);
        if (Number.isFinite(lo) && Number.isFinite(hi) && Math.abs(x) >= 2 ** -126 && Math.abs(x) < 2 ** 127) expect(hi - lo).toBeLessThanOrEqual(Math.abs(x) * 2 ** -7);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('are the same key from the float32 and float64 loops as from keyOf', () => {
    const notNaN = (x: number) => !Number.isNaN(x);
    fc.assert(
      fc.property(fc.array(anyDouble.filter(notNaN), { maxLength: 200 }), fc.array(anyFloat.filter(notNaN), { maxLength: 200 }), (xs, ys) => {
        expect(loopKeys(xs, 'f64')).toEqual(referenceKeys(xs));
        expect(loopKeys(xs, 'list')).toEqual(referenceKeys(xs));
        expect(loopKeys(ys, 'f32')).toEqual(referenceKeys(ys));
        expect(loopKeys(ys, 'f64')).toEqual(referenceKeys(ys));
      }),
      { numRuns: 200, seed: 8 },
    );
  });

  it('put ±0 together, the infinities at the ends, and a double just below a bound below it', () => {
    expect(keyOf(-0)).toBe(ZERO_KEY);
    expect(keyOf(0)).toBe(ZERO_KEY);
    expect(keyOf(Infinity)).toBe(POS_INF_KEY);
    expect(keyOf(-Infinity)).toBe(NEG_INF_KEY);
    expect(keyOf(-1e39)).toBe(NEG_INF_KEY); // the largest float32 at or below it is -Infinity
    expect(keyLower(keyOf(1e39))).toBeLessThan(1e39);
    expect(keyLower(keyOf(1))).toBe(1);
    expect(keyLower(keyOf(-1))).toBe(-1);
    const below = 1 - 2 ** -40; // rounds to 1 as a float32, belongs below it
    expect(keyOf(below)).toBe(keyOf(1) - 1);
    expect([...loopKeys([below, -1 - 2 ** -40], 'f64').keys()]).toEqual([keyOf(-1) - 1, keyOf(1) - 1]);
  });
});

describe('equal-frequency edges', () => {
  it('split values into bins whose counts are the values between the edges', () => {
    fc.assert(
      fc.property(fc.array(anyDouble.filter((x) => !Number.isNaN(x)), { minLength: 1, maxLength: 300 }), fc.integer({ min: 2, max: 25 }), (xs, bins) => {
        const p = new NumberProfiler('x');
        p.add(xs);
        const sketch = p.finish().sketch;
        const edges = equalFrequencyEdges(sketch, bins);
        expect(edges.length).toBeLessThanOrEqual(bins - 1);
        edges.forEach((e, i) => {
          expect(Number.isFinite(e)).toBe(true);
          if (i > 0) expect(e).toBeGreaterThan(edges[i - 1]);
        });
        const counted = new Array(edges.length + 1).fill(0);
        for (const x of xs) {
          let b = 0;
          while (b < edges.length && x >= edges[b]) b++;
          counted[b]++;
        }
        expect(binCounts(sketch, edges)).toEqual(counted);
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it('are within a bucket of the quantiles for spread-out values', () => {
    const xs = Float64Array.from({ length: 10_000 }, (_, i) => 1 + i / 100);
    const p = new NumberProfiler('x');
    p.add(xs);
    const sketch = p.finish().sketch;
    const edges = equalFrequencyEdges(sketch, 20);
    expect(edges).toHaveLength(19);
    edges.forEach((e, i) => {
      const quantile = xs[Math.round(((i + 1) * xs.length) / 20)];
      expect(Math.abs(e - quantile) / quantile).toBeLessThanOrEqual(2 ** -7);
    });
    const counts = binCounts(sketch, edges);
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(500 * 2 ** -6 * 20);
  });

  it('isolate a constant column and a value that holds more than a bin', () => {
    const p = new NumberProfiler('x');
    p.add(new Float64Array(50).fill(3));
    expect(equalFrequencyEdges(p.finish().sketch, 20)).toEqual([3, 3.015625]);
    const q = new NumberProfiler('y');
    q.add([...new Array(50).fill(0), ...Array.from({ length: 50 }, (_, i) => 10 + i)]);
    const edges = equalFrequencyEdges(q.finish().sketch, 20);
    expect(edges[0]).toBe(0);
    expect(edges[1]).toBeGreaterThan(0);
    expect(edges[1]).toBeLessThan(1e-30);
    expect(binCounts(q.finish().sketch, edges).slice(0, 3)).toEqual([0, 50, 0]);
  });
});

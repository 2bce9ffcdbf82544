// The quantile sketch: a count per log-linear bucket, the bucket read from the value's bits.
//
// A float32's bits, read as sign and magnitude, order the floats: s = ±(bits & 0x7fffffff) grows with the
// value (±0 give the same s). Bucket key = (s + 2^31) >>> 16 keeps the sign, the 8 exponent bits and the top
// SKETCH_BITS = 7 mantissa bits, rounding toward -Infinity, so each bucket is a half-open interval
// [lower, upper) of values whose width is at most 2^-7 of its magnitude (0.78%) for normal float32s; below
// 2^-126 the buckets are 2^-133 wide. A float64 is put in the bucket of the largest float32 ≤ it (computed
// from its bits, not by rounding), so a value is in the same bucket whatever array type carried it, and
// bucket bounds are exact float32 numbers: histograms whose edges are bucket bounds are counted exactly.
// 65,536 keys (65,281 used, from -Infinity's 0x80 to +Infinity's 0xff80); a column holds them as one
// Uint32Array (256 KiB) while streaming, and a finished profile keeps only the non-empty ones. The sketch is
// the multiset of the values' buckets: the same whatever the order and the chunking, merged by adding.

export const SKETCH_BITS = 7;
export const SKETCH_KEYS = 1 << 16;
/** Key of zero (both signs) and of the smallest positive values. */
export const ZERO_KEY = 0x8000;
export const NEG_INF_KEY = 0x0080;
export const POS_INF_KEY = 0xff80;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// The bucket key of any non-NaN number: that of the largest float32 ≤ x (the column loops compute the
// same from the bits for float32-range doubles and call this for the others). -0 counts as 0.
export function keyOf(x: number): number {
  f32[0] = x;
  const bits = u32[0] | 0;
  const mag = bits & 0x7fffffff;
  let s = bits < 0 ? -mag | 0 : mag;
  // fround rounds to nearest: one step down when it went up (the float32 below it is then ≤ x).
  if (f32[0] > x) s = (s - 1) | 0;
  return (s ^ 0x80000000) >>> 16;
}

// The smallest value in bucket `key` (-Infinity for the lowest bucket, +Infinity for +Infinity's).
export function keyLower(key: number): number {
  const s = ((key << 16) ^ 0x80000000) | 0;
  if (s >= 0) {
    u32[0] = s;
    return f32[0];
  }
  u32[0] = -s;
  return -f32[0];
}

/** Sparse sketch of a finished profile: non-empty keys in ascending order and their counts. */
export interface Sketch {
  keys: number[];
  counts: number[];
}

// The non-empty buckets of a dense count array, added to those of `into` (by key).
export function sparseOf(dense: Uint32Array, extra?: Float64Array): Sketch {
  const keys: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < SKETCH_KEYS; k++) {
    const c = dense[k] + (extra ? extra[k] : 0);
    if (c !== 0) {
      keys.push(k);
      counts.push(c);
    }
  }
  return { keys, counts };
}

// Two sparse sketches added key by key.
export function mergeSketches(a: Sketch, b: Sketch): Sketch {
  const keys: number[] = [];
  const counts: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const ka = i < a.keys.length ? a.keys[i] : Infinity;
    const kb = j < b.keys.length ? b.keys[j] : Infinity;
    if (ka === kb) {
      keys.push(ka);
      counts.push(a.counts[i++] + b.counts[j++]);
    } else if (ka < kb) {
      keys.push(ka);
      counts.push(a.counts[i++]);
    } else {
      keys.push(kb);
      counts.push(b.counts[j++]);
    }
  }
  return { keys, counts };
}

// Up to `bins` equal-frequency bins as interior edges (finite, strictly increasing, each a bucket bound):
// for k = 1..bins-1, of the two bounds of the bucket holding the k/bins quantile, the one whose count of
// values below it is nearer to k/bins of the total (the lower one on a tie); repeats are left out. A bucket
// holding more than 1/bins of the values thus gets bins of its own, and a constant column gets the two
// bounds of its bucket, so values on either side of it fall in bins of their own. Exact while the total
// times `bins` stays below 2^53.
export function equalFrequencyEdges(sketch: Sketch, bins: number): number[] {
  const { keys, counts } = sketch;
  const total = counts.reduce((a, c) => a + c, 0);
  const edges: number[] = [];
  let i = 0;
  let below = 0;
  for (let k = 1; k < bins && total > 0; k++) {
    // The bucket whose values take the cumulative count past the target total·k/bins.
    while (i < keys.length - 1 && (below + counts[i]) * bins <= total * k) below += counts[i++];
    const under = below;
    const over = below + counts[i];
    const bound = keyLower(total * k - under * bins <= over * bins - total * k ? keys[i] : keys[i] + 1);
    if (Number.isFinite(bound) && (edges.length === 0 || bound > edges[edges.length - 1])) edges.push(bound);
  }
  return edges;
}

// Counts of the sketch's values in the bins (-inf, e0), [e0, e1), ..., [e_last, +inf): exact when every edge
// is a bucket bound (edges from equalFrequencyEdges are); otherwise a bucket counts in the bin of its
// lowest value.
export function binCounts(sketch: Sketch, edges: readonly number[]): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < sketch.keys.length; i++) {
    const lower = keyLower(sketch.keys[i]);
    while (bin < edges.length && lower >= edges[bin]) bin++;
    out[bin] += sketch.counts[i];
  }
  return out;
}

// The streaming profile of one numeric column: counts, min/max, exact sums (exact.ts) and the quantile sketch
// (sketch.ts), all updated in one pass over each chunk's values, read through their bits (no allocation,
// Map or Math.log per value).
//
// Missing values are NaN, which is how the pipeline carries them: the readers give an empty, NA or
// unparseable cell the value NaN in a source number column, and a float feed holds NaN for a missing cell
// under `missing: nan` (a `fill` policy has already replaced it by its number). ±Infinity are values, not
// missing: they count in `count` and `infinite`, fall in the outer histogram bins, and are left out of
// min, max, mean and std (which describe the finite values).
import { F32_BINS, F32_FLUSH, F32_SLOTS, F64_BINS, F64_FLUSH, F64_SLOTS, flushF32, flushF64, type ExactTotals } from './exact.js';
import { keyOf, SKETCH_KEYS, sparseOf } from './sketch.js';
import type { NumberColumnProfile } from './types.js';

/** Numeric data a column accepts: float arrays are read through their bits; other arrays value by value. */
export type NumericData = Float32Array | Float64Array | ArrayLike<number> | ArrayLike<bigint>;

const TWO_24 = 2 ** 24;
const TWO_M24 = 2 ** -24;
/** Sketch counts are Uint32: fold them into doubles before any could pass 2^32. */
const SKETCH_FOLD = 2 ** 31;
/** Block size for arrays that are neither Float32Array nor Float64Array (copied into a Float64Array). */
const GATHER = 4096;

// Kernel state (Float64Array): counts of missing and infinite values, min and max of float64 input.
const MISSING = 0;
const INFINITE = 1;
const MIN64 = 2;
const MAX64 = 3;
// Min and max of float32 input as sign-magnitude integers (Int32Array; ±0 alike).
const MIN32 = 0;
const MAX32 = 1;

export class NumberProfiler {
  private rows = 0;
  private readonly stats = Float64Array.of(0, 0, Infinity, -Infinity);
  private readonly stats32 = Int32Array.of(0x7fffffff, -0x7fffffff);
  private readonly totals: ExactTotals = { sum: 0n, squares: 0n };
  /** Per-exponent bins, made on first use (6 KiB for float32 input, 144 KiB for float64). */
  private bins32?: Float64Array;
  private bins64?: Float64Array;
  private pending32 = 0;
  private pending64 = 0;
  private readonly sketch = new Uint32Array(SKETCH_KEYS);
  private sketchFolded?: Float64Array;
  private sketchPending = 0;
  private scratch?: Float64Array;

  constructor(readonly name: string) {}

  // Add n values: values[offset], values[offset + stride], ... (a column of a row-major tensor).
  add(values: NumericData, n = values.length, offset = 0, stride = 1): void {
    if (n <= 0) return;
    if (!Number.isInteger(offset) || !Number.isInteger(stride) || offset < 0 || stride < 1 || offset + (n - 1) * stride >= values.length) {
      throw new RangeError(`profile of '${this.name}': ${n} values from offset ${offset} with stride ${stride} overrun an array of ${values.length}`);
    }
    this.rows += n;
    this.reserveSketch(n);
    if (values instanceof Float32Array) {
      const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
      const bins = (this.bins32 ??= new Float64Array(F32_BINS * F32_SLOTS));
      for (let done = 0; done < n; ) {
        const take = Math.min(n - done, F32_FLUSH - this.pending32);
        const from = offset + done * stride;
        float32Kernel(bits, from, from + take * stride, stride, bins, this.sketch, this.stats, this.stats32);
        this.countFloat32(take);
        done += take;
      }
    } else if (values instanceof Float64Array) {
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      const bins = (this.bins64 ??= new Float64Array(F64_BINS * F64_SLOTS));
      for (let done = 0; done < n; ) {
        const take = Math.min(n - done, F64_FLUSH - this.pending64);
        const from = offset + done * stride;
        float64Kernel(values, words, from, from + take * stride, stride, bins, this.sketch, this.stats);
        this.countFloat64(take);
        done += take;
      }
    } else {
      const scratch = (this.scratch ??= new Float64Array(GATHER));
      const words = new Int32Array(scratch.buffer);
      const bins = (this.bins64 ??= new Float64Array(F64_BINS * F64_SLOTS));
      for (let done = 0; done < n; ) {
        const take = Math.min(n - done, GATHER, F64_FLUSH - this.pending64);
        for (let i = 0, j = offset + done * stride; i < take; i++, j += stride) scratch[i] = Number(values[j]);
        float64Kernel(scratch, words, 0, take, 1, bins, this.sketch, this.stats);
        this.countFloat64(take);
        done += take;
      }
    }
  }

  // The finished column (the profiler can go on taking values afterwards).
  finish(): NumberColumnProfile {
    if (this.bins32) flushF32(this.bins32, this.totals);
    if (this.bins64) flushF64(this.bins64, this.totals);
    this.pending32 = this.pending64 = 0;
    const missing = this.stats[MISSING];
    const infinite = this.stats[INFINITE];
    const finite = this.rows - missing - infinite;
    const [min32, max32] = this.stats32;
    let min = Math.min(this.stats[MIN64], min32 <= max32 ? fromSignMagnitude(min32) : Infinity);
    let max = Math.max(this.stats[MAX64], min32 <= max32 ? fromSignMagnitude(max32) : -Infinity);
    // -0 and 0 compare equal, so which one a loop kept depends on the order: report 0.
    min += 0;
    max += 0;
    return {
      kind: 'number',
      name: this.name,
      count: this.rows,
      missing,
      infinite,
      min: finite > 0 ? min : null,
      max: finite > 0 ? max : null,
      sum: this.totals.sum,
      squares: this.totals.squares,
      sketch: sparseOf(this.sketch, this.sketchFolded),
    };
  }

  // Fold the Uint32 sketch into doubles before n more values could overflow a count.
  private reserveSketch(n: number): void {
    if (this.sketchPending + n < SKETCH_FOLD) {
      this.sketchPending += n;
      return;
    }
    const folded = (this.sketchFolded ??= new Float64Array(SKETCH_KEYS));
    for (let k = 0; k < SKETCH_KEYS; k++) folded[k] += this.sketch[k];
    this.sketch.fill(0);
    this.sketchPending = n;
    if (n >= SKETCH_FOLD) throw new RangeError(`profile of '${this.name}': chunks are limited to ${SKETCH_FOLD} values`);
  }

  // n more values in the float32 bins: flush them once they could not take F32_FLUSH more.
  private countFloat32(n: number): void {
    this.pending32 += n;
    if (this.pending32 >= F32_FLUSH && this.bins32) {
      flushF32(this.bins32, this.totals);
      this.pending32 = 0;
    }
  }

  private countFloat64(n: number): void {
    this.pending64 += n;
    if (this.pending64 >= F64_FLUSH && this.bins64) {
      flushF64(this.bins64, this.totals);
      this.pending64 = 0;
    }
  }
}

// Float32 values bits[offset], bits[offset + stride], ... below `end`, into the bins, sketch and stats.
// Signs are handled without branches (sign mask sm = 0 or -1): a branch on a random sign mispredicts half
// the time and tripled the cost per value (3 → 9 ns on normal data). The loop counts on the array index
// alone: a second counter made it 10-40% slower.
function float32Kernel(bits: Int32Array, offset: number, end: number, stride: number, acc: Float64Array, sketch: Uint32Array, stats: Float64Array, stats32: Int32Array): void {
  let missing = 0;
  let infinite = 0;
  let min = stats32[MIN32];
  let max = stats32[MAX32];
  for (let j = offset; j < end; j += stride) {
    const u = bits[j];
    const mag = u & 0x7fffffff;
    if (mag >= 0x7f800000) {
      if (mag > 0x7f800000) missing++;
      else {
        infinite++;
        sketch[u < 0 ? 0x0080 : 0xff80]++;
      }
      continue;
    }
    const sm = u >> 31;
    const s = (mag ^ sm) - sm;
    if (s < min) min = s;
    if (s > max) max = s;
    sketch[(s ^ -0x80000000) >>> 16]++;
    // x = m·2^(b-149): the mantissa with its implicit bit, in the bin of its exponent.
    const e = mag >>> 23;
    const m = e === 0 ? mag : (mag & 0x7fffff) | 0x800000;
    const k = e === 0 ? 0 : (e - 1) * 3;
    acc[k] += (m ^ sm) - sm;
    const sq = m * m;
    const hi = Math.floor(sq * TWO_M24);
    acc[k + 1] += hi;
    acc[k + 2] += sq - hi * TWO_24;
  }
  stats[MISSING] += missing;
  stats[INFINITE] += infinite;
  stats32[MIN32] = min;
  stats32[MAX32] = max;
}

// Float64 values values[offset], values[offset + stride], ... below `end` (words: the same bytes as int32).
function float64Kernel(values: Float64Array, words: Int32Array, offset: number, end: number, stride: number, acc: Float64Array, sketch: Uint32Array, stats: Float64Array): void {
  let missing = 0;
  let infinite = 0;
  let min = stats[MIN64];
  let max = stats[MAX64];
  for (let j = offset; j < end; j += stride) {
    const lo = words[2 * j];
    const hi = words[2 * j + 1];
    const e = (hi >>> 20) & 0x7ff;
    if (e === 0x7ff) {
      if ((hi & 0xfffff) !== 0 || lo !== 0) missing++;
      else {
        infinite++;
        sketch[hi < 0 ? 0x0080 : 0xff80]++;
      }
      continue;
    }
    const x = values[j];
    if (x < min) min = x;
    if (x > max) max = x;
    const sm = hi >> 31;
    // Bucket of the largest float32 ≤ x, from the bits when |x| is in the float32 normal range: the
    // float32 exponent and top 7 mantissa bits, one bucket further down for a negative x with more bits.
    const e32 = e - 896;
    if (e32 > 0 && e32 < 255) {
      const rest = (hi & 0x1fff) | lo;
      const up = ((rest | (-rest | 0)) >>> 31) & sm;
      const p = ((e32 << 7) | ((hi >>> 13) & 0x7f)) + up;
      sketch[0x8000 + ((p ^ sm) - sm)]++;
    } else sketch[keyOf(x)]++;
    // x = (top·2^32 + low)·2^(b-1074); M² from the 16-bit limbs d0..d3 of M.
    const top = e === 0 ? hi & 0xfffff : (hi & 0xfffff) | 0x100000;
    const k = e === 0 ? 0 : (e - 1) * 9;
    const sign = sm | 1;
    acc[k] += sign * top;
    acc[k + 1] += sign * (lo >>> 0);
    const d0 = lo & 0xffff;
    const d1 = lo >>> 16;
    const d2 = top & 0xffff;
    const d3 = top >>> 16;
    acc[k + 2] += d0 * d0;
    acc[k + 3] += 2 * d0 * d1;
    acc[k + 4] += 2 * d0 * d2 + d1 * d1;
    acc[k + 5] += 2 * (d0 * d3 + d1 * d2);
    acc[k + 6] += 2 * d1 * d3 + d2 * d2;
    acc[k + 7] += 2 * d2 * d3;
    acc[k + 8] += d3 * d3;
  }
  stats[MISSING] += missing;
  stats[INFINITE] += infinite;
  stats[MIN64] = min;
  stats[MAX64] = max;
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

// The float32 whose sign-magnitude integer is s.
function fromSignMagnitude(s: number): number {
  i32[0] = s < 0 ? -s : s;
  return s < 0 ? -f32[0] : f32[0];
}

// Run both kernels on every kind of value before real data: V8 allocates a function's type feedback only
// after its first calls, and a kernel first compiled in the middle of its loop on real data lacked feedback
// for the lines after the loop, left its optimized code there on every call and cost 7.8 instead of 5.8 ns
// per value (measured side by side).
function warmUp(): void {
  const sample = Float64Array.of(1.5, -2.25, 0, -0, 1e-40, -1e-310, 3e38, -1e300, Infinity, -Infinity, NaN, 7);
  const sample32 = Float32Array.from(sample);
  const profiler = new NumberProfiler('warm-up');
  for (let round = 0; round < 32; round++) {
    profiler.add(sample32);
    profiler.add(sample);
  }
}

warmUp();

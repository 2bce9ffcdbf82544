// Exact sums of doubles and of their squares, independent of the order of the additions.
//
// A finite double is x = M·2^E with an integer mantissa M (24 bits for a float32, 53 for a float64) and
// E ≥ -1074. The column loops (numeric.ts) add M, cut into limbs of at most 32 bits, into one Float64 bin
// per exponent; integer additions there are exact while a bin stays below 2^53, so each bin is flushed into
// a BigInt before it could get there. The squares are added the same way: a float32 mantissa squared is an
// exact 48-bit integer, split into 24-bit halves; a float64 mantissa is cut into four 16-bit limbs whose
// seven cross-product sums (each < 2^34) are the limbs of M². The totals are BigInts in fixed units:
// sums in 2^-1074 (the smallest double), sums of squares in 2^-2148.

/** Units of the exact sum: sum = value · 2^SUM_EXP. */
export const SUM_EXP = -1074;
/** Units of the exact sum of squares. */
export const SQUARES_EXP = -2148;

/** Float32 bins: exponents of normal float32s, the subnormals sharing bin 0 (same ulp as the smallest normal binade). */
export const F32_BINS = 254;
/** Slots per float32 bin: signed mantissa sum, then the high and low 24 bits of the squared mantissas. */
export const F32_SLOTS = 3;
/** Float32 values a bin may take before a flush: 2^28 · 2^24 < 2^53. */
export const F32_FLUSH = 2 ** 28;

/** Float64 bins, one per biased exponent 1..2046 (subnormals in bin 0 with exponent 1). */
export const F64_BINS = 2046;
/** Slots per float64 bin: signed sums of the top 21 and low 32 mantissa bits, then the 7 limbs of M². */
export const F64_SLOTS = 9;
/** Float64 values before a flush: the largest square limb sum is < 3·2^32, and 2^19 · 3·2^32 < 2^53. */
export const F64_FLUSH = 2 ** 19;

/** The exact totals of a column's finite values. */
export interface ExactTotals {
  /** Σx in units of 2^SUM_EXP. */
  sum: bigint;
  /** Σx² in units of 2^SQUARES_EXP. */
  squares: bigint;
}

// Fold float32 bins into `t` and zero them. Bin b holds values m·2^(b-149).
export function flushF32(bins: Float64Array, t: ExactTotals): void {
  for (let b = 0; b < F32_BINS; b++) {
    const k = b * F32_SLOTS;
    const s = bins[k];
    const hi = bins[k + 1];
    const lo = bins[k + 2];
    if (s !== 0) t.sum += BigInt(s) << BigInt(b - 149 - SUM_EXP);
    if (hi !== 0) t.squares += BigInt(hi) << BigInt(2 * (b - 149) + 24 - SQUARES_EXP);
    if (lo !== 0) t.squares += BigInt(lo) << BigInt(2 * (b - 149) - SQUARES_EXP);
    bins[k] = bins[k + 1] = bins[k + 2] = 0;
  }
}

// Fold float64 bins into `t` and zero them. Bin b holds values M·2^(b-1074), M = top·2^32 + low.
export function flushF64(bins: Float64Array, t: ExactTotals): void {
  for (let b = 0; b < F64_BINS; b++) {
    const k = b * F64_SLOTS;
    const unit = b - 1074;
    if (bins[k] !== 0) t.sum += BigInt(bins[k]) << BigInt(unit + 32 - SUM_EXP);
    if (bins[k + 1] !== 0) t.sum += BigInt(bins[k + 1]) << BigInt(unit - SUM_EXP);
    for (let limb = 0; limb < 7; limb++) {
      const v = bins[k + 2 + limb];
      if (v !== 0) t.squares += BigInt(v) << BigInt(2 * unit + 16 * limb - SQUARES_EXP);
    }
    bins.fill(0, k, k + F64_SLOTS);
  }
}

// The double nearest to num/den · 2^exp (ties to even, subnormals included): one rounding of an exact ratio.
export function ratioToNumber(num: bigint, den: bigint, exp: number): number {
  if (den <= 0n) throw new RangeError('ratioToNumber: the denominator must be positive');
  if (num === 0n) return 0;
  const negative = num < 0n;
  const a = negative ? -num : num;
  // Exponent of the leading bit of a/den: bitLength(a) - bitLength(den), or one less.
  let lead = bitLength(a) - bitLength(den);
  if (lead >= 0 ? a < den << BigInt(lead) : a << BigInt(-lead) < den) lead--;
  lead += exp;
  if (lead > 1023) return negative ? -Infinity : Infinity;
  // Keep 53 bits (fewer below 2^-1022) plus two guard bits; the remainder becomes a sticky flag.
  const last = Math.max(lead - 52, -1074);
  const shift = exp - last + 2;
  const n = shift >= 0 ? a << BigInt(shift) : a;
  const d = shift >= 0 ? den : den << BigInt(-shift);
  const q = n / d;
  const sticky = n % d !== 0n;
  let r = q >> 2n;
  const guard = Number(q & 3n);
  if (guard > 2 || (guard === 2 && (sticky || (r & 1n) === 1n))) r += 1n;
  const v = Number(r) * 2 ** last;
  return negative ? -v : v;
}

// Number of bits of a positive BigInt.
function bitLength(v: bigint): number {
  return v.toString(2).length;
}

// An exact binary fraction as text: "m*2^e" with m odd, or "0".
export function formatScaled(value: bigint, exp: number): string {
  if (value === 0n) return '0';
  let m = value;
  let e = exp;
  const negative = m < 0n;
  if (negative) m = -m;
  // Strip trailing zero bits in one step: m & -m isolates the lowest set bit.
  const zeros = bitLength(m & -m) - 1;
  m >>= BigInt(zeros);
  e += zeros;
  return `${negative ? '-' : ''}${m}*2^${e}`;
}

const SCALED = /^(-?[1-9]\d*)\*2\^(-?\d+)$/;

// The value of "m*2^e" (or "0") in units of 2^exp; undefined when the text is not of that form or is not a
// whole number of those units.
export function parseScaled(text: string, exp: number): bigint | undefined {
  if (text === '0') return 0n;
  const m = SCALED.exec(text);
  if (!m) return undefined;
  const e = Number(m[2]);
  if (e < exp || e - exp > 1 << 16) return undefined;
  return BigInt(m[1]) << BigInt(e - exp);
}

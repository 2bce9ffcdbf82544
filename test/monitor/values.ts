// Test helpers: exact values of doubles, and value generators that reach the corners of the number line.
import fc from 'fast-check';

// The exact value of a finite double in units of 2^-1074, from its bits.
export function exactOf(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const magnitude = mantissa << BigInt(exponent === 0 ? 0 : exponent - 1);
  return bits >> 63n ? -magnitude : magnitude;
}

const special = fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** -149, -(2 ** -126), 3.4028234663852886e38, 1e300, -1e-300, 1, -1, 0.5);

/** Doubles of every kind: ordinary, subnormal, huge, tiny, ±0, NaN, ±Infinity, and repeats. */
export const anyDouble = fc.oneof(
  { arbitrary: fc.double(), weight: 4 },
  { arbitrary: fc.integer({ min: -5, max: 5 }), weight: 2 },
  { arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }), weight: 2 },
  { arbitrary: special, weight: 2 },
);

/** Float32 values of every kind. */
export const anyFloat = fc.oneof({ arbitrary: fc.float(), weight: 4 }, { arbitrary: anyDouble.map(Math.fround), weight: 2 });

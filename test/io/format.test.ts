// The fast float formatter is the reference formatter, digit for digit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteOut } from '../../src/io/byte-out.js';
import { formatFloat, formatFloatReference } from '../../src/io/format.js';

const nearPowersOfTen = fc.tuple(fc.integer({ min: -25, max: 25 }), fc.integer({ min: -3, max: 3 })).map(([e, ulps]) => {
  let x = 10 ** e;
  const buf = new Float64Array([x]);
  const bits = new BigInt64Array(buf.buffer);
  bits[0] += BigInt(ulps);
  x = buf[0];
  return x;
});
// Short decimals and integers (fewer digits than the precision): exact after scaling.
const short = fc.tuple(fc.integer({ min: -9_999_999, max: 9_999_999 }), fc.integer({ min: 0, max: 8 })).map(([m, k]) => m / 10 ** k);
// Values that are exactly halfway at some precision: d.ddddd5 × 10^e.
const ties = fc.tuple(fc.integer({ min: 1, max: 999_999 }), fc.integer({ min: -12, max: 12 })).map(([m, e]) => Number(`${m}5e${e}`));

describe('formatFloat', () => {
  it('equals String(Number(x.toPrecision(p))) for any double and precision', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true }), fc.float({ noNaN: true }).map(Math.fround), nearPowersOfTen, ties, short), fc.integer({ min: 1, max: 17 }), (x, p) => {
        expect(formatFloat(x, p)).toBe(formatFloatReference(x, p));
      }),
      { numRuns: 200_000 },
    );
  });

  it('writes the same text as bytes (ByteOut) as formatFloat does, and integers as String does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.float().map(Math.fround), nearPowersOfTen, ties, short), fc.integer({ min: 1, max: 17 }), fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt()), (x, p, i) => {
        const out = new ByteOut(1);
        out.float(x, p);
        out.byte(32);
        out.integer(i);
        expect(out.take().toString()).toBe(`${formatFloatReference(x, p)} ${String(i)}`);
      }),
      { numRuns: 100_000 },
    );
  });

  it('writes the shortest form, NaN as an empty cell and infinities as inf', () => {
    expect(formatFloat(0.5, 6)).toBe('0.5');
    expect(formatFloat(Math.fround(0.1), 6)).toBe('0.1');
    expect(formatFloat(1234567, 6)).toBe('1234570');
    expect(formatFloat(1.5e22, 3)).toBe('1.5e+22');
    expect(formatFloat(123456.7, 6)).toBe('123457');
    expect(formatFloat(1e-7, 6)).toBe('1e-7');
    expect(formatFloat(0.00001234567, 6)).toBe('0.0000123457');
    expect(formatFloat(-0, 6)).toBe('0');
    expect(formatFloat(NaN, 6)).toBe('');
    expect(formatFloat(-Infinity, 6)).toBe('-inf');
    expect(formatFloat(-4299.5, 6)).toBe('-4299.5');
    expect(formatFloat(1.7976931348623157e308, 1)).toBe('inf');
  });
});

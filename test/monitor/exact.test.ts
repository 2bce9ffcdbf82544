// Exact sums and their one rounding: ratioToNumber against JavaScript's own correctly rounded division, the
// "m*2^e" text form, and the column sums against a plain BigInt sum of each value's exact binary fraction.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatScaled, parseScaled, ratioToNumber, SQUARES_EXP, SUM_EXP } from '../../src/monitor/exact.js';
import { NumberProfiler } from '../../src/monitor/numeric.js';
import { exactOf } from './values.js';

describe('ratioToNumber', () => {
  it('is the correctly rounded quotient (JavaScript division of integers below 2^53 is the oracle)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -60, max: 60 }), (a, b, e) => {
        expect(ratioToNumber(BigInt(a), BigInt(b), e)).toBe((a / b) * 2 ** e);
      }),
      { numRuns: 2000, seed: 3 },
    );
  });

  it('rounds ties to even, below 2^-1022 too, and overflows to Infinity', () => {
    expect(ratioToNumber(2n ** 53n + 1n, 1n, 0)).toBe(2 ** 53);
    expect(ratioToNumber(2n ** 53n + 3n, 1n, 0)).toBe(2 ** 53 + 4);
    expect(ratioToNumber(1n, 3n, 0)).toBe(1 / 3);
    expect(ratioToNumber(-1n, 3n, 0)).toBe(-1 / 3);
    expect(ratioToNumber(1n, 1n, -1074)).toBe(Number.MIN_VALUE);
    expect(ratioToNumber(1n, 2n, -1074)).toBe(0); // exactly half the smallest subnormal: ties to even (0)
    expect(ratioToNumber(3n, 2n, -1074)).toBe(2 * Number.MIN_VALUE); // 1.5 ulp: to even
    expect(ratioToNumber(5n, 4n, -1074)).toBe(Number.MIN_VALUE);
    expect(ratioToNumber(3n, 1n, -1076)).toBe(Number.MIN_VALUE); // 0.75 ulp
    expect(ratioToNumber(7n, 3n, -1030)).toBe((7 / 3) * 2 ** -1030);
    expect(ratioToNumber(1n, 1n, 1024)).toBe(Infinity);
    expect(ratioToNumber(2n ** 53n - 1n, 1n, 971)).toBe(Number.MAX_VALUE);
    expect(ratioToNumber(2n ** 55n - 1n, 4n, 971)).toBe(Infinity); // rounds up past the largest double
    expect(ratioToNumber(0n, 5n, 7)).toBe(0);
  });
});

describe('exact binary text', () => {
  it('round-trips any BigInt in its units, in lowest terms', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }), (v) => {
        const text = formatScaled(v, SUM_EXP);
        expect(parseScaled(text, SUM_EXP)).toBe(v);
        expect(text === '0' || /^-?\d*[13579]\*2\^-?\d+$/.test(text)).toBe(true);
      }),
      { numRuns: 500, seed: 4 },
    );
    expect(formatScaled(3n << 1073n, SUM_EXP)).toBe('3*2^-1');
  });

  it('refuses text that is not a whole number of the units', () => {
    for (const bad of ['', '1.5', '3*2^-1075', '1e3', '0x10*2^0', '3*2^', '-0', '03*2^1']) expect(parseScaled(bad, SUM_EXP)).toBeUndefined();
  });
});

describe('exact column sums', () => {
  const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

  it('Σx and Σx² of float64 values equal a BigInt sum of their exact values', () => {
    fc.assert(
      fc.property(fc.array(finiteDouble, { maxLength: 60 }), (xs) => {
        const p = new NumberProfiler('x');
        p.add(Float64Array.from(xs));
        const col = p.finish();
        let sum = 0n;
        let squares = 0n;
        for (const x of xs) {
          const v = exactOf(x);
          sum += v;
          squares += v * v;
        }
        expect(col.sum).toBe(sum);
        // Units of 2^-1074 squared are the squares' units, 2^-2148.
        expect(SQUARES_EXP).toBe(2 * SUM_EXP);
        expect(col.squares).toBe(squares);
      }),
      { numRuns: 400, seed: 5 },
    );
  });

  it('Σx and Σx² of float32 values too, and the same as when they come as float64', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 60 }), (xs) => {
        const a = new NumberProfiler('x');
        a.add(Float32Array.from(xs));
        const b = new NumberProfiler('x');
        b.add(Float64Array.from(Float32Array.from(xs)));
        const sum = Float32Array.from(xs).reduce((s, x) => s + exactOf(x), 0n);
        expect(a.finish()).toEqual(b.finish());
        expect(a.finish().sum).toBe(sum);
      }),
      { numRuns: 400, seed: 6 },
    );
  });

  it('stays exact past the bins\' flush points (2^19 float64 values of the largest mantissas in one bin)', () => {
    const n = 2 ** 19 + 3;
    const x = 2 - 2 ** -52; // every mantissa bit set: the largest limbs
    const p = new NumberProfiler('x');
    p.add(new Float64Array(n).fill(x));
    p.add(new Float64Array(5).fill(-x));
    const col = p.finish();
    expect(col.sum).toBe(BigInt(n - 5) * exactOf(x));
    expect(col.squares).toBe(BigInt(n + 5) * exactOf(x) ** 2n);
  });
});

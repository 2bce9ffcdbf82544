// Cell text for result values.
//
// The meaning is fixed by the reference `String(Number(x.toPrecision(p)))`: `p` significant digits in the
// shortest form (`0.5`, `1e-7`, `12345.7`). That takes ~600 ns a value; floatDigits gets the same digits
// with one scaled multiplication and reports a fallback to the reference whenever rounding could differ (a
// value within a few ulps of a rounding tie, a scale beyond the exact powers of ten, or p > 15). Proven equal
// by test/io/format.test.ts (property test over doubles and float32 values).

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact as doubles up to 1e22

// The reference formatter (also the fallback). NaN is an empty cell, infinities are `inf`/`-inf`.
export function formatFloatReference(x: number, precision: number): string {
  if (Number.isNaN(x)) return '';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const rounded = Number(x.toPrecision(precision));
  // Rounding up next to the largest double can leave the double range: that is an infinity too.
  return Number.isFinite(rounded) ? String(rounded) : rounded > 0 ? 'inf' : '-inf';
}

/** Output of floatDigits: |x| rounded is `digits` × 10^(point − count), `digits` without trailing zeros. */
export const fd = { digits: 0, count: 0, point: 0, negative: false };

// The rounded significant digits of a finite non-zero x, or false when only the reference can be trusted.
export function floatDigits(x: number, precision: number): boolean {
  if (precision > 15) return false;
  const ax = x < 0 ? -x : x;
  // e = the decimal exponent of ax, by comparison with exact powers of ten (cheaper than log10, which can
  // also be off by one next to a power of ten); outside 10^±21 only the reference is used.
  let e: number;
  if (ax >= 1) {
    if (ax >= 1e22) return false;
    e = 0;
    while (e < 21 && ax >= POW10[e + 1]) e++;
  } else {
    e = -1;
    while (ax * POW10[-e] < 1) if (--e < -21) return false;
  }
  const k = precision - 1 - e; // scale ax by 10^k to get `precision` digits before the point
  if (k > 22 || k < -22) return false;
  const scaled = k >= 0 ? ax * POW10[k] : ax / POW10[-k];
  const floor = Math.floor(scaled);
  const frac = scaled - floor;
  // Too close to a tie to trust one rounding step (next to an integer the nearest one is unambiguous).
  const slack = scaled * 4.5e-16 + 1e-300;
  if (Math.abs(frac - 0.5) <= slack) return false;
  let n = frac > 0.5 ? floor + 1 : floor;
  let exp = e;
  if (n >= POW10[precision]) {
    n /= 10;
    exp++;
  } else if (n < POW10[precision - 1]) return false;
  let count = precision;
  if (precision <= 9) {
    // Fits in 32 bits: integer division instead of floating-point remainders.
    let m = n | 0;
    let q = (m / 10) | 0;
    while (count > 1 && m === q * 10) {
      m = q;
      q = (m / 10) | 0;
      count--;
    }
    n = m;
  } else {
    while (count > 1 && n % 10 === 0) {
      n /= 10;
      count--;
    }
  }
  fd.digits = n;
  fd.count = count;
  fd.point = exp + 1;
  fd.negative = x < 0;
  return true;
}

// A float with `precision` significant digits in its shortest form.
export function formatFloat(x: number, precision: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x) || !floatDigits(x, precision)) return formatFloatReference(x, precision);
  return (fd.negative ? '-' : '') + place(String(fd.digits), fd.point);
}

// ECMAScript Number::toString layout for digits `s` (no trailing zeros) times 10^(n - s.length).
function place(s: string, n: number): string {
  const k = s.length;
  if (k <= n && n <= 21) return s + '0'.repeat(n - k);
  if (0 < n && n <= 21) return `${s.slice(0, n)}.${s.slice(n)}`;
  if (-6 < n && n <= 0) return `0.${'0'.repeat(-n)}${s}`;
  const exp = n - 1;
  const sign = exp < 0 ? '-' : '+';
  const mant = k === 1 ? s : `${s[0]}.${s.slice(1)}`;
  return `${mant}e${sign}${Math.abs(exp)}`;
}

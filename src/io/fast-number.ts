// Decimal text → double straight from bytes, for the quote-free CSV fast path. Handles what real files hold
// (`-0.397652`, `1.23457e-05`, `42`) exactly: with at most 15 significant digits and a power of ten up to
// 10^22 both factors are exact doubles, so one multiplication or division rounds correctly (Clinger's fast
// path) and the result is the double Number() returns. Anything else — more digits, NA strings, `inf`, stray
// characters — reports FALLBACK and the caller uses the reference parseNumberCell on the text, so both paths
// always agree.
import { MISSING, OK } from '../table/numbers.js';

export const FALLBACK = 3;

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const SPACE = 32;
const TAB = 9;

/** Result of scanDecimalField (module-level to avoid an allocation per cell). */
export const scanned = { value: 0, status: 0, end: 0 };

// Scan one field from `start` up to the delimiter, CR, LF or `len`, parsing it as a decimal on the way (one
// pass over the bytes). Sets scanned.end to the offset of the byte that ended the field, scanned.status to
// OK, MISSING (empty after trimming spaces and tabs) or FALLBACK and scanned.value.
export function scanDecimalField(buf: Uint8Array, start: number, len: number, delim: number): void {
  if (scanPlain(buf, start, len, delim)) return;
  scanGeneral(buf, start, len, delim);
}

// The shape nearly every cell has — `-?digits[.digits]` with at most 15 digits, right up to the field's
// end — in two tight loops; false for anything else.
function scanPlain(buf: Uint8Array, start: number, len: number, delim: number): boolean {
  let i = start;
  let c = i < len ? buf[i] : 10;
  const negative = c === 45;
  if (negative) c = ++i < len ? buf[i] : 10;
  let mantissa = 0;
  const intStart = i;
  while (c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    c = ++i < len ? buf[i] : 10;
  }
  let digits = i - intStart;
  let scale = 0;
  if (c === 46) {
    c = ++i < len ? buf[i] : 10;
    const fracStart = i;
    while (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      c = ++i < len ? buf[i] : 10;
    }
    scale = fracStart - i;
    digits += i - fracStart;
  }
  if (digits === 0 || digits > 15 || (c !== delim && c !== 10 && c !== 13)) return false;
  const value = scale === 0 ? mantissa : mantissa / POW10[-scale];
  scanned.end = i;
  scanned.status = OK;
  scanned.value = negative ? -value : value;
  return true;
}

// Everything else: spaces, `+`, exponents, long mantissas, empty and odd cells.
function scanGeneral(buf: Uint8Array, start: number, len: number, delim: number): void {
  let i = start;
  let c = i < len ? buf[i] : 10;
  while ((c === SPACE || c === TAB) && c !== delim) c = ++i < len ? buf[i] : 10;
  let negative = false;
  if (c === 45 || c === 43) {
    negative = c === 45;
    c = ++i < len ? buf[i] : 10;
  }
  let mantissa = 0;
  let digits = 0;
  let seen = 0;
  let scale = 0;
  let dot = false;
  let ok = true;
  for (;;) {
    if (c >= 48 && c <= 57) {
      seen++;
      if (mantissa !== 0 || c !== 48) {
        if (digits === 15) ok = false;
        mantissa = mantissa * 10 + (c - 48);
        digits++;
        if (dot) scale--;
      } else if (dot) scale--;
    } else if (c === 46 && !dot) dot = true;
    else break;
    c = ++i < len ? buf[i] : 10;
  }
  if ((c === 101 || c === 69) && seen > 0) {
    c = ++i < len ? buf[i] : 10;
    let expNegative = false;
    if (c === 45 || c === 43) {
      expNegative = c === 45;
      c = ++i < len ? buf[i] : 10;
    }
    let exp = 0;
    let expDigits = 0;
    while (c >= 48 && c <= 57) {
      exp = exp * 10 + (c - 48);
      expDigits++;
      c = ++i < len ? buf[i] : 10;
    }
    if (expDigits === 0 || expDigits > 4) ok = false;
    scale += expNegative ? -exp : exp;
  }
  while ((c === SPACE || c === TAB) && c !== delim) c = ++i < len ? buf[i] : 10;
  if (c !== delim && c !== 10 && c !== 13) {
    ok = false;
    while (c !== delim && c !== 10 && c !== 13) c = ++i < len ? buf[i] : 10;
  }
  scanned.end = i;
  if (!ok || seen === 0) {
    // Empty after trimming is missing; anything else unusual goes to the reference parser.
    scanned.status = ok && !negative && i === start + countBlank(buf, start, i) ? MISSING : FALLBACK;
    scanned.value = NaN;
    return;
  }
  let value: number;
  if (mantissa === 0) value = 0;
  else if (scale >= 0 && scale <= 22) value = mantissa * POW10[scale];
  else if (scale < 0 && scale >= -22) value = mantissa / POW10[-scale];
  else {
    scanned.status = FALLBACK;
    scanned.value = NaN;
    return;
  }
  scanned.status = OK;
  scanned.value = negative ? -value : value;
}

function countBlank(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (buf[i] === SPACE || buf[i] === TAB) n++;
  return n;
}

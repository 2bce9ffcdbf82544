// A growable byte buffer for writing result text without building strings: numbers are written digit by
// digit (same text as format.ts), other text is encoded in place.
import { fd, floatDigits, formatFloatReference } from './format.js';

const scratch = new Uint8Array(24);

export class ByteOut {
  buf: Buffer;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  // Room for n more bytes.
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  // Any text, UTF-8 encoded.
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  // Bytes [a, b) of `src`, as they are (short runs byte by byte: a subarray per cell costs more).
  bytes(src: Uint8Array, a: number, b: number): void {
    this.ensure(b - a);
    if (b - a <= 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = a; i < b; i++) buf[p++] = src[i];
      this.pos = p;
      return;
    }
    this.buf.set(src.subarray(a, b), this.pos);
    this.pos += b - a;
  }

  // A non-negative integer below 2^53, `count` digits, into scratch (in 32-bit steps while it fits).
  private digits(n: number, count: number): void {
    let i = count - 1;
    for (; n > 2147483647; i--) {
      const q = Math.floor(n / 10);
      scratch[i] = 48 + (n - q * 10);
      n = q;
    }
    let m = n | 0;
    for (; i >= 0; i--) {
      const q = (m / 10) | 0;
      scratch[i] = 48 + (m - q * 10);
      m = q;
    }
  }

  // An integer (number or bigint) in decimal.
  integer(v: number | bigint): void {
    // int64 outputs arrive as bigint: the usual small ones take the number path.
    if (typeof v === 'bigint') {
      if (v > 9007199254740991n || v < -9007199254740991n) {
        this.text(String(v));
        return;
      }
      v = Number(v);
    }
    if (v < 0 && v >= -9007199254740991 && Number.isInteger(v)) {
      this.byte(45);
      v = -v;
    }
    if (v < 0 || v > 9007199254740991 || !Number.isInteger(v)) {
      this.text(String(v));
      return;
    }
    if (v <= 2147483647) {
      this.smallInteger(v);
      return;
    }
    let count = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) count++;
    this.ensure(count);
    this.digits(v, count);
    this.buf.set(scratch.subarray(0, count), this.pos);
    this.pos += count;
  }

  // 0 ≤ v < 2^31, written in place (the labels of most classifiers).
  private smallInteger(v: number): void {
    let m = v | 0;
    let count = 1;
    for (let t = m; t >= 10; t = (t / 10) | 0) count++;
    this.ensure(count);
    const b = this.buf;
    let p = this.pos + count;
    this.pos = p;
    do {
      const q = (m / 10) | 0;
      b[--p] = 48 + (m - q * 10);
      m = q;
    } while (m > 0);
  }

  // A float with `precision` significant digits: the text formatFloat gives.
  float(x: number, precision: number): void {
    if (x === 0) {
      this.byte(48);
      return;
    }
    if (!Number.isFinite(x) || !floatDigits(x, precision)) {
      this.text(formatFloatReference(x, precision));
      return;
    }
    const { count, point } = fd;
    this.digits(fd.digits, count);
    this.ensure(count + 30);
    const b = this.buf;
    let p = this.pos;
    if (fd.negative) b[p++] = 45;
    if (count <= point && point <= 21) {
      for (let i = 0; i < count; i++) b[p++] = scratch[i];
      for (let i = count; i < point; i++) b[p++] = 48;
    } else if (0 < point && point <= 21) {
      for (let i = 0; i < point; i++) b[p++] = scratch[i];
      b[p++] = 46;
      for (let i = point; i < count; i++) b[p++] = scratch[i];
    } else if (-6 < point && point <= 0) {
      b[p++] = 48;
      b[p++] = 46;
      for (let i = 0; i < -point; i++) b[p++] = 48;
      for (let i = 0; i < count; i++) b[p++] = scratch[i];
    } else {
      b[p++] = scratch[0];
      if (count > 1) {
        b[p++] = 46;
        for (let i = 1; i < count; i++) b[p++] = scratch[i];
      }
      b[p++] = 101;
      const exp = point - 1;
      b[p++] = exp < 0 ? 45 : 43;
      this.pos = p;
      this.integer(Math.abs(exp));
      return;
    }
    this.pos = p;
  }

  // The bytes written (a view; the buffer is not reused).
  take(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

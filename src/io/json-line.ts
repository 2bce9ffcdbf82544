// One JSON text → a value, as JSON.parse gives it, except that a number whose text String() would not give
// back (`1.50`, `1e3`, a 20-digit id) comes as a JsonNumber holding both, so ids keep every digit and a string
// input fed from `1.50` sees `1.50`, as it would in a CSV file. JSON.parse cannot say what a number's text
// was (Node 20 has no source access in revivers), hence this parser. Objects have no prototype, so a key
// named `__proto__` is an ordinary key. Proven equal to JSON.parse by test/io/json-line.test.ts.
// Hand-written because no library keeps those texts fast enough (`npm run bench:libraries -- --jsonl`: the
// bench's 1M rows as 459 MB of JSON Lines read to float32 tensors by jsonl-reader.ts with each parser, one
// thread, one run, a quiet 2-core machine): this parser 11.1 s of CPU (43 MB/s); lossless-json with the same
// meaning (its parseNumber giving a number or a JsonNumber) 31.0 s, and 16.9 s (+52%) even with its numbers as
// plain Number, a floor no number parser hung on it can beat. JSON.parse takes 5.7 s but loses the texts.
import { quoteCell } from '../util/quote.js';

/** A JSON number whose text is not what String(value) gives (`1.50`, `1e2`, 20-digit ids): both kept. In
 *  JSON text (an object or array cell, table/builder.ts otherText) it is its value again. */
export class JsonNumber {
  constructor(
    readonly value: number,
    readonly source: string,
  ) {}

  toJSON(): number {
    return this.value;
  }
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based character position in the text. */
    readonly column: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 512;

// Parse a whole JSON text; throws JsonSyntaxError.
export function parseJson(text: string): unknown {
  const p = new Parser(text);
  p.space();
  const v = p.value(0);
  p.space();
  if (p.pos < text.length) p.fail(`unexpected ${p.describe()} after the JSON value`);
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  space(): void {
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = s.charCodeAt(++this.pos);
  }

  fail(message: string): never {
    throw new JsonSyntaxError(`${message} at character ${this.pos + 1}`, this.pos + 1);
  }

  // What is at the current position, for messages.
  describe(): string {
    if (this.pos >= this.s.length) return 'end of line';
    const cp = this.s.codePointAt(this.pos) as number;
    return cp < 0x20 ? `control character U+${cp.toString(16).padStart(4, '0').toUpperCase()}` : quoteCell(String.fromCodePoint(cp));
  }

  value(depth: number): unknown {
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 123: // {
        return this.object(depth + 1);
      case 91: // [
        return this.array(depth + 1);
      case 34: // "
        return this.string();
      case 116: // t
        return this.word('true', true);
      case 102: // f
        return this.word('false', false);
      case 110: // n
        return this.word('null', null);
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.number();
        return this.fail(`expected a value, got ${this.describe()}`);
    }
  }

  private word<T>(w: string, v: T): T {
    if (!this.s.startsWith(w, this.pos)) this.fail(`expected a value, got ${this.describe()}`);
    this.pos += w.length;
    return v;
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const out = Object.create(null) as Record<string, unknown>;
    this.pos++;
    this.space();
    if (this.s.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.s.charCodeAt(this.pos) !== 34) this.fail(`expected a property name in double quotes, got ${this.describe()}`);
      const key = this.string();
      this.space();
      if (this.s.charCodeAt(this.pos) !== 58) this.fail(`expected ':' after a property name, got ${this.describe()}`);
      this.pos++;
      this.space();
      out[key] = this.value(depth);
      if (this.closed(125, 'a property value')) return out;
    }
  }

  private array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const out: unknown[] = [];
    this.pos++;
    this.space();
    if (this.s.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      if (this.closed(93, 'an array element')) return out;
    }
  }

  // After a member of an object or array: true at its closing bracket `close` (taken), false after a comma.
  private closed(close: number, after: string): boolean {
    this.space();
    const c = this.s.charCodeAt(this.pos);
    if (c === 44) {
      this.pos++;
      this.space();
      return false;
    }
    if (c === close) {
      this.pos++;
      return true;
    }
    return this.fail(`expected ',' or '${String.fromCharCode(close)}' after ${after}, got ${this.describe()}`);
  }

  private string(): string {
    const s = this.s;
    const start = ++this.pos;
    // Plain run up to the closing quote (the common case: no escapes).
    for (let i = start; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        this.pos = i + 1;
        return s.slice(start, i);
      }
      if (c === 92 || c < 0x20) {
        this.pos = i;
        return this.escaped(s.slice(start, i));
      }
    }
    this.pos = s.length;
    return this.fail('a string is never closed');
  }

  private escaped(head: string): string {
    const s = this.s;
    let out = head;
    let run = this.pos;
    for (;;) {
      if (this.pos >= s.length) return this.fail('a string is never closed');
      const c = s.charCodeAt(this.pos);
      if (c === 34) {
        out += s.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail(`${this.describe()} inside a string (write it as an escape such as \\n)`);
      if (c !== 92) {
        this.pos++;
        continue;
      }
      out += s.slice(run, this.pos);
      const e = s.charCodeAt(this.pos + 1);
      this.pos += 2;
      switch (e) {
        case 34:
          out += '"';
          break;
        case 92:
          out += '\\';
          break;
        case 47:
          out += '/';
          break;
        case 98:
          out += '\b';
          break;
        case 102:
          out += '\f';
          break;
        case 110:
          out += '\n';
          break;
        case 114:
          out += '\r';
          break;
        case 116:
          out += '\t';
          break;
        case 117: {
          const hex = s.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos -= 2;
            this.fail('bad \\u escape (four hex digits expected)');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.pos -= 2;
          this.fail('bad escape in a string');
      }
      run = this.pos;
    }
  }

  private number(): number | JsonNumber {
    const s = this.s;
    const start = this.pos;
    let i = start;
    if (s.charCodeAt(i) === 45) i++;
    const intStart = i;
    let c = s.charCodeAt(i);
    if (c === 48) {
      i++;
    } else if (c >= 49 && c <= 57) {
      while ((c = s.charCodeAt(++i)) >= 48 && c <= 57);
    } else {
      this.pos = i;
      return this.fail(`expected a digit, got ${this.describe()}`);
    }
    let digits = i - intStart;
    let plain = true; // String(value) certainly gives the text back (see below)
    if (s.charCodeAt(i) === 46) {
      const fracStart = ++i;
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
      if (i === fracStart) {
        this.pos = i;
        return this.fail(`expected a digit after '.', got ${this.describe()}`);
      }
      digits += i - fracStart;
      // A trailing zero (`1.50`) or a tiny value (`0.0000001` → `1e-7`) prints differently.
      if (s.charCodeAt(i - 1) === 48 || (s.charCodeAt(intStart) === 48 && s.startsWith('000000', fracStart))) plain = false;
    }
    c = s.charCodeAt(i);
    if (c === 101 || c === 69) {
      plain = false;
      c = s.charCodeAt(++i);
      if (c === 43 || c === 45) i++;
      const expStart = i;
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
      if (i === expStart) {
        this.pos = i;
        return this.fail(`expected a digit in the exponent, got ${this.describe()}`);
      }
    }
    this.pos = i;
    const text = s.slice(start, i);
    const value = Number(text);
    // Up to 15 significant digits, no exponent, no trailing fraction zero, not -0: the shortest round trip
    // is the text itself. Anything else is compared.
    if (plain && digits <= 15 && text !== '-0') return value;
    return String(value) === text ? value : new JsonNumber(value, text);
  }
}

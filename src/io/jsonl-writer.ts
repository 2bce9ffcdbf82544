// Result chunks → JSON Lines: one object per row, keys in result column order. Floats are JSON numbers with
// float_precision significant digits (the same digits as CSV); NaN and ±Infinity, which JSON cannot hold,
// are null. Integers are JSON numbers with every digit (int64 included: a reader that parses numbers as
// doubles loses digits beyond 2^53, as it would for any JSON). Booleans are true/false; labels and
// passthrough cells are strings (a passthrough id keeps its digits, whatever its type in the input).
import type { ResultChunk } from '../table/result.js';
import type { TableWriter } from '../table/writer.js';
import type { ByteSink } from '../storage/sink.js';
import { ByteOut } from './byte-out.js';
import { formatFloat } from './format.js';
import { unpackText } from '../table/packed.js';

export interface JsonlWriteOptions {
  floatPrecision: number;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

export function jsonlWriter(sink: ByteSink, o: JsonlWriteOptions): TableWriter {
  let rows = 0;
  return {
    async write(chunk) {
      if (chunk.rows === 0) return;
      await sink.write(jsonRows(chunk, o.floatPrecision));
      rows += chunk.rows;
    },
    get rows() {
      return rows;
    },
    streamed: sink.streamed,
    async mark() {
      return { bytes: await sink.mark(), rows, headerDone: true };
    },
    async rollback(m) {
      if (!(await sink.rollback(m.bytes))) return false;
      rows = m.rows;
      return true;
    },
    commit: () => sink.commit(),
    abort: () => sink.abort(),
  };
}

// The rows of a chunk as JSON Lines bytes.
export function jsonRows(chunk: ResultChunk, precision: number): Buffer {
  const cols = chunk.columns;
  const keys = cols.map((c, k) => Buffer.from(`${k === 0 ? '{' : ','}${JSON.stringify(c.name)}:`));
  const out = new ByteOut(chunk.rows * cols.length * 16);
  for (let r = 0; r < chunk.rows; r++) {
    for (let k = 0; k < cols.length; k++) {
      out.bytes(keys[k], 0, keys[k].length);
      const c = cols[k];
      switch (c.kind) {
        case 'float': {
          const x = c.values[r * c.stride + c.offset];
          if (!Number.isFinite(x)) out.text('null');
          else if (x > -1e308 && x < 1e308) out.float(x, precision);
          else out.text(hugeFloat(x, precision));
          break;
        }
        case 'text':
          jsonString(out, c.values[r]);
          break;
        case 'packed': {
          const { bytes, offsets } = c.values;
          const a = offsets[r];
          const b = offsets[r + 1];
          if (plainBytes(bytes, a, b)) {
            out.byte(34);
            out.bytes(bytes, a, b);
            out.byte(34);
          } else out.text(JSON.stringify(unpackText(c.values, r)));
          break;
        }
        case 'bool':
          out.text(c.values[r * c.stride + c.offset] ? 'true' : 'false');
          break;
        default:
          out.integer((c.values as ArrayLike<number | bigint>)[r * c.stride + c.offset]);
      }
    }
    if (cols.length === 0) out.byte(123);
    out.byte(125);
    out.byte(10);
  }
  return out.take();
}

// Near the largest double, rounding to few digits can overflow (1.75e308 → 2e308 = Infinity), which JSON
// cannot hold: such a value is written in full instead.
function hugeFloat(x: number, precision: number): string {
  const t = formatFloat(x, precision);
  return Number.isFinite(Number(t)) ? t : String(x);
}

function jsonString(out: ByteOut, s: string): void {
  if (NEEDS_ESCAPE.test(s)) {
    out.text(JSON.stringify(s));
    return;
  }
  out.byte(34);
  out.text(s);
  out.byte(34);
}

// Whether UTF-8 bytes [a, b) can go between quotes as they are (no quote, backslash or control byte).
function plainBytes(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = bytes[i];
    if (c === 34 || c === 92 || c < 0x20) return false;
  }
  return true;
}

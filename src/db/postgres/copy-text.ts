// Result chunks → rows of COPY's text format: one line per row, tab between columns, `\N` for NULL, and
// backslash, tab, line feed and carriage return escaped inside values. Text rather than binary format: the
// server converts each value to its column's type, so a result fits an existing table whose columns are
// typed differently (numeric for a float, varchar for a label) without serve-batch knowing every type's
// binary layout. Every row starts with its number in the result (staging order, and what a rollback keeps).
//   float    shortest text that reads back the same double (a float32 output's exact value; -0 keeps its
//            sign); NaN → NULL, ±Infinity → Infinity / -Infinity
//   int      every digit (int64 and uint64 too)
//   bool     t / f
//   text     the string; an empty one is NULL in a column whose type is not a string type (a typed
//            passthrough column: '' is no bigint), '' otherwise
import { SbError } from '../../errors.js';
import type { ResultChunk, ResultColumn } from '../../table/result.js';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;

// The COPY text of a chunk's rows, numbered from `first`. `emptyIsNull[k]`: column k's type cannot hold ''.
export function copyText(chunk: ResultChunk, first: number, emptyIsNull: readonly boolean[]): Buffer {
  const lines = new Array<string>(chunk.rows);
  const cols = chunk.columns;
  const cells = new Array<string>(cols.length + 1);
  for (let r = 0; r < chunk.rows; r++) {
    cells[0] = String(first + r);
    for (let k = 0; k < cols.length; k++) cells[k + 1] = cell(cols[k], r, emptyIsNull[k], first + r);
    lines[r] = cells.join('\t');
  }
  return Buffer.from(chunk.rows === 0 ? '' : `${lines.join('\n')}\n`, 'utf8');
}

// Cell r of a column as COPY text.
function cell(c: ResultColumn, r: number, emptyIsNull: boolean, row: number): string {
  switch (c.kind) {
    case 'float': {
      const x = c.values[r * c.stride + c.offset];
      if (Number.isNaN(x)) return '\\N';
      if (x === Infinity) return 'Infinity';
      if (x === -Infinity) return '-Infinity';
      return x === 0 && 1 / x < 0 ? '-0' : String(x);
    }
    case 'int':
      return String((c.values as ArrayLike<number | bigint>)[r * c.stride + c.offset]);
    case 'bool':
      return c.values[r * c.stride + c.offset] ? 't' : 'f';
    case 'text':
      return textCell(c.values[r] ?? '', emptyIsNull, c.name, row);
    case 'packed': {
      const { bytes, offsets } = c.values;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return textCell(buf.toString('utf8', offsets[r], offsets[r + 1]), emptyIsNull, c.name, row);
    }
  }
}

function textCell(s: string, emptyIsNull: boolean, column: string, row: number): string {
  if (s === '') return emptyIsNull ? '\\N' : '';
  // PostgreSQL text cannot hold NUL: say which cell, instead of the server's "invalid byte sequence".
  if (s.includes('\0')) throw new SbError('WRITE_FAILED', `result row ${row}, column '${column}': the text holds a NUL character, which a PostgreSQL text value cannot store`);
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPED, (ch) => ESCAPES[ch]) : s;
}

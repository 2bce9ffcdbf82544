// Cutting a file for a shard plan: where cuts go (line starts, row groups, or nowhere), and the property that
// matters — reading the pieces one after the other gives exactly the rows, lines and rejects of reading the
// whole file (CSV with LF, CRLF and lone CR, blank lines, a byte-order mark, header true/false/list; JSON
// Lines; Parquet row groups).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import type { CsvOptions, TextFormat } from '../../src/job/config.js';
import { cutsIn, firstRecord, scanLines } from '../../src/io/split.js';
import { openTableReader, type PieceSpec } from '../../src/io/table-reader.js';
import type { CutPoint } from '../../src/io/split.js';
import type { ColumnNeed } from '../../src/table/chunk.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir();
let n = 0;
const put = (content: string | Buffer, ext = 'csv') => {
  const f = path.join(dir, `f${n++}.${ext}`);
  writeFileSync(f, content);
  return f;
};

const CSV: CsvOptions & { delimiter: string } = { delimiter: ',', quote: '"', header: true, encoding: 'utf8', relaxQuotes: false };
const NEEDS: ColumnNeed[] = [
  { name: 'a', number: true, text: true },
  { name: 'b', number: false, text: true },
];

type Row = [number, ...string[]];

// Every row and reject of a file (or of a piece of it), with lines.
async function readRows(file: string, format: TextFormat, csv: CsvOptions & { delimiter: string }, piece?: PieceSpec, needs = NEEDS): Promise<{ rows: Row[]; rejects: { line: number; error: string }[] }> {
  const reader = openTableReader({ file, display: 'in', format, csv, needs, batchSize: 7, piece });
  const rows: Row[] = [];
  const rejects: { line: number; error: string }[] = [];
  for await (const c of reader.chunks) {
    for (let i = 0; i < c.rows; i++) rows.push([c.lines[i], ...c.record(i)]);
    for (const r of c.rejects) rejects.push({ line: r.line, error: r.error });
  }
  rejects.sort((x, y) => x.line - y.line);
  return { rows, rejects };
}

// The pieces between cuts, as a reader reads them.
function piecesOf(cuts: CutPoint[], bytes: number, header?: string[], headerLine = true): PieceSpec[] {
  const points = [{ offset: 0 } as CutPoint, ...cuts.filter((c) => c.offset > 0 && c.offset < bytes), { offset: bytes } as CutPoint];
  const out: PieceSpec[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    if (points[i].offset === points[i + 1].offset) continue;
    const s = points[i];
    const e = points[i + 1];
    out.push({ start: s.offset, end: e.offset, line: s.line, header: s.offset > 0 || !headerLine ? header : undefined, fromGroup: s.group, toGroup: e.group });
  }
  return out;
}

async function piecewise(file: string, bytes: number, format: TextFormat, csv: CsvOptions & { delimiter: string }, wanted: number[], needs = NEEDS) {
  const found = await cutsIn(file, bytes, format, csv, wanted, 1);
  const pieces = piecesOf(found.cuts, bytes, found.header, csv.header === true);
  const rows: Row[] = [];
  const rejects: { line: number; error: string }[] = [];
  for (const p of pieces) {
    const r = await readRows(file, format, csv, p, needs);
    rows.push(...r.rows);
    rejects.push(...r.rejects);
  }
  return { found, pieces, rows, rejects };
}

const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
const cell = fc.oneof(fc.constantFrom('', '1', '-2.5', 'x', 'NA', '1e3', ' 7 '), fc.stringMatching(/^[a-z0-9 .]{0,6}$/));
const csvLine = fc.oneof({ weight: 8, arbitrary: fc.tuple(cell, cell).map(([a, b]) => `${a},${b}`) }, { weight: 1, arbitrary: fc.constantFrom('', '1', '1,2,3') });

describe('cutting text files at line starts: the pieces read as the whole file', () => {
  it('CSV without quotes: LF, CRLF, lone CR, blank lines, BOM, header true / false / a list', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(csvLine, lineEnd), { minLength: 0, maxLength: 40 }),
        fc.boolean(),
        fc.constantFrom<CsvOptions['header']>(true, false, ['a', 'b']),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        async (lines, bom, header, at, lastBreak) => {
          const head = header === true ? `a,b${lines.length > 0 ? lines[0][1] : '\n'}` : '';
          let text = head + lines.map(([l, e]) => l + e).join('');
          if (!lastBreak) text = text.replace(/(\r\n|\r|\n)$/, '');
          const buf = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text)]);
          const file = put(buf);
          const csv = { ...CSV, header };
          const needs = header === false ? [{ name: '1', number: true, text: true }, { name: '2', number: false, text: true }] : NEEDS;
          const whole = await readRows(file, 'csv', csv, undefined, needs).catch((e: Error) => ({ error: e.message }));
          const wanted = [...new Set(at.map((x) => Math.max(1, Math.floor(x * buf.length))))].sort((x, y) => x - y).filter((o) => o < buf.length);
          if ('error' in whole || wanted.length === 0) return;
          const split = await piecewise(file, buf.length, 'csv', csv, wanted, needs);
          expect({ rows: split.rows, rejects: split.rejects }).toEqual(whole);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('JSON Lines: LF and CRLF, blank lines, bad lines', async () => {
    const jsonLine = fc.oneof(
      { weight: 6, arbitrary: fc.record({ a: fc.oneof(fc.integer(), fc.constant(null), fc.string()), b: fc.string() }).map((o) => JSON.stringify(o)) },
      { weight: 1, arbitrary: fc.constantFrom('', '{', '[1]', '   ') },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(jsonLine, fc.constantFrom('\n', '\r\n')), { maxLength: 40 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }), async (lines, at) => {
        const buf = Buffer.from(lines.map(([l, e]) => l + e).join(''));
        if (buf.length < 2) return;
        const file = put(buf, 'jsonl');
        const whole = await readRows(file, 'jsonl', CSV).catch((e: Error) => ({ error: e.message }));
        if ('error' in whole) return;
        const wanted = [...new Set(at.map((x) => Math.max(1, Math.floor(x * buf.length))))].sort((x, y) => x - y).filter((o) => o < buf.length);
        const split = await piecewise(file, buf.length, 'jsonl', CSV, wanted);
        expect({ rows: split.rows, rejects: split.rejects }).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  });

  it('counts lines as the readers do and puts each cut on the next line start', async () => {
    const file = put('a,b\r\n1,2\r3,4\n\n5,6\r\n');
    // offsets: "a,b\r\n"=0..4, "1,2\r"=5..8, "3,4\n"=9..12, "\n"=13, "5,6\r\n"=14..18
    const scan = await scanLines(file, { loneCr: true, wanted: [1, 5, 6, 13, 14, 18] });
    expect(scan.cuts).toEqual([
      { offset: 5, line: 2 },
      { offset: 5, line: 2 },
      { offset: 9, line: 3 },
      { offset: 13, line: 4 },
      { offset: 14, line: 5 },
      { offset: 19, line: 6 },
    ]);
    // JSON Lines: only LF ends a line.
    expect((await scanLines(file, { loneCr: false, wanted: [6] })).cuts).toEqual([{ offset: 13, line: 3 }]);
    expect((await scanLines(put('a,"b"\n1,2\n'), { quote: 34, loneCr: true, wanted: [7] })).quoted).toBe(true);
  });

  it('firstRecord: the header line past a BOM and blank lines', () => {
    expect(firstRecord(Buffer.from('\ufeff\n\r\nx,y\r\n1,2\n'), true, 'utf8')).toEqual({ text: 'x,y', end: 11 });
    expect(firstRecord(Buffer.from('x,y'), true, 'utf8')).toEqual({ text: 'x,y', end: 3 });
    expect(firstRecord(Buffer.from('x,y'), false, 'utf8')).toBeUndefined();
  });
});

describe('what is not cut, and why', () => {
  const big = (s: string) => s.repeat(Math.ceil((1 << 20) / s.length) + 1);

  it('CSV with a quote character anywhere is scored whole', async () => {
    const text = `a,b\n${big('1,x\n')}2,"y"\n`;
    const r = await cutsIn(put(text), text.length, 'csv', CSV, [text.length / 2]);
    expect(r.decision).toMatchObject({ how: 'whole', pieces: 1 });
    expect(r.decision.reason).toMatch(/CSV with quote characters is scored by one worker: a quoted field may hold a line break/);
    expect(r.cuts).toEqual([{ offset: text.length }]);
  });

  it('quote: "" (no quoting) lets a file with quote characters be cut', async () => {
    const text = `a,b\n${big('1,"x\n')}`;
    const r = await cutsIn(put(text), text.length, 'csv', { ...CSV, quote: '' }, [text.length / 2]);
    expect(r.decision).toMatchObject({ how: 'bytes', pieces: 2 });
  });

  it('gzip, small files and one-row-group Parquet are scored whole; CSV and JSON Lines are cut', async () => {
    const text = `a,b\n${big('1,x\n')}`;
    const gz = gzipSync(text);
    expect((await cutsIn(put(gz), gz.length, 'csv', CSV, [gz.length / 2])).decision.reason).toBe('gzip data can only be read from its start');
    expect((await cutsIn(put('a,b\n1,2\n'), 8, 'csv', CSV, [4])).decision.reason).toBe('text files under 1 MiB are not split');
    const r = await cutsIn(put(text), text.length, 'csv', CSV, [text.length / 3, (2 * text.length) / 3]);
    expect(r.decision).toEqual({ path: expect.any(String), how: 'bytes', pieces: 3, reason: 'split at line starts (it has no quote characters)' });
    expect(r.header).toEqual(['a', 'b']);
    const one = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'a', data: [1, 2, 3], type: 'DOUBLE' }] }));
    expect((await cutsIn(put(one, 'parquet'), one.length, 'parquet', CSV, [one.length / 2])).decision.reason).toBe('a Parquet file with one row group is scored by one worker');
  });

  it('a file that disappeared after it was listed fails in one line naming it', async () => {
    const gone = path.join(dir, 'gone.csv');
    await expect(cutsIn(gone, 2 << 20, 'csv', CSV, [1 << 20])).rejects.toMatchObject({ code: 'INPUT_FAILED', message: 'cannot read input to plan the shards: it disappeared', context: { file: gone } });
  });
});

describe('cutting Parquet at row groups', () => {
  it('the pieces read as the whole file, with row numbers from the start of the file', async () => {
    const rows = 50;
    const buf = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'a', data: Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : i / 2)), type: 'DOUBLE' },
          { name: 'b', data: Array.from({ length: rows }, (_, i) => `v${i}`), type: 'STRING' },
        ],
        rowGroupSize: 6,
      }),
    );
    const file = put(buf, 'parquet');
    const whole = await readRows(file, 'parquet', CSV);
    for (const wanted of [[buf.length / 2], [buf.length / 4, buf.length / 2, (3 * buf.length) / 4], [10, 20, 30, buf.length - 10]]) {
      const split = await piecewise(file, buf.length, 'parquet', CSV, wanted);
      expect(split.found.decision.how).toBe('row_groups');
      expect({ rows: split.rows, rejects: split.rejects }).toEqual(whole);
      expect(split.pieces.every((p) => p.fromGroup !== undefined || p.start === 0)).toBe(true);
    }
  });
});

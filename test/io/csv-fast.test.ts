// The fast path (quote-free units parsed from bytes) gives exactly what csv-parse gives: the same rows,
// fields, numbers (bit for bit), statuses, line numbers, rejects and errors — on csv-spectrum, on a corpus
// of awkward files and on generated CSV.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvReadOptions } from '../../src/io/csv-reader.js';
import type { ReadContext } from '../../src/table/reader.js';
import { FALLBACK, scanDecimalField, scanned } from '../../src/io/fast-number.js';
import { parseNumberCell, type CellStatus } from '../../src/table/numbers.js';
import type { ColumnNeed } from '../../src/table/chunk.js';
import { corpusCases } from '../support/corpus.js';
import { blocksOf, plain, splitAt, type PlainChunk } from '../support/csv.js';

const BASE: CsvReadOptions = { delimiter: ',', quote: '"', header: true, encoding: 'utf8', relaxQuotes: false };

// Numbers as bit patterns so -0/0 and NaN payloads count.
function bits(chunks: PlainChunk[]) {
  return chunks.map((c) => ({
    ...c,
    numbers: Object.fromEntries(Object.entries(c.numbers).map(([k, v]) => [k, { status: v.status, values: v.values.map((x) => Buffer.from(new Float64Array([x]).buffer).toString('hex')) }])),
  }));
}

async function outcome(parts: Buffer[], options: CsvReadOptions, ctx: ReadContext) {
  try {
    const out: PlainChunk[] = [];
    for await (const c of readCsv(blocksOf(parts), options, ctx)) out.push(plain(c));
    return { chunks: bits(out) };
  } catch (err) {
    return { error: String((err as Error).message), context: (err as { context?: unknown }).context };
  }
}

// Both paths on the same bytes and block boundaries.
async function expectSame(data: Buffer, needs: ColumnNeed[], options: Partial<CsvReadOptions> = {}, ctx: Partial<ReadContext> = {}, cuts: number[] = []) {
  const parts = splitAt(data, cuts);
  const c: ReadContext = { file: 'in.csv', needs, batchSize: 7, ...ctx };
  const reference = await outcome(parts, { ...BASE, ...options, fastPath: false }, c);
  const fast = await outcome(parts, { ...BASE, ...options, fastPath: true }, c);
  expect(fast).toEqual(reference);
  return reference;
}

// Every column of a header, read both as number and text.
const allOf = (header: string[]): ColumnNeed[] => [...new Set(header)].map((name) => ({ name, number: true, text: true }));

describe('fast path = csv-parse', () => {
  it('on every csv-spectrum file', async () => {
    const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json')), 'csvs');
    const names = readdirSync(dir);
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of names) {
      const data = readFileSync(path.join(dir, name));
      const header = data.toString('utf8').split(/\r?\n/)[0].split(',');
      // Whole (the header line is parsed alone, the rest of a quote-free unit fast) and cut after the header.
      await expectSame(data, allOf(header));
      const r = await expectSame(data, allOf(header), {}, {}, [data.indexOf('\n') + 1]);
      expect(r).toBeDefined();
    }
  });

  it('on every CSV/TSV file of the bad-input corpus', async () => {
    let files = 0;
    for (const c of corpusCases) {
      for (const [name, content] of Object.entries(c.files)) {
        if (!/\.(csv|tsv)$/.test(name) || content.length > 4 * 1024 * 1024) continue;
        const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
        const options: Partial<CsvReadOptions> = { delimiter: name.endsWith('.tsv') ? '\t' : ',' };
        const header = data.toString('latin1').split(/\r\n|\n|\r/)[0].replace(/^\u00ef\u00bb\u00bf/, '').split(options.delimiter as string);
        for (const encoding of ['utf8', 'latin1'] as const) {
          await expectSame(data, allOf(header), { ...options, encoding });
          await expectSame(data, allOf(header), { ...options, encoding }, {}, [data.indexOf(10) + 1, Math.floor(data.length / 2)]);
        }
        files++;
      }
    }
    expect(files).toBeGreaterThanOrEqual(20);
  });

  const awkward: [string, string, Partial<CsvReadOptions>?][] = [
    ['blank lines, CRLF, CR', 'a,b\r\n\r\n1,2\r3,4\n\n\n5,6\r\n'],
    ['ragged rows', 'a,b\n1\n1,2,3\n,\n4,5\n'],
    ['numbers of every shape', 'a,b\n-0,+0\n1e5,.5\n5.,-.25e-3\n 7 ,\t8\t\n1e400,-1e-400\n0x10,1_000\n1.2.3,e5\n1e,--1\n12345678901234567890,0.1234567890123456789\n'],
    ['NA strings and infinities', 'a,b\nNA,nan\n#N/A,<NA>\ninf,-Infinity\nNULL,None\n-nan,1.#IND\n'],
    ['text and unicode', 'a,b\nhéllo,日本\n"quoted",plain\n'],
    ['empty fields and trailing delimiter', 'a,b\n,\n1,\n,2\n1,2,\n'],
    ['tab delimiter', 'a\tb\n1\t2\n3\t\n', { delimiter: '\t' }],
    ['no quoting', 'a,b\n"x,1\n2,"y\n', { quote: '' }],
    ['latin1', 'a,b\n\xe9,1\n', { encoding: 'latin1' }],
    ['BOM', '\ufeffa,b\n1,2\n'],
    ['header only', 'a,b\n'],
    ['no final newline', 'a,b\n1,2\n3,4'],
    ['spaces-only line', 'a,b\n   \n1,2\n'],
    ['semicolons', 'a;b\n1,5;2\n', { delimiter: ';' }],
    ['a delimiter that occurs in numbers', 'a.b\n1.5.2\n-1.e\n', { delimiter: '.' }],
    ['minus as delimiter', 'a-b\n1-2\n-3--4\n', { delimiter: '-' }],
    ['space as delimiter', 'a b\n1 2\n 3  4\n', { delimiter: ' ' }],
  ];
  for (const [name, text, options] of awkward) {
    it(`on ${name}`, async () => {
      const data = Buffer.from(text, options?.encoding === 'latin1' ? 'latin1' : 'utf8');
      for (const cut of [0, data.indexOf('\n') + 1, Math.floor(data.length / 2)]) {
        await expectSame(data, [{ name: 'a', number: true, text: true }, { name: 'b', number: true, text: false }], options, {}, [cut]);
      }
    });
  }

  it('on generated quote-free CSV, with any block boundaries, batch sizes and limits', async () => {
    const cell = fc.oneof(
      fc.double({ noNaN: true }).map(String),
      fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map((x) => x.toPrecision(6)),
      fc.float().map((x) => String(Math.fround(x))),
      fc.integer().map(String),
      fc.constantFrom('', ' ', 'NA', 'nan', '-0', '1e5', '.5', '5.', 'inf', '-Infinity', 'abc', '1,5', '0x1', '1e', '+', '-', '.', '١٢', 'é'),
      fc.string({ unit: fc.constantFrom('1', '0', '.', 'e', '-', '+', ' ', '\t', 'x', '9') }),
    );
    const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
    const row = fc.array(cell, { minLength: 1, maxLength: 4 });
    const file = fc.record({
      rows: fc.array(fc.tuple(row, lineEnd, fc.boolean()), { maxLength: 25 }),
      bom: fc.boolean(),
      // Blank lines before the header, how the header line ends, and whether a unit starts right after it.
      lead: fc.constantFrom('', '\n', '\r\n', '\n\r\n'),
      headerEnd: lineEnd,
      headerCut: fc.boolean(),
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
      batchSize: fc.integer({ min: 1, max: 9 }),
      limit: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        const head = `${f.bom ? '\ufeff' : ''}${f.lead}a,b,c${f.headerEnd}`;
        let text = head;
        for (const [cells, end, blank] of f.rows) text += cells.join(',') + end + (blank ? end : '');
        const data = Buffer.from(text);
        const cuts = [...(f.headerCut ? [Buffer.byteLength(head)] : []), ...f.cuts.map((c) => c % (data.length + 1))];
        const needs: ColumnNeed[] = [
          { name: 'a', number: true, text: false },
          { name: 'b', number: true, text: true },
          { name: 'c', number: false, text: true },
        ];
        await expectSame(data, needs, {}, { batchSize: f.batchSize, limit: f.limit }, cuts);
      }),
      { numRuns: 400, seed: 20261124 },
    );
  });
});

describe('scanDecimalField', () => {
  it('returns the double Number() gives, or asks for the reference', () => {
    const text = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 })).map(([x, d]) => x.toExponential(d)),
      fc.float().map((x) => Math.fround(x).toPrecision(6)),
      fc.string({ unit: fc.constantFrom('0', '1', '5', '9', '.', 'e', 'E', '-', '+', ' ') }),
    );
    fc.assert(
      fc.property(text, (s) => {
        const buf = Buffer.from(s);
        scanDecimalField(buf, 0, buf.length, 44);
        const fast = scanned.value;
        expect(scanned.end).toBe(buf.length);
        const refOut = { status: 0 as CellStatus };
        const ref = parseNumberCell(s, refOut);
        if (scanned.status === FALLBACK) return;
        expect(scanned.status).toBe(refOut.status);
        expect(Object.is(fast, ref) || (Number.isNaN(fast) && Number.isNaN(ref))).toBe(true);
      }),
      { numRuns: 100_000, seed: 7 },
    );
  });
});

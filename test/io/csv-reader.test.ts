import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { MAX_RECORD_BYTES, readCsv, type CsvReadOptions } from '../../src/io/csv-reader.js';
import type { ColumnNeed } from '../../src/table/chunk.js';
import { INVALID, MISSING, OK } from '../../src/table/numbers.js';
import { resolveColumns, type ReadContext } from '../../src/table/reader.js';
import { blocksOf, bytes, oneByteBlocks, plain, splitAt, type Input, type PlainChunk } from '../support/csv.js';

// ---------------------------------------------------------------------------------------------------------
// Helpers: feed bytes we control, collect chunks into plain data that can be compared with toEqual.

const CSV: CsvReadOptions = { delimiter: ',', quote: '"', header: true, encoding: 'utf8', relaxQuotes: false };
const AB: ColumnNeed[] = [
  { name: 'a', number: true, text: true },
  { name: 'b', number: false, text: true },
];

function ctxOf(over: Partial<ReadContext> = {}): ReadContext {
  return { file: 'in.csv', needs: AB, batchSize: 1000, ...over };
}

async function read(parts: Input | Input[], options: Partial<CsvReadOptions> = {}, ctx: Partial<ReadContext> = {}): Promise<PlainChunk[]> {
  const list = (Array.isArray(parts) ? parts : [parts]).map(bytes);
  const out: PlainChunk[] = [];
  for await (const c of readCsv(blocksOf(list), { ...CSV, ...options }, ctxOf(ctx))) out.push(plain(c));
  return out;
}

// Either the chunks or the error (code, message, line): the outcome compared in the property tests.
async function outcome(parts: Buffer[], options: Partial<CsvReadOptions> = {}, ctx: Partial<ReadContext> = {}) {
  try {
    return { chunks: await read(parts, options, ctx) };
  } catch (err) {
    if (!(err instanceof SbError)) throw err;
    return { error: { code: err.code, message: err.message, line: err.context.line } };
  }
}

async function readError(parts: Input | Input[], options: Partial<CsvReadOptions> = {}, ctx: Partial<ReadContext> = {}): Promise<SbError> {
  try {
    await read(parts, options, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    return err as SbError;
  }
  throw new Error('expected readCsv to fail');
}

// All accepted rows of all chunks: [line, ...fields].
const rowsOf = (chunks: PlainChunk[]): [number, ...string[]][] => chunks.flatMap((c) => c.records.map((r, i): [number, ...string[]] => [c.lines[i], ...r]));
const rejectsOf = (chunks: PlainChunk[]) => chunks.flatMap((c) => c.rejects);

// ---------------------------------------------------------------------------------------------------------

describe('readCsv: columns and values', () => {
  it('reads a simple file: texts, numbers with status, physical lines, header', async () => {
    const chunks = await read('a,b\n1,x\n2.5,y\n');
    expect(chunks).toHaveLength(1);
    const [c] = chunks;
    expect(c.header).toEqual(['a', 'b']);
    expect(c.rows).toBe(2);
    expect(c.lines).toEqual([2, 3]);
    expect(c.texts).toEqual({ a: ['1', '2.5'], b: ['x', 'y'] });
    // only `a` is a number need; `b` is text only
    expect(Object.keys(c.numbers)).toEqual(['a']);
    expect(c.numbers.a).toEqual({ values: [1, 2.5], status: [OK, OK] });
    expect(c.records).toEqual([
      ['1', 'x'],
      ['2.5', 'y'],
    ]);
    expect(c.rejects).toEqual([]);
  });

  it('matches needed columns by name, whatever their order in the header', async () => {
    const [c] = await read('z,b,extra,a\n0,B1,e,1\n0,B2,e,2\n');
    expect(c.texts).toEqual({ a: ['1', '2'], b: ['B1', 'B2'] });
    expect(c.numbers.a.values).toEqual([1, 2]);
    expect(c.records[0]).toEqual(['0', 'B1', 'e', '1']);
  });

  it('parses number cells: missing, invalid, padded', async () => {
    const [c] = await read('a,b\n 7 ,x\n,x\nNA,x\nabc,x\n-inf,x\n');
    expect(c.numbers.a.status).toEqual([OK, MISSING, MISSING, INVALID, OK]);
    expect(c.numbers.a.values[0]).toBe(7);
    expect(Number.isNaN(c.numbers.a.values[1])).toBe(true);
    expect(c.numbers.a.values[4]).toBe(-Infinity);
    // texts are kept verbatim (not trimmed)
    expect(c.texts.a).toEqual([' 7 ', '', 'NA', 'abc', '-inf']);
  });

  it('reads quoted fields holding delimiters, newlines and doubled quotes', async () => {
    const [c] = await read('a,b\n"1,5","he said ""hi"""\n2,"two\nlines"\n3,""\n');
    expect(c.texts.a).toEqual(['1,5', '2', '3']);
    expect(c.texts.b).toEqual(['he said "hi"', 'two\nlines', '']);
    // the row after a two-line field starts on physical line 5
    expect(c.lines).toEqual([2, 3, 5]);
  });

  it('keeps CRLF inside a quoted field and counts it as one physical line', async () => {
    const [c] = await read('a,b\r\n1,"x\r\ny"\r\n3,4\r\n');
    expect(c.texts.b).toEqual(['x\r\ny', '4']);
    expect(c.lines).toEqual([2, 4]);
  });

  it('strips a UTF-8 BOM from the first header name', async () => {
    const [c] = await read('\ufeffa,b\n1,2\n');
    expect(c.header).toEqual(['a', 'b']);
    expect(c.texts.a).toEqual(['1']);
  });

  it('accepts CRLF, LF and lone CR line ends, even mixed', async () => {
    for (const text of ['a,b\r\n1,2\r\n3,4\r\n', 'a,b\n1,2\n3,4\n', 'a,b\r1,2\r3,4\r', 'a,b\r\n1,2\r3,4\n', 'a,b\n1,2\n3,4']) {
      const chunks = await read(text);
      expect(rowsOf(chunks), JSON.stringify(text)).toEqual([
        [2, '1', '2'],
        [3, '3', '4'],
      ]);
    }
  });

  it('skips blank lines but keeps counting physical lines', async () => {
    const chunks = await read('a,b\n\n1,2\n\n\n3,4\r\n\r\n\r5,6\n\n');
    expect(rowsOf(chunks)).toEqual([
      [3, '1', '2'],
      [6, '3', '4'],
      [9, '5', '6'],
    ]);
  });

  it('skips blank lines before the header and numbers rows after them correctly', async () => {
    const chunks = await read('\n\na,b\n1,2\n');
    expect(chunks[0].header).toEqual(['a', 'b']);
    expect(rowsOf(chunks)).toEqual([[4, '1', '2']]);
  });

  it('counts lines of multi-line quoted fields in the header and in rows (multi-byte text too)', async () => {
    const chunks = await read('"a",b\n1,"é\n😀\nç"\n\n3,"x\r\ny"\n5,6\n');
    expect(rowsOf(chunks)).toEqual([
      [2, '1', 'é\n😀\nç'],
      [6, '3', 'x\r\ny'],
      [8, '5', '6'],
    ]);
  });

  it('reads a last line without a line break', async () => {
    expect(rowsOf(await read('a,b\n1,2'))).toEqual([[2, '1', '2']]);
    expect(rowsOf(await read('a,b\n1,"x\ny"'))).toEqual([[2, '1', 'x\ny']]);
  });
});

describe('readCsv: rejected rows', () => {
  it('rejects ragged rows with their line and fields, and reads on', async () => {
    const chunks = await read('a,b\n1,2,3\n4\n\n5,6\n7,"x\ny",z\n8,9\n');
    expect(rowsOf(chunks)).toEqual([
      [5, '5', '6'],
      [8, '8', '9'],
    ]);
    expect(rejectsOf(chunks)).toEqual([
      { line: 2, error: 'expected 2 fields, got 3', fields: ['1', '2', '3'] },
      { line: 3, error: 'expected 2 fields, got 1', fields: ['4'] },
      { line: 6, error: 'expected 2 fields, got 3', fields: ['7', 'x\ny', 'z'] },
    ]);
  });

  it('rejects a quote inside an unquoted field (a,5"6) on its line and reads the next rows', async () => {
    const chunks = await read('a,b\n1,5"6\n3,4\n');
    expect(rejectsOf(chunks)).toEqual([
      { line: 2, error: expect.stringMatching(/^column 'b': quote character inside an unquoted field/), fields: ['1', '5"6'] },
    ]);
    expect(rowsOf(chunks)).toEqual([[3, '3', '4']]);
  });

  it('rejects text after a closing quote ("x"y) and reads the next rows', async () => {
    const chunks = await read('a,b\n1,"x"y\n3,4\n5,6\n');
    expect(rejectsOf(chunks)).toEqual([{ line: 2, error: expect.stringMatching(/^column 'b': text after a closing quote/), fields: ['1', '"x"y'] }]);
    expect(rejectsOf(chunks)[0].error).toContain('must be doubled');
    expect(rowsOf(chunks)).toEqual([
      [3, '3', '4'],
      [4, '5', '6'],
    ]);
  });

  it('rejects a bad quote on the line it starts on, after multi-line fields and blank lines', async () => {
    const chunks = await read('a,b\n1,"x\ny"\n\n2,"p"q\n3,4\n');
    expect(rejectsOf(chunks).map((r) => r.line)).toEqual([5]);
    expect(rowsOf(chunks)).toEqual([
      [2, '1', 'x\ny'],
      [6, '3', '4'],
    ]);
  });

  it('rejects a quote left open at the end of the file', async () => {
    const chunks = await read('a,b\n1,2\n3,"open\nmore\n');
    expect(rowsOf(chunks)).toEqual([[2, '1', '2']]);
    expect(rejectsOf(chunks)).toEqual([
      { line: 3, error: "column 'b': a quoted field opened on this line is never closed", fields: ['3', '"open'] },
      // parsing resumed on the next physical line
      { line: 4, error: 'expected 2 fields, got 1', fields: ['more'] },
    ]);
  });

  it('rejects a quote left open in the middle, and still reads the good rows that follow', async () => {
    const chunks = await read('a,b\n1,"x\n3,4\n5,6\n');
    expect(rejectsOf(chunks)).toEqual([{ line: 2, error: "column 'b': a quoted field opened on this line is never closed", fields: ['1', '"x'] }]);
    expect(rowsOf(chunks)).toEqual([
      [3, '3', '4'],
      [4, '5', '6'],
    ]);
  });

  it('accepts stray quotes with relaxQuotes', async () => {
    const chunks = await read('a,b\n1,5"6\n', { relaxQuotes: true });
    expect(rejectsOf(chunks)).toEqual([]);
    expect(rowsOf(chunks)).toEqual([[2, '1', '5"6']]);
  });

  it('treats quotes as data when quote is empty', async () => {
    const chunks = await read('a,b\n1,"x\n"2,y"\n', { quote: '' });
    expect(rejectsOf(chunks)).toEqual([]);
    expect(rowsOf(chunks)).toEqual([
      [2, '1', '"x'],
      [3, '"2', 'y"'],
    ]);
  });

  it('a line longer than MAX_RECORD_BYTES fails at its line, also when the file ends before the buffer would double', async () => {
    // 1 MiB blocks of one unbroken line: the reader buffers at most MAX_RECORD_BYTES of it before giving up.
    const block = Buffer.alloc(1 << 20, 0x37);
    const parts = [Buffer.from('a,b\n1,2\n'), ...Array.from({ length: MAX_RECORD_BYTES / block.length + 1 }, () => block)];
    const err = await readError(parts);
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toBe('a line longer than 64 MiB without a line break; is this a CSV file?');
    expect(err.context).toMatchObject({ file: 'in.csv', line: 3 });
  });

  it('fails the input when the header itself cannot be parsed', async () => {
    const err = await readError('a,"b\n1,2\n');
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toContain('header line cannot be parsed');
    expect(err.context).toMatchObject({ file: 'in.csv', line: 1 });
  });
});

describe('readCsv: header modes and column errors', () => {
  it('header: false names columns 1, 2, ... and reads the first line as data', async () => {
    const needs: ColumnNeed[] = [
      { name: '2', number: true, text: false },
      { name: '1', number: false, text: true },
    ];
    const chunks = await read('x,10\ny,20\n', { header: false }, { needs });
    expect(chunks[0].header).toEqual(['1', '2']);
    expect(chunks[0].lines).toEqual([1, 2]);
    expect(chunks[0].texts).toEqual({ '1': ['x', 'y'] });
    expect(chunks[0].numbers['2'].values).toEqual([10, 20]);
  });

  it('header: false still rejects rows of another width', async () => {
    const chunks = await read('x,10\ny\n', { header: false }, { needs: [{ name: '1', number: false, text: true }] });
    expect(rowsOf(chunks)).toEqual([[1, 'x', '10']]);
    expect(rejectsOf(chunks)).toEqual([{ line: 2, error: 'expected 2 fields, got 1', fields: ['y'] }]);
  });

  it('a header list names the columns; the first line is data', async () => {
    const chunks = await read('1,B\n2,C\n', { header: ['a', 'b'] });
    expect(chunks[0].header).toEqual(['a', 'b']);
    expect(rowsOf(chunks)).toEqual([
      [1, '1', 'B'],
      [2, '2', 'C'],
    ]);
  });

  it('a header list fails at once when a needed column is not in it', async () => {
    const err = await readError('1,2\n', { header: ['a', 'c'] });
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toContain("column 'b' is not in the header");
  });

  it('a missing needed column fails with INPUT_FAILED, naming it with a did-you-mean and the columns', async () => {
    const err = await readError('alpha,bravo,amount\n1,2,3\n', {}, { needs: [{ name: 'amout', number: true, text: false }] });
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toBe("column 'amout' is not in the header, did you mean 'amount'? (columns: alpha, bravo, amount)");
    expect(err.context).toEqual({ file: 'in.csv', line: 1 });
  });

  it('gives the physical header line in the error when blank lines come first', async () => {
    const err = await readError('\n\nx,y\n1,2\n');
    expect(err.context.line).toBe(3);
  });

  it('a duplicated needed header name fails, naming the column and both positions', async () => {
    const err = await readError('a,b,a\n1,2,3\n');
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toBe("column 'a' appears twice in the header (fields 1 and 3); rename one");
  });

  it('a duplicated header name that is not needed is allowed', async () => {
    const chunks = await read('a,b,z,z\n1,2,3,4\n');
    expect(rowsOf(chunks)).toEqual([[2, '1', '2', '3', '4']]);
  });

  it('resolveColumns shortens a long header list in the message', () => {
    const header = Array.from({ length: 20 }, (_, i) => `c${i}`);
    expect(() => resolveColumns(header, [{ name: 'zzz', number: true, text: false }], 'f.csv')).toThrow(/columns: c0, c1, .*c11, …\)$/);
    expect(resolveColumns(header, [{ name: 'c7', number: true, text: false }], 'f.csv')).toEqual([{ name: 'c7', number: true, text: false, index: 7 }]);
  });

  it('an empty file fails: there is no header', async () => {
    for (const text of ['', '\n\n\r\n', '\ufeff']) {
      const err = await readError(text);
      expect(err.code).toBe('INPUT_FAILED');
      expect(err.message).toContain('the input is empty');
    }
  });

  it('an empty stream (no blocks at all) fails the same way', async () => {
    const err = await readError([]);
    expect(err.message).toContain('the input is empty');
  });

  it('a header-only file gives no chunks and no error', async () => {
    expect(await read('a,b\n')).toEqual([]);
    expect(await read('a,b')).toEqual([]);
    expect(await read('a,b\r\n\r\n')).toEqual([]);
  });

  it('header: false on an empty file still fails', async () => {
    const err = await readError('', { header: false }, { needs: [] });
    expect(err.code).toBe('INPUT_FAILED');
  });
});

describe('readCsv: encodings and delimiters', () => {
  it('decodes latin1', async () => {
    const buf = Buffer.from([...Buffer.from('a,b\n'), 0xe9, 0x2c, 0x66, 0xfc, 0x72, 0x0a]); // "é,für"
    const chunks = await read(buf, { encoding: 'latin1' });
    expect(rowsOf(chunks)).toEqual([[2, 'é', 'für']]);
  });

  it('fails on invalid UTF-8 with the physical line of the bad bytes', async () => {
    const buf = Buffer.concat([Buffer.from('a,b\n1,"x\ny"\n\n'), Buffer.from([0x32, 0x2c, 0xff, 0x0a]), Buffer.from('3,4\n')]);
    const err = await readError(buf);
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toContain('not valid UTF-8');
    expect(err.message).toContain('latin1');
    expect(err.context).toEqual({ file: 'in.csv', line: 5 });
  });

  it('finds the bad UTF-8 line also when it arrives in a later block, after CRLF lines', async () => {
    const parts = [Buffer.from('a,b\r\n1,2\r\n'), Buffer.from('3,4\r\n'), Buffer.from([0x35, 0x2c, 0xc3, 0x28, 0x0d, 0x0a])];
    const err = await readError(parts);
    expect(err.context.line).toBe(4);
  });

  it('reads the rows before a bad UTF-8 line: a limit reached first means no error, whatever the blocks', async () => {
    const buf = Buffer.concat([Buffer.from('a,b\n1,2\n3,4\n'), Buffer.from([0x35, 0x2c, 0xff, 0x0a])]);
    for (const parts of [[buf], oneByteBlocks(buf)]) {
      expect(rowsOf(await read(parts, {}, { limit: 2 }))).toEqual([
        [2, '1', '2'],
        [3, '3', '4'],
      ]);
      expect((await readError(parts, {}, { limit: 3 })).context.line).toBe(4);
    }
  });

  it('a header problem before a bad UTF-8 line is the one reported, whatever the blocks', async () => {
    const buf = Buffer.concat([Buffer.from('x,y\n'), Buffer.from([0xff, 0x0a])]);
    for (const parts of [[buf], oneByteBlocks(buf)]) {
      const err = await readError(parts);
      expect(err.message).toContain("column 'a' is not in the header");
      expect(err.context.line).toBe(1);
    }
  });

  it('bad UTF-8 inside a quoted field fails at the physical line of the bad bytes', async () => {
    const buf = Buffer.concat([Buffer.from('a,b\n1,"x\ny'), Buffer.from([0xc3]), Buffer.from('"\n3,4\n')]);
    for (const parts of [[buf], oneByteBlocks(buf)]) {
      const err = await readError(parts);
      expect(err.message).toContain('not valid UTF-8');
      expect(err.context.line).toBe(3);
    }
  });

  it('bad UTF-8 in the header line fails at line 1 (after a BOM too)', async () => {
    const buf = Buffer.concat([Buffer.from('\ufeffa,'), Buffer.from([0xe9]), Buffer.from('\n1,2\n')]);
    expect((await readError(buf)).context.line).toBe(1);
  });

  it('reads tab-delimited text', async () => {
    const chunks = await read('a\tb\n1\t"x\ty"\n2,5\tz\n', { delimiter: '\t' });
    expect(rowsOf(chunks)).toEqual([
      [2, '1', 'x\ty'],
      [3, '2,5', 'z'],
    ]);
  });

  it('reads a multi-character delimiter; rejects are split on it', async () => {
    const chunks = await read('a||b\n1||"x||y"\n2|3||4||5\n', { delimiter: '||' });
    expect(rowsOf(chunks)).toEqual([[2, '1', 'x||y']]);
    expect(rejectsOf(chunks)).toEqual([{ line: 3, error: 'expected 2 fields, got 3', fields: ['2|3', '4', '5'] }]);
  });

  it('splits a bad-quote reject on a multi-character delimiter', async () => {
    const chunks = await read('a::b\n1::5"6\n7::8\n', { delimiter: '::' });
    expect(rejectsOf(chunks)).toEqual([{ line: 2, error: expect.any(String), fields: ['1', '5"6'] }]);
    expect(rowsOf(chunks)).toEqual([[3, '7', '8']]);
  });
});

describe('readCsv: chunking and limit', () => {
  const text = 'a,b\n' + Array.from({ length: 7 }, (_, i) => `${i},r${i}\n`).join('');

  it('splits rows into chunks of batchSize, each with its own lines and values', async () => {
    const chunks = await read(text, {}, { batchSize: 3 });
    expect(chunks.map((c) => c.rows)).toEqual([3, 3, 1]);
    expect(chunks.map((c) => c.lines)).toEqual([[2, 3, 4], [5, 6, 7], [8]]);
    expect(chunks.map((c) => c.numbers.a.values)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(chunks.map((c) => c.texts.b)).toEqual([['r0', 'r1', 'r2'], ['r3', 'r4', 'r5'], ['r6']]);
    expect(chunks[1].records[0]).toEqual(['3', 'r3']);
  });

  it('an exact multiple of batchSize gives no empty trailing chunk', async () => {
    const chunks = await read('a,b\n1,2\n3,4\n5,6\n7,8\n', {}, { batchSize: 2 });
    expect(chunks.map((c) => c.rows)).toEqual([2, 2]);
  });

  it('batchSize 1 gives one chunk per row', async () => {
    const chunks = await read(text, {}, { batchSize: 1 });
    expect(chunks).toHaveLength(7);
    expect(chunks.every((c) => c.rows === 1)).toBe(true);
  });

  it('rejects travel in the chunk being filled when they occur; a chunk of only rejects is still emitted', async () => {
    const chunks = await read('a,b\n1,2\nbad\n3,4\nx,y,z\n', {}, { batchSize: 2 });
    expect(chunks.map((c) => c.rows)).toEqual([2, 0]);
    expect(chunks[0].rejects.map((r) => r.line)).toEqual([3]);
    expect(chunks[1].rejects.map((r) => r.line)).toEqual([5]);
  });

  it('limit stops after that many data rows (accepted + rejected)', async () => {
    const chunks = await read('a,b\n1,2\nbad\n3,4\n5,6\n', {}, { limit: 3 });
    expect(rowsOf(chunks)).toEqual([
      [2, '1', '2'],
      [4, '3', '4'],
    ]);
    expect(rejectsOf(chunks).map((r) => r.line)).toEqual([3]);
  });

  it('limit works across chunks and stops reading further blocks', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield Buffer.from(i === 0 ? 'a,b\n' : `${i},x\n`);
      }
    }
    const chunks: PlainChunk[] = [];
    for await (const c of readCsv(source(), CSV, ctxOf({ limit: 5, batchSize: 2 }))) chunks.push(plain(c));
    expect(chunks.map((c) => c.rows)).toEqual([2, 2, 1]);
    expect(rowsOf(chunks).map((r) => r[0])).toEqual([2, 3, 4, 5, 6]);
    expect(pulled).toBeLessThan(20);
  });

  it('limit larger than the file reads everything', async () => {
    expect(rowsOf(await read(text, {}, { limit: 100 }))).toHaveLength(7);
  });
});

describe('readCsv: block boundaries', () => {
  it('CRLF split exactly between blocks does not add a line', async () => {
    const expected = [
      [2, '1', '2'],
      [3, '3', '4'],
    ];
    expect(rowsOf(await read(['a,b\r\n', '1,2\r\n3,4\r\n']))).toEqual(expected);
    expect(rowsOf(await read(['a,b\r', '\n1,2\r', '\n3,4\r\n']))).toEqual(expected);
    expect(rowsOf(await read(['a,b\r\n1,2\r\n', '3,4\r\n']))).toEqual(expected);
  });

  it('a quoted newline split across blocks', async () => {
    const expected = [
      [2, '1', 'x\r\ny'],
      [4, '3', '4'],
    ];
    expect(rowsOf(await read(['a,b\r\n1,"x\r', '\ny"\r\n3,4\r\n']))).toEqual(expected);
    expect(rowsOf(await read(['a,b\r\n1,"x', '\r\ny', '"\r', '\n3,4\r\n']))).toEqual(expected);
  });

  it('a multi-byte character split across blocks', async () => {
    const buf = Buffer.from('a,b\n1,😀é\n');
    const at = buf.indexOf(0xf0) + 2;
    expect(rowsOf(await read(splitAt(buf, [at, at + 3])))).toEqual([[2, '1', '😀é']]);
  });

  it('empty blocks are harmless', async () => {
    expect(rowsOf(await read(['', 'a,b\n', '', '1,2', '', '\n', '']))).toEqual([[2, '1', '2']]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property tests. Fixed seeds: deterministic, and a failure prints the counterexample.

const FIELD_CHARS = ['a', 'b', '1', '.', ' ', ',', '"', '\n', '\r', '\r\n', 'é', '😀', '\t'];
const fieldArb = fc.array(fc.constantFrom(...FIELD_CHARS), { maxLength: 6 }).map((cs) => cs.join(''));
const EOLS = ['\n', '\r\n', '\r'];

// Physical lines a text spans beyond its first: LF, CRLF and lone CR each end one.
const breaks = (s: string): number => (s.match(/\r\n|\r|\n/g) ?? []).length;

function encodeField(f: string): string {
  return /[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
}

interface Doc {
  text: string;
  rows: [number, ...string[]][];
  rejects: { line: number; error: string; fields: string[] }[];
}

// A well-formed CSV text built from records, with what the reader must make of it.
const docArb = fc
  .record({
    records: fc.array(
      fc.record({
        // mostly 2 fields (accepted), sometimes 1 or 3 (ragged: rejected)
        width: fc.constantFrom(2, 2, 2, 2, 1, 3),
        fields: fc.array(fieldArb, { minLength: 3, maxLength: 3 }),
        eol: fc.constantFrom(...EOLS),
        // blank lines after the record, ended like the record (a lone CR then an LF would be one CRLF)
        blanks: fc.nat({ max: 2 }),
      }),
      { maxLength: 12 },
    ),
    headerEol: fc.constantFrom(...EOLS),
    finalEol: fc.boolean(),
    bom: fc.boolean(),
  })
  .map(({ records, headerEol, finalEol, bom }): Doc => {
    let text = (bom ? '\ufeff' : '') + 'a,b' + headerEol;
    let line = 2;
    const rows: Doc['rows'] = [];
    const rejects: Doc['rejects'] = [];
    records.forEach((r, i) => {
      const fields = r.fields.slice(0, r.width);
      // a one-field record that is empty would be a blank line: make it a visible value
      if (fields.length === 1 && fields[0] === '') fields[0] = 'v';
      const body = fields.map(encodeField).join(',');
      if (r.width === 2) rows.push([line, ...fields]);
      else rejects.push({ line, error: `expected 2 fields, got ${fields.length}`, fields });
      const last = i === records.length - 1;
      const blanks = last ? 0 : r.blanks;
      text += body + (last && !finalEol ? '' : r.eol.repeat(1 + blanks));
      line += breaks(body) + 1 + blanks;
    });
    return { text, rows, rejects };
  });

// Random cut points for a buffer of length n.
const cutsArb = fc.array(fc.nat({ max: 400 }), { maxLength: 30 });

describe('readCsv: properties', () => {
  it('well-formed text: rows, fields and physical lines are what was written, for any block boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(docArb, cutsArb, fc.integer({ min: 1, max: 4 }), async (doc, cuts, batchSize) => {
        const buf = Buffer.from(doc.text);
        for (const parts of [[buf], splitAt(buf, cuts), oneByteBlocks(buf)]) {
          const chunks = await read(parts, {}, { batchSize, needs: [{ name: 'b', number: false, text: true }] });
          expect(rowsOf(chunks)).toEqual(doc.rows);
          expect(rejectsOf(chunks)).toEqual(doc.rejects);
          expect(chunks.every((c) => c.rows <= batchSize)).toBe(true);
        }
      }),
      { seed: 20240501, numRuns: 150 },
    );
  });

  // Arbitrary bytes, including broken quotes, ragged rows, garbage and invalid UTF-8: whatever the reader makes
  // of them (chunks, rejects, or an error), it must make the same of them whatever the block boundaries are.
  const PIECES = ['a', '1', '2.5', ',', ',', '"', '""', '\n', '\n', '\r\n', '\r', 'é', '😀', ' ', 'NA', '\t', ':'].map((p) => Buffer.from(p));
  const pieceArb = fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...PIECES) }, { weight: 1, arbitrary: fc.constant(Buffer.from([0xff])) });
  const messyArb = fc
    .tuple(fc.constantFrom('a,b\n', 'a,b\r\n', '\ufeffa,b\r\n', 'b,a,c\n', 'a,"b"\r', 'a\tb\n', 'a::b\r\n'), fc.array(pieceArb, { maxLength: 60 }))
    .map(([head, pieces]) => Buffer.concat([Buffer.from(head), ...pieces]));
  const AS_NUMBER_1: ColumnNeed[] = [{ name: '1', number: true, text: true }];
  const configArb = fc.constantFrom<[Partial<CsvReadOptions>, Partial<ReadContext>]>(
    [{}, {}],
    [{ relaxQuotes: true }, {}],
    [{ delimiter: '\t' }, {}],
    [{ delimiter: '::' }, {}],
    [{ quote: '' }, {}],
    [{ encoding: 'latin1' }, {}],
    [{ header: false }, { needs: AS_NUMBER_1 }],
    [{ header: ['a', 'b'] }, {}],
  );

  it('messy bytes: the result is identical for one block, 1-byte blocks and random blocks', async () => {
    await fc.assert(
      fc.asyncProperty(
        messyArb,
        cutsArb,
        configArb,
        fc.integer({ min: 1, max: 5 }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        async (buf, cuts, [options, extra], batchSize, limit) => {
          const ctx = { ...extra, batchSize, limit };
          const whole = await outcome([buf], options, ctx);
          expect(await outcome(oneByteBlocks(buf), options, ctx)).toEqual(whole);
          expect(await outcome(splitAt(buf, cuts), options, ctx)).toEqual(whole);
        },
      ),
      { seed: 77, numRuns: 400 },
    );
  });

  it('messy text: every row and reject has a line inside the file, in increasing order', async () => {
    await fc.assert(
      fc.asyncProperty(messyArb, async (buf) => {
        const text = buf.toString('latin1');
        const r = await outcome([buf], { relaxQuotes: true });
        if (!r.chunks) return;
        const lines = [...rowsOf(r.chunks).map((x) => x[0]), ...rejectsOf(r.chunks).map((x) => x.line)].sort((x, y) => x - y);
        const physical = breaks(text) + 1;
        for (const l of lines) {
          expect(l).toBeGreaterThanOrEqual(2);
          expect(l).toBeLessThanOrEqual(physical);
        }
        expect(new Set(lines).size).toBe(lines.length);
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});

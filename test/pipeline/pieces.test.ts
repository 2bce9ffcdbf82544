// Several readers over one file give exactly what one reader gives: the same chunks (rows, tensors bit for
// bit, passthrough cells, rejects with their lines and fields, rows read per chunk) and the same error — on
// generated CSV with quoted fields that hold line breaks (CRLF too), ragged rows, bad quotes, cells that are
// not numbers, blank lines, and on JSON Lines; cut at random places, into 2 to 6 pieces, with small chunks;
// and on generated Parquet (nulls and several types, uneven row groups) shared among 2 to 5 readers.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readerCuts } from '../../src/io/split.js';
import { parquetReaderCount, piecesOf, readerCount, planPieces, planRowGroups, prepareInPieces, prepareInRowGroups, shareGroups, type GroupShare } from '../../src/pipeline/pieces.js';
import { prepareHere, type Prepared, type PrepareSpec } from '../../src/pipeline/prepare.js';
import type { TextFormat } from '../../src/job/config.js';
import { openSource } from '../../src/storage/source.js';
import { unpackText } from '../../src/table/packed.js';
import { mixedParquet, rejectedRow } from '../support/parquet.js';
import { tempDir } from '../support/temp-dir.js';

// Everything a consumer sees of a prepared input, as plain data (floats as their bits).
async function seen(p: Prepared) {
  const chunks: unknown[] = [];
  try {
    for await (const c of p.chunks) {
      chunks.push({
        rowsIn: c.rowsIn,
        rows: c.rows,
        feeds: c.feeds.map((f) => ({ dims: f.dims, data: Buffer.from((f.data as Float32Array).buffer, (f.data as Float32Array).byteOffset, (f.data as Float32Array).byteLength).toString('hex') })),
        passthrough: c.passthrough.map((t) => Array.from({ length: t.offsets.length - 1 }, (_, i) => unpackText(t, i))),
        rejects: c.rejects,
        header: c.header,
      });
      p.recycle(c);
    }
    const end = p.end();
    return { chunks, bytes: end.bytes, sha256: end.sha256, readers: end.readers };
  } catch (err) {
    return { chunks, error: (err as Error).message, context: (err as { context?: unknown }).context };
  } finally {
    await p.close();
  }
}

function specOf(file: string, format: TextFormat, batchSize: number): PrepareSpec {
  const columns = ['a', 'b'].map((name) => ({ name, missing: { kind: 'reject' as const } }));
  return {
    file,
    display: path.basename(file),
    format,
    csv: { delimiter: format === 'tsv' ? '\t' : ',', quote: '"', header: true, encoding: 'utf8', relaxQuotes: false, fastPath: true },
    plan: {
      needs: [{ name: 'id', number: false, text: true }, { name: 's', number: false, text: true }, { name: 'a', number: true, text: false }, { name: 'b', number: true, text: false }],
      tensors: [{ input: 'input', type: 'float32', columns, rank: 2 }],
      passthrough: ['id', 's'],
    },
    batchSize,
  };
}

// One reader over the whole file, then readers starting at the line starts after `offsets` (in reader
// threads, or in this thread: the same readers, quicker to start for hundreds of files).
async function compare(file: string, format: TextFormat, batchSize: number, offsets: number[], threads = false) {
  const spec = specOf(file, format, batchSize);
  const one = await seen(prepareHere(spec));
  const source = openSource(file, spec.display);
  const bytes = (await source.stat())?.size ?? 0;
  const cuts = await readerCuts(source, bytes, format, spec.csv, [...offsets].sort((x, y) => x - y));
  await source.close();
  if (typeof cuts === 'string' || cuts.starts.length < 2) return { one, many: undefined };
  const pieces = piecesOf(cuts.starts, cuts.header, bytes);
  const open = threads ? undefined : (s: PrepareSpec) => prepareHere(s);
  const many = await seen(prepareInPieces(spec, pieces, open));
  // Two readers taking the pieces in turn (each reads a series of pieces): the same again.
  if (pieces.length > 2) expect(await seen(prepareInPieces(spec, pieces, open, 2, 2))).toEqual(many);
  const { readers, ...rest } = many;
  if ('error' in one) {
    // One reader drops the rows of the block it fails in (they never make a chunk), so the chunks before a
    // failure depend on where blocks end: the readers give the same error, after the same chunks or more.
    expect({ error: rest.error, context: rest.context }).toEqual({ error: one.error, context: one.context });
    expect(rest.chunks.slice(0, one.chunks.length)).toEqual(one.chunks);
  } else expect(rest).toEqual(one);
  return { one, many, readers };
}

// Cells of a generated CSV row: numbers, text that needs quotes (delimiters, quotes, LF and CRLF inside).
const cell = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map((x) => String(Math.fround(x))) },
  { weight: 1, arbitrary: fc.constantFrom('', 'NA', 'x1', '1e400', ' 7 ') },
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z ]{0,6}$/) },
  { weight: 3, arbitrary: fc.constantFrom('"two\nlines"', '"crlf\r\ninside"', '"a, b"', '"say ""hi"""', '"\n\n"', '"x\ny\nz"') },
);
const row = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.nat(999), text, cell, cell).map(([id, s, a, b]) => `${id},${s},${a},${b}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '1,2', '1,2,3,4,5', '9,ab"c,1,2', '8,"ok"x,1,2', '7,"a""b,1,2', ' ') },
);
const csvFile = fc.record({
  rows: fc.array(row, { minLength: 0, maxLength: 120 }),
  crlf: fc.boolean(),
  final: fc.boolean(),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
  batch: fc.integer({ min: 1, max: 9 }),
});

describe('several readers = one reader', () => {
  it('on generated CSV with quoted line breaks, bad rows and random cuts', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    let split = 0;
    let spilled = 0;
    await fc.assert(
      fc.asyncProperty(csvFile, async (f) => {
        const eol = f.crlf ? '\r\n' : '\n';
        const data = `id,s,a,b${eol}${f.rows.join(eol)}${f.final ? eol : ''}`;
        writeFileSync(file, data);
        const size = Buffer.byteLength(data);
        const r = await compare(file, 'csv', f.batch, f.cuts.map((c) => Math.floor(c * size)));
        if (r.many) split++;
        if (r.readers !== undefined && r.readers < f.cuts.length + 1 && r.many) spilled++;
      }),
      { numRuns: 200, seed: 19 },
    );
    // The generator reaches both outcomes: files read in pieces, and pieces dropped for a quoted line break.
    expect(split).toBeGreaterThan(50);
    expect(spilled).toBeGreaterThan(5);
  });

  it('on JSON Lines with bad lines, blank lines and random cuts', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.jsonl');
    const line = fc.oneof(
      { weight: 10, arbitrary: fc.tuple(fc.nat(999), fc.string({ maxLength: 4 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.option(fc.integer())).map(([id, s, a, b]) => JSON.stringify({ id, s, a, b })) },
      { weight: 1, arbitrary: fc.constantFrom('', '{"id":1', '[1,2]', '{"id":2,"s":"x","a":"z","b":1}', '  ') },
      // Without key b: when the first batch has no b at all, the input fails (a typo, not missing data).
      { weight: 4, arbitrary: fc.nat(9).map((id) => JSON.stringify({ id, s: 'q', a: id })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 80 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 9 }), async (lines, cuts, batch) => {
        const data = `${lines.join('\n')}\n`;
        writeFileSync(file, data);
        await compare(file, 'jsonl', batch, cuts.map((c) => Math.floor(c * data.length)));
      }),
      { numRuns: 150, seed: 19 },
    );
  });

  it('in reader threads, two readers taking six pieces in turn: the rows and rejects of one reader', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const rows = Array.from({ length: 600 }, (_, i) => (i % 97 === 5 ? `${i},bad` : i % 89 === 7 ? `${i},t,x,1` : `${i},t,${i},${i / 4}`));
    writeFileSync(file, `id,s,a,b\n${rows.join('\n')}\n`);
    const size = statSync(file).size;
    const { one, many } = await compare(file, 'csv', 16, [1, 2, 3, 4, 5].map((k) => Math.floor((k * size) / 6)), true);
    expect(many?.readers).toBe(6);
    expect((one.chunks as { rejects: unknown[] }[]).flatMap((c) => c.rejects).length).toBeGreaterThan(10);
  });

  it('in reader threads, a quoted line break at the second cut: its reader reads on to the next cut where a record starts, and only the piece it read through is dropped', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const rows = Array.from({ length: 600 }, (_, i) => (i === 200 ? `${i},"two\nlines",${i},1` : `${i},t,${i},${i / 4}`));
    const text = `id,s,a,b\n${rows.join('\n')}\n`;
    writeFileSync(file, text);
    const size = statSync(file).size;
    const inside = text.indexOf('two\n') + 1;
    const offsets = [Math.floor(size / 6), inside, ...[3, 4, 5].map((k) => Math.floor((k * size) / 6))];
    const { one, many } = await compare(file, 'csv', 16, offsets, true);
    // The second piece ends inside the quoted field: its reader reads on through the third piece and stands at
    // a record start where the fourth starts, so five of the six pieces are used, and the rows are one reader's.
    expect(many?.readers).toBe(5);
    expect((one.chunks as { rowsIn: number }[]).reduce((n, c) => n + c.rowsIn, 0)).toBe(600);
  });

  it('a quoted field whose second line starts with its closing quote: the reader of the piece after it takes the rest of the file for one field and fails on a later bad byte; one new reader reads on from the proven start, and fails where one reader fails, after the same rows', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const rows = Array.from({ length: 600 }, (_, i) => (i === 200 ? `${i},"two\n",${i},1` : i === 450 ? `${i},t\xff,${i},1` : `${i},t,${i},${i / 4}`));
    const text = `id,s,a,b\n${rows.join('\n')}\n`;
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const size = statSync(file).size;
    const inside = text.indexOf('two\n') + 1;
    expect(text.indexOf('\xff')).toBeGreaterThan((4 * size) / 6);
    const offsets = [Math.floor(size / 6), inside, ...[3, 4, 5].map((k) => Math.floor((k * size) / 6))];
    const { one, many } = await compare(file, 'csv', 16, offsets, true);
    expect(one).toMatchObject({ error: expect.stringMatching(/not valid UTF-8/), context: { line: 453 } });
    expect(many).toMatchObject({ error: one.error, context: one.context });
  });

  it('a quoted record closed by the last block of a piece ends it at a record start (no spill)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    // Rows up to 500 bytes before the first 1 MiB block's end, then a quoted field with line breaks that
    // closes 23 bytes into the next block, where the next piece starts.
    let head = 'id,s,a,b\n';
    for (let i = 0; head.length < (1 << 20) - 500; i++) head += `${i},t,${i},1\n`;
    const quoted = `7,"${'x\n'.repeat(255)}y",1,2\n`;
    const tail = Array.from({ length: 2000 }, (_, i) => `${i},u,${i},2\n`).join('');
    writeFileSync(file, head + quoted + tail);
    expect(head.length + quoted.length).toBeGreaterThan(1 << 20);
    const { many } = await compare(file, 'csv', 64, [head.length + quoted.length - 1]);
    expect(many?.readers).toBe(2);
  });

  it('plans a file grown since it was listed as it is now, and fails, rather than hash unread bytes, when it grows after the plan', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => `${from + i},t,${i},${i / 2}\n`).join('');
    writeFileSync(file, `id,s,a,b\n${rows(0, 300)}`);
    const listed = statSync(file).size;
    writeFileSync(file, rows(300, 100), { flag: 'a' });
    const spec = specOf(file, 'csv', 16);
    const one = await seen(prepareHere(spec));
    const plan = (await planPieces(spec, listed, 3)) as Exclude<Awaited<ReturnType<typeof planPieces>>, string>;
    expect(plan.pieces[plan.pieces.length - 1].end).toBe(statSync(file).size);
    const many = await seen(prepareInPieces(spec, plan.pieces, (s) => prepareHere(s), plan.readers));
    expect({ ...many, readers: undefined }).toEqual({ ...one, readers: undefined });
    expect((many.chunks as { rowsIn: number }[]).reduce((n, c) => n + c.rowsIn, 0)).toBe(400);
    // Grown after the plan: the input fails instead of a sha256 over bytes no reader read.
    const again = (await planPieces(spec, statSync(file).size, 3)) as Exclude<Awaited<ReturnType<typeof planPieces>>, string>;
    writeFileSync(file, rows(400, 10), { flag: 'a' });
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const late = await seen(prepareInPieces(spec, again.pieces, (s) => prepareHere(s), again.readers));
    expect(late).toMatchObject({ error: 'it changed while it was being read; run again to read the new version', context: { file: 'in.csv' } });
  });

  it('fails a piece with the line of the whole file, after the rows before it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `${i},t,${i},${i / 2}`);
    const bytes = Buffer.concat([Buffer.from(`id,s,a,b\n${rows.join('\n')}\n`), Buffer.from([0x31, 0x2c, 0xff, 0x2c, 0x31, 0x2c, 0x32, 0x0a]), Buffer.from(`${rows.join('\n')}\n`)]);
    writeFileSync(file, bytes);
    const { one, many } = await compare(file, 'csv', 4, [100, 600, 900], true);
    expect(one).toMatchObject({ error: expect.stringContaining('not valid UTF-8'), context: { line: 42 } });
    expect(many).toMatchObject({ context: { line: 42 } });
  });

  it('reads a file whose header holds a quote, gzip data, or no line start at a cut, with one reader', async () => {
    const dir = tempDir();
    const quoted = path.join(dir, 'q.csv');
    writeFileSync(quoted, `"id",s,a,b\n${'1,x,2,3\n'.repeat(100)}`);
    expect(await planPieces(specOf(quoted, 'csv', 8), statSync(quoted).size, 2)).toBe('its first line holds a quote character');
    const gz = path.join(dir, 'g.csv');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]));
    expect(await planPieces(specOf(gz, 'csv', 8), 6, 2)).toBe('gzip data can only be read from its start');
    // How many readers (for which the model is timed) is asked only of a file that can be cut.
    const asked: number[] = [];
    const readers = async (lineBytes: number) => (asked.push(lineBytes), 2);
    expect(await planPieces(specOf(gz, 'csv', 8), 6, readers)).toBe('gzip data can only be read from its start');
    expect(await planPieces(specOf(quoted, 'csv', 8), statSync(quoted).size, readers)).toBe('its first line holds a quote character');
    expect(asked).toEqual([]);
    const cr = path.join(dir, 'cr.csv');
    writeFileSync(cr, `id,s,a,b\r${'1,x,2,3\r'.repeat(30)}`);
    expect(await planPieces(specOf(cr, 'csv', 8), statSync(cr).size, 3)).toBe('no line starts where the cuts fall');
  });
});

// The generated Parquet file's columns (test/support/parquet.ts) as a job reads them: a, b, c and flag into a
// float32 tensor (missing: reject), id, ts and note passed through.
function parquetSpec(file: string, batchSize: number): PrepareSpec {
  const columns = ['a', 'b', 'c', 'flag'].map((name) => ({ name, missing: { kind: 'reject' as const } }));
  const text = (name: string) => ({ name, number: false, text: true });
  const number = (name: string) => ({ name, number: true, text: false });
  return {
    ...specOf(file, 'parquet', batchSize),
    plan: {
      needs: [text('id'), text('ts'), text('note'), ...['a', 'b', 'c', 'flag'].map(number)],
      tensors: [{ input: 'input', type: 'float32', columns, rank: 2 }],
      passthrough: ['id', 'ts', 'note'],
    },
  };
}

describe('several readers of a Parquet file = one reader', () => {
  it('on generated files with nulls, uneven row groups, small chunks and 2 to 5 readers', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.parquet');
    let shared = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 2, max: 5 }),
        async (rows, groups, batch, n) => {
          writeFileSync(file, mixedParquet(rows, groups, { seed: rows + 1 }));
          const spec = parquetSpec(file, batch);
          const one = await seen(prepareHere(spec));
          const share = await planRowGroups(spec, () => n);
          if (typeof share === 'string') return;
          shared++;
          const { readers, ...many } = await seen(prepareInRowGroups(spec, share, (s) => prepareHere(s)));
          expect(readers).toBe(share.readers.length);
          expect(many).toEqual(one);
        },
      ),
      { numRuns: 120, seed: 19 },
    );
    expect(shared).toBeGreaterThan(60);
  });

  it('in reader threads: rows in file order, rejects numbered by the file, the sha256 of the file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.parquet');
    writeFileSync(file, mixedParquet(5000, [1200, 300, 300, 900, 2300]));
    const spec = parquetSpec(file, 256);
    const share = (await planRowGroups(spec, () => 3)) as GroupShare;
    expect(share.readers).toEqual([[0], [1, 3], [2, 4]]);
    const one = await seen(prepareHere(spec));
    const many = await seen(prepareInRowGroups(spec, share));
    expect(many).toEqual({ ...one, readers: 3 });
    // What one reader gives is itself right: ids in order, each reject on its row of the file.
    const chunks = many.chunks as { passthrough: string[][]; rejects: { line: number }[] }[];
    const ids = chunks.flatMap((c) => c.passthrough[0]);
    const rejected = Array.from({ length: 5000 }, (_, i) => i).filter((i) => rejectedRow(i));
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => `r${i}`).filter((_, i) => !rejectedRow(i)));
    expect(chunks.flatMap((c) => c.rejects.map((r) => r.line))).toEqual(rejected.map((i) => i + 1));
    expect(many.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });

  it('fails where one reader fails, after the same chunks', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.parquet');
    const buf = mixedParquet(400, 100);
    // The page header that starts row group 3 made unreadable.
    const { parquetBuffer, parquetRowGroups } = await import('../../src/io/parquet/index.js');
    const { starts } = await parquetRowGroups(parquetBuffer(buf), 'in.parquet');
    buf.fill(0xff, starts[2], starts[2] + 16);
    writeFileSync(file, buf);
    const spec = parquetSpec(file, 64);
    const one = await seen(prepareHere(spec));
    expect(one).toMatchObject({ error: expect.stringContaining('row group 3') });
    const many = await seen(prepareInRowGroups(spec, (await planRowGroups(spec, () => 3)) as GroupShare, (s) => prepareHere(s)));
    expect(many).toEqual(one);
  });

  it('fails, rather than mix two files, when the file is replaced after the row groups were shared', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.parquet');
    writeFileSync(file, mixedParquet(400, 100));
    const spec = parquetSpec(file, 64);
    const share = (await planRowGroups(spec, () => 2)) as GroupShare;
    // The same layout (row groups of the same sizes), other values.
    writeFileSync(file, mixedParquet(400, 100, { seed: 99 }));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const got = await seen(prepareInRowGroups(spec, share, (s) => prepareHere(s)));
    expect(got).toMatchObject({ chunks: [], error: 'it changed while it was being read; run again to read the new version', context: { file: 'in.parquet' } });
  });

  it('reads a file of one row group with one reader', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'one.parquet');
    writeFileSync(file, mixedParquet(500, 1000));
    expect(await planRowGroups(parquetSpec(file, 64), () => 3)).toBe('one row group');
  });
});

describe('sharing row groups among readers', () => {
  it('gives equal groups in turn and uneven ones by rows, each group once, in file order per reader', () => {
    expect(shareGroups([5, 5, 5, 5, 5], 2)).toEqual([[0, 2, 4], [1, 3]]);
    // The large first group is one reader's while the other reads the small ones after it.
    expect(shareGroups([100, 10, 10, 10, 10, 100, 10], 2)).toEqual([[0, 6], [1, 2, 3, 4, 5]]);
    expect(shareGroups([1, 1], 3)).toEqual([[0], [1]]);
  });

  it('chooses text readers by the bytes read against the model, leaving a core to the main thread', () => {
    // The bench's 282 MB CSV, a light model: one reader on 2 cores, one per core but one on 8, one per 32 MiB.
    expect(readerCount(282e6, 282, 1e-6, undefined, 2)).toBe(1);
    expect(readerCount(282e6, 282, 1e-6, undefined, 8)).toBe(7);
    expect(readerCount(282e6, 282, 1e-6, undefined, 16)).toBe(8);
    // A model costing as much as the reading: half the other cores read.
    expect(readerCount(282e6, 282, 2e-3, undefined, 9)).toBe(4);
    expect(readerCount(282e6, 282, 1e-6, 3, 2)).toBe(3);
  });

  it('chooses readers by the values read against the model, at most one per core and per row group', () => {
    // 2M rows × 30 columns: ~3 s of reading; a light model: a reader per core but the main thread's.
    expect(parquetReaderCount(2e6, 30, 10, 1e-6, undefined, 4)).toBe(3);
    expect(parquetReaderCount(2e6, 30, 10, 1e-6, undefined, 2)).toBe(1);
    // A model costing ten times the reading: one reader.
    expect(parquetReaderCount(2e6, 30, 10, 15e-3, undefined, 4)).toBe(1);
    // Too little reading to pay for a thread (each reader beyond the first needs ~1 s): flights-3m's 2 columns.
    expect(parquetReaderCount(3e6, 2, 11, 1e-6, undefined, 8)).toBe(1);
    expect(parquetReaderCount(2e6, 30, 10, undefined, undefined, 16)).toBe(3);
    // input.readers wins, but a reader needs a row group.
    expect(parquetReaderCount(1e3, 1, 4, 1, 3, 2)).toBe(3);
    expect(parquetReaderCount(3e6, 2, 2, 1e-6, 8, 16)).toBe(2);
  });
});

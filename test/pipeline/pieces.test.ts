// Several readers over one file give exactly what one reader gives: the same chunks (rows, tensors bit for
// bit, passthrough cells, rejects with their lines and fields, rows read per chunk) and the same error — on
// generated CSV with quoted fields that hold line breaks (CRLF too), ragged rows, bad quotes, cells that are
// not numbers, blank lines, and on JSON Lines; cut at random places, into 2 to 6 pieces, with small chunks.
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readerCuts } from '../../src/io/split.js';
import { piecesOf, planPieces, prepareInPieces } from '../../src/pipeline/pieces.js';
import { prepareHere, type Prepared, type PrepareSpec } from '../../src/pipeline/prepare.js';
import type { TextFormat } from '../../src/job/config.js';
import { openSource } from '../../src/storage/source.js';
import { unpackText } from '../../src/table/packed.js';
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
  const many = await seen(prepareInPieces(spec, piecesOf(cuts.starts, cuts.header, bytes), threads ? undefined : (s) => prepareHere(s)));
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
    const cr = path.join(dir, 'cr.csv');
    writeFileSync(cr, `id,s,a,b\r${'1,x,2,3\r'.repeat(30)}`);
    expect(await planPieces(specOf(cr, 'csv', 8), statSync(cr).size, 3)).toBe('no line starts where the cuts fall');
  });
});

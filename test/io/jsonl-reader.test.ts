import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { readJsonl } from '../../src/io/jsonl-reader.js';
import type { ColumnNeed } from '../../src/table/chunk.js';
import { INVALID, MISSING, OK } from '../../src/table/numbers.js';
import type { ReadContext } from '../../src/table/reader.js';
import { blocksOf, bytes, oneByteBlocks, plain, splitAt, type Input, type PlainChunk } from '../support/csv.js';

const NEEDS: ColumnNeed[] = [
  { name: 'x', number: true, text: false },
  { name: 'id', number: false, text: true },
];

async function read(parts: Input | Input[], ctx: Partial<ReadContext> = {}): Promise<PlainChunk[]> {
  const list = (Array.isArray(parts) ? parts : [parts]).map(bytes);
  const out: PlainChunk[] = [];
  for await (const c of readJsonl(blocksOf(list), { file: 'in.jsonl', needs: NEEDS, batchSize: 1000, ...ctx })) out.push(plain(c));
  return out;
}

async function readError(parts: Input | Input[], ctx: Partial<ReadContext> = {}): Promise<SbError> {
  try {
    await read(parts, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    return err as SbError;
  }
  throw new Error('expected readJsonl to fail');
}

describe('readJsonl', () => {
  it('reads keys as columns, numbers as numbers, physical lines, skipping blank lines', async () => {
    const [c] = await read('{"x": 1.5, "id": "a"}\n\n  \n{"id": "b", "x": -2, "other": [1]}\r\n{"x": 3, "id": "c"}');
    expect(c.header).toEqual(['x', 'id']);
    expect(c.lines).toEqual([1, 4, 5]);
    expect(c.numbers.x).toEqual({ values: [1.5, -2, 3], status: [OK, OK, OK] });
    expect(c.texts.id).toEqual(['a', 'b', 'c']);
    expect(c.records).toEqual([['1.5', 'a'], ['-2', 'b'], ['3', 'c']]);
  });

  it('maps nulls and mixed types as documented', async () => {
    const needs: ColumnNeed[] = [{ name: 'v', number: true, text: true }];
    const lines = [
      '{"v": null}',
      '{}',
      '{"v": "2.5"}',
      '{"v": "NA"}',
      '{"v": ""}',
      '{"v": "abc"}',
      '{"v": true}',
      '{"v": false}',
      '{"v": [1, 2]}',
      '{"v": {"a": 1}}',
      '{"v": 12345678901234567890}',
      '{"v": 1.50}',
      '{"v": 1e400}',
      '{"v": " 7 "}',
    ];
    const [c] = await read(lines.join('\n'), { needs });
    expect(c.texts.v).toEqual(['', '', '2.5', 'NA', '', 'abc', 'true', 'false', '[1,2]', '{"a":1}', '12345678901234567890', '1.50', '1e400', ' 7 ']);
    expect(c.numbers.v.status).toEqual([MISSING, MISSING, OK, MISSING, MISSING, INVALID, OK, OK, INVALID, INVALID, OK, OK, OK, OK]);
    expect(c.numbers.v.values.filter((_, i) => c.numbers.v.status[i] === OK)).toEqual([2.5, 1, 0, 12345678901234567890, 1.5, Infinity, 7]);
  });

  it('reads dotted paths into nested objects; a key with a dot wins', async () => {
    const needs: ColumnNeed[] = [
      { name: 'a.b', number: true, text: false },
      { name: 'u.v.w', number: false, text: true },
    ];
    const [c] = await read(['{"a": {"b": 4}, "u": {"v": {"w": "deep"}}}', '{"a.b": 5, "a": {"b": 6}, "u": {"v": 1}}', '{"a": [1], "u": null}'].join('\n'), { needs });
    expect(c.numbers['a.b'].values.slice(0, 2)).toEqual([4, 5]);
    expect(c.numbers['a.b'].status).toEqual([OK, OK, MISSING]);
    expect(c.texts['u.v.w']).toEqual(['deep', '', '']);
  });

  it('rejects lines that are not objects or not JSON, with their line and text, and reads on', async () => {
    const text = ['{"x": 1, "id": "a"}', '[1, 2]', '"just a string"', '{"x": 2, "id": }', 'null', '{"x": 3, "id": "b"}'].join('\n');
    const [c] = await read(text);
    expect(c.lines).toEqual([1, 6]);
    expect(c.rejects).toEqual([
      { line: 2, error: 'the line is an array, not a JSON object', fields: ['[1, 2]'] },
      { line: 3, error: 'the line is a string, not a JSON object', fields: ['"just a string"'] },
      { line: 4, error: "not valid JSON: expected a value, got '}' at character 16", fields: ['{"x": 2, "id": }'] },
      { line: 5, error: 'the line is null, not a JSON object', fields: ['null'] },
    ]);
  });

  it('rejects a line that is not valid UTF-8', async () => {
    const buf = Buffer.concat([Buffer.from('{"x": 1, "id": "a"}\n{"x": 2, "id": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"x": 3, "id": "c"}\n')]);
    const [c] = await read(buf);
    expect(c.lines).toEqual([1, 3]);
    expect(c.rejects.map((r) => [r.line, r.error])).toEqual([[2, 'bytes that are not valid UTF-8 (JSON Lines must be UTF-8)']]);
  });

  it('ignores a byte-order mark', async () => {
    const [c] = await read('\uFEFF{"x": 1, "id": "a"}\n');
    expect(c.texts.id).toEqual(['a']);
  });

  it('fails on a key none of the first objects has, with a did-you-mean', async () => {
    const e = await readError('{"x": 1, "idd": "a"}\n{"x": 2, "idd": "b"}\n');
    expect(e.code).toBe('INPUT_FAILED');
    expect(e.message).toBe("key 'id' is in none of the first 2 objects, did you mean 'idd'? (keys: x, idd)");
  });

  it('takes a key absent from some lines as missing', async () => {
    const [c] = await read('{"x": 1}\n{"x": 2, "id": "b"}\n');
    expect(c.texts.id).toEqual(['', 'b']);
  });

  it('cuts chunks at batch_size and stops at the limit (rejects count)', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => (i === 3 ? 'oops' : `{"x": ${i}, "id": "r${i}"}`)).join('\n');
    const chunks = await read(lines, { batchSize: 4 });
    expect(chunks.map((c) => c.rows)).toEqual([4, 4, 1]);
    expect(chunks[0].rejects.map((r) => r.line)).toEqual([4]);
    const limited = await read(lines, { batchSize: 4, limit: 5 });
    expect(limited.flatMap((c) => c.lines)).toEqual([1, 2, 3, 5]);
    expect(limited.flatMap((c) => c.rejects).length).toBe(1);
  });

  it('gives the same chunks however the bytes are cut into blocks', async () => {
    const text = '{"x": 1, "id": "é"}\r\n\n{"x": 2.5e3, "id": "b"}\n[]\n{"x": null, "id": "\\u00e9"}\n';
    const whole = await read(text);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(text.length + 4), { maxLength: 6 }), async (cuts) => {
        expect(await read(splitAt(bytes(text), cuts))).toEqual(whole);
      }),
      { numRuns: 100 },
    );
    expect(await read(oneByteBlocks(bytes(text)))).toEqual(whole);
  });

  it('fails on a line longer than the record limit', async () => {
    const e = await readError([Buffer.alloc(65 * 1024 * 1024, 0x20)]);
    expect(e.message).toMatch(/^a line longer than 64 MiB/);
  });
});
